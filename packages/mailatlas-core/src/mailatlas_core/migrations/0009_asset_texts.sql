-- 0009: the text read from attachments (PDF, Office, HTML, CSV, plain text), one row per
-- asset stored since (with its status: ok, failed, skipped, unsupported, not_installed);
-- assets stored before have none. Searched through its own full-text index, written by
-- the store just before COMMIT like the documents' (0004); a trigger drops an entry
-- with its row (deleting a document cascades to its assets and their texts).
CREATE TABLE asset_texts (
    seq          INTEGER PRIMARY KEY,         -- stable rowid for asset_texts_fts
    asset_id     TEXT NOT NULL UNIQUE REFERENCES assets (id) ON DELETE CASCADE,
    document_id  TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    chars        INTEGER NOT NULL DEFAULT 0,
    truncated    INTEGER NOT NULL DEFAULT 0,
    error        TEXT,
    extractor    TEXT,
    text         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX asset_texts_document ON asset_texts (document_id);
CREATE VIRTUAL TABLE asset_texts_fts USING fts5 (
    text, content = 'asset_texts', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER asset_texts_fts_ad AFTER DELETE ON asset_texts WHEN old.text != '' BEGIN
    INSERT INTO asset_texts_fts (asset_texts_fts, rowid, text) VALUES ('delete', old.seq, old.text);
END;
