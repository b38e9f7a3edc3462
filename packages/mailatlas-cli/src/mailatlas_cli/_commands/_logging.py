"""Library warnings (a reconnect, a skipped folder) as plain ``Warning: ...`` lines on stderr."""

from __future__ import annotations

import logging

import click

__all__ = ["install_stderr_logging"]

LOGGERS = ("mailatlas_core", "mailatlas_clean", "mailatlas_imap", "mailatlas_cli")


class _StderrHandler(logging.Handler):
    """Writes through click at emit time, so it follows whatever stderr is now."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = " ".join(self.format(record).split())
            click.echo(f"{record.levelname.capitalize()}: {message}", err=True)
        except Exception:  # logging must never break the command
            self.handleError(record)


def install_stderr_logging() -> None:
    """Route the MailAtlas loggers' warnings and errors to stderr (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
            handler = _StderrHandler(logging.WARNING)
            logger.addHandler(handler)
        logger.propagate = False
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
