"""The message-to-store pipeline file ingest and IMAP sync share: dedupe, store,
and the bounded log of the refs a run created.

Internal: the package's API is what ``mailatlas_clean`` exports.
"""
