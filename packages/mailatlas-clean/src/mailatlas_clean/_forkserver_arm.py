"""Imported only as a forkserver preload module: the forkserver dies with its caller.

Never import this anywhere else: importing it asks the kernel to kill the importing
process when its parent exits (see ``_lifeline``).
"""

from ._lifeline import die_with_parent

die_with_parent()
