"""The extractor process: ``python -P -m mailatlas_clean.pool._extractor``.

The parser worker's program (``_main``) under its own name, so that it is told apart
from the parser workers in ``ps`` (and by tests that look for those). It serves in
extract mode: one attachment per request (see ``attachments._sandbox``).
"""

from __future__ import annotations

if __name__ == "__main__":
    from mailatlas_clean.pool._main import main

    main()
