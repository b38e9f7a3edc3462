"""The parser: one message's raw bytes in, one ``ParsedDocument`` out (the MIME
walk, headers, charsets, HTML sanitising and conversion, assets and their names,
the parse time budget).

Internal: the package's API is what ``mailatlas_clean`` exports.
"""
