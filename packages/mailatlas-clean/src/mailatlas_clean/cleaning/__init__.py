"""The six cleaning rules applied to ``body_text`` (see ``docs/cleaning.md``)."""

from ._pipeline import CleanResult, clean_text

__all__ = ["CleanResult", "clean_text"]
