"""``python -m mailatlas_cli``: the same as the ``mailatlas`` command."""

from ._main import main

main()
