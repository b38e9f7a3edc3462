-- 0001: documents, assets, locations, runs, failures, IMAP cursors.
CREATE TABLE documents (
    seq             INTEGER PRIMARY KEY,      -- stable rowid for the FTS index
    id              TEXT NOT NULL UNIQUE,     -- content-derived (see ids.document_id)
    source_kind     TEXT NOT NULL,
    message_id      TEXT UNIQUE,              -- normalised; NULL when absent
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
    in_reply_to     TEXT
);
CREATE INDEX documents_newest ON documents (received_at DESC, created_at DESC);
CREATE INDEX documents_thread ON documents (thread_id);
CREATE INDEX documents_sender ON documents (sender_email);

CREATE TABLE assets (
    id           TEXT PRIMARY KEY,
    document_id  TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    ordinal      INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('inline', 'attachment')),
    mime_type    TEXT NOT NULL,
    file_path    TEXT NOT NULL,               -- relative to the workspace
    cid          TEXT,
    sha256       TEXT NOT NULL,
    UNIQUE (document_id, ordinal)
);

CREATE TABLE locations (
    id            INTEGER PRIMARY KEY,
    document_id   TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    key           TEXT NOT NULL,
    path          TEXT,
    "offset"      INTEGER,
    host          TEXT,
    port          INTEGER,
    username      TEXT,
    folder        TEXT,
    uid           INTEGER,
    uidvalidity   INTEGER,
    first_seen_at TEXT NOT NULL,
    UNIQUE (document_id, key)
);
CREATE INDEX locations_folder ON locations (folder, document_id);

CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL DEFAULT 'running',
    summary      TEXT,
    started_at   TEXT NOT NULL,
    finished_at  TEXT
);

CREATE TABLE failures (
    id            TEXT PRIMARY KEY,           -- sha256(location key, raw hash)
    run_id        INTEGER REFERENCES runs (id),
    kind          TEXT NOT NULL,
    source        TEXT NOT NULL,
    location      TEXT NOT NULL,
    reason        TEXT NOT NULL,
    raw_path      TEXT,
    content_hash  TEXT,
    created_at    TEXT NOT NULL
);

CREATE TABLE imap_cursors (
    host           TEXT NOT NULL,
    port           INTEGER NOT NULL,
    username       TEXT NOT NULL,
    folder         TEXT NOT NULL,
    uidvalidity    INTEGER NOT NULL,
    last_uid       INTEGER NOT NULL DEFAULT 0,
    highestmodseq  INTEGER,
    uidnext        INTEGER,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (host, port, username, folder)
);
