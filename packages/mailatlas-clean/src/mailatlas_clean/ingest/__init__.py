"""mailatlas_clean.ingest: see the package docstring."""
