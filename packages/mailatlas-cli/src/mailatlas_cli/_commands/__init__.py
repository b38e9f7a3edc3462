"""The ``mailatlas`` command tree: one module per command group."""
