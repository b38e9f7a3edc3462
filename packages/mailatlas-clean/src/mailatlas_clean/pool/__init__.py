"""mailatlas_clean.pool: see the package docstring."""
