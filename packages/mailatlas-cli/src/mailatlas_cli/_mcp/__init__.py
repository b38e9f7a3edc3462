"""``mailatlas mcp``: an MCP server over the store (see docs/agents.md).

:func:`serve` runs it on stdio or, with ``http``, as Streamable HTTP on a loopback
address. Nothing here is imported until the command runs.
"""

from __future__ import annotations

from ._serve import LoopbackOnlyError, check_loopback, serve

__all__ = ["LoopbackOnlyError", "check_loopback", "serve"]
