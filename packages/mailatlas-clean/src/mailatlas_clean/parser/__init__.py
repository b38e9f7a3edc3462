"""mailatlas_clean.parser: see the package docstring."""
