-- 0003: the text read from attachments (the same table as SQLite's 0009), with its own
-- search vector (written by the backend like documents.search, see _pg_search.py).
CREATE TABLE asset_texts (
    asset_id     text PRIMARY KEY REFERENCES assets (id) ON DELETE CASCADE,
    document_id  text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    status       text NOT NULL,
    chars        bigint NOT NULL DEFAULT 0,
    truncated    boolean NOT NULL DEFAULT false,
    error        text,
    extractor    text,
    text         text NOT NULL DEFAULT '',
    search       tsvector NOT NULL DEFAULT ''::tsvector
);
CREATE INDEX asset_texts_document ON asset_texts (document_id);
CREATE INDEX asset_texts_search ON asset_texts USING gin (search);
