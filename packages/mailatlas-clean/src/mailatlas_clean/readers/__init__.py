"""mailatlas_clean.readers: see the package docstring."""
