import mailatlas_cli


def test_public_api_is_pinned() -> None:
    assert sorted(mailatlas_cli.__all__) == sorted(
        [
            "EXPORT_FORMATS",
            "BrowserNotFoundError",
            "ExportError",
            "ExportFormat",
            "ExportPathError",
            "IngestFailure",
            "IngestInterrupted",
            "IngestResult",
            "MailAtlas",
            "__version__",
        ]
    )
    for name in mailatlas_cli.__all__:
        assert hasattr(mailatlas_cli, name), name


def test_export_errors_join_the_mailatlas_error_tree() -> None:
    from mailatlas_core import MailAtlasError

    assert issubclass(mailatlas_cli.ExportError, MailAtlasError)
    assert issubclass(mailatlas_cli.BrowserNotFoundError, mailatlas_cli.ExportError)
    assert issubclass(mailatlas_cli.ExportPathError, mailatlas_cli.ExportError)


def test_export_formats() -> None:
    assert mailatlas_cli.EXPORT_FORMATS == ("json", "markdown", "html", "pdf")
