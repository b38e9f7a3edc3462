"""Readers: mail files in, one raw message at a time out (mbox, Maildir, .eml
files and the paths the ingest functions accept), in constant memory.

Internal: the package's API is what ``mailatlas_clean`` exports.
"""
