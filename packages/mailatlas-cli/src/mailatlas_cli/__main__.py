"""``python -m mailatlas_cli``: the same as the ``mailatlas`` command."""

from .main import main

main()
