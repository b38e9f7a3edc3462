-- 0006: two different messages may claim one Message-ID (a forged one first). The
-- UNIQUE on message_id made the second a "duplicate" of the first; now both are stored
-- and linked (metadata.message_id_conflict). Dedupe stays by raw hash, or by Message-ID
-- plus the fingerprint of what copies of one message share (Date, From, Subject, body):
-- headers_hash, body_hash and raw_size, filled at insert (NULL for older rows, which are
-- fingerprinted from their raw file when needed). SQLite cannot drop a UNIQUE
-- constraint: the table is rebuilt, keeping seq (the full-text index's rowid).
-- mailatlas: foreign_keys=off
CREATE TABLE documents_new (
    seq             INTEGER PRIMARY KEY,      -- stable rowid for the FTS index
    id              TEXT NOT NULL UNIQUE,     -- content-derived (see ids.document_id)
    source_kind     TEXT NOT NULL,
    message_id      TEXT,                     -- normalised; NULL when absent
    thread_id       TEXT,
    subject         TEXT NOT NULL DEFAULT '',
    sender_name     TEXT,
    sender_email    TEXT,
    author          TEXT,
    received_at     TEXT,                     -- UTC ISO-8601
    published_at    TEXT,                     -- UTC ISO-8601
    body_text       TEXT NOT NULL DEFAULT '',
    body_html_path  TEXT,                     -- relative to the workspace
    raw_path        TEXT NOT NULL,            -- relative to the workspace
    content_hash    TEXT NOT NULL UNIQUE,     -- sha256 of the raw bytes
    metadata        TEXT NOT NULL DEFAULT '{}',
    created_at      TEXT NOT NULL,
    in_reply_to     TEXT,
    recipients      TEXT NOT NULL DEFAULT '',  -- 0005: To/Cc/Bcc as searchable text
    headers_hash    TEXT,                     -- ids.headers_hash (Date, From, Subject)
    body_hash       TEXT,                     -- ids.fingerprint(raw).body
    raw_size        INTEGER,                  -- bytes of the raw message
    UNIQUE (message_id, headers_hash, body_hash)
);
INSERT INTO documents_new (seq, id, source_kind, message_id, thread_id, subject, sender_name,
    sender_email, author, received_at, published_at, body_text, body_html_path, raw_path,
    content_hash, metadata, created_at, in_reply_to, recipients)
    SELECT seq, id, source_kind, message_id, thread_id, subject, sender_name, sender_email,
    author, received_at, published_at, body_text, body_html_path, raw_path, content_hash,
    metadata, created_at, in_reply_to, recipients FROM documents;
DROP TABLE documents;
ALTER TABLE documents_new RENAME TO documents;
CREATE INDEX documents_newest ON documents (received_at DESC, created_at DESC);
CREATE INDEX documents_thread ON documents (thread_id);
CREATE INDEX documents_sender ON documents (sender_email);
CREATE INDEX documents_message_id ON documents (message_id);
CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN
    INSERT INTO documents_fts (documents_fts, rowid, subject, sender_name, sender_email,
                               recipients, body_text)
    VALUES ('delete', old.seq, old.subject, old.sender_name, old.sender_email,
            old.recipients, old.body_text);
END;
CREATE TRIGGER documents_fts_au
AFTER UPDATE OF subject, sender_name, sender_email, recipients, body_text ON documents BEGIN
    INSERT INTO documents_fts (documents_fts, rowid, subject, sender_name, sender_email,
                               recipients, body_text)
    VALUES ('delete', old.seq, old.subject, old.sender_name, old.sender_email,
            old.recipients, old.body_text);
    INSERT INTO documents_fts (rowid, subject, sender_name, sender_email, recipients, body_text)
    VALUES (new.seq, new.subject, new.sender_name, new.sender_email, new.recipients,
            new.body_text);
END;
