"""Numbered schema migrations of the PostgreSQL backend (see ``mailatlas_core._pg_conn``)."""
