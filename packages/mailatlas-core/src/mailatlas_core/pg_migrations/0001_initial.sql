-- 0001: the PostgreSQL schema, equal in content to SQLite migrations 0001-0006.
-- Dates are ISO-8601 UTC text, as in SQLite, compared byte-wise (COLLATE "C") whatever
-- the database's locale. metadata and locations stay `json` (text kept as written, key
-- order too), not `jsonb`. `search` is the full-text vector, written by the backend from
-- text folded and split the way SQLite's FTS5 tokenizer does (see _pg_search.py).
CREATE TABLE documents (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              text NOT NULL UNIQUE,
    source_kind     text NOT NULL,
    message_id      text,
    thread_id       text,
    subject         text NOT NULL DEFAULT '',
    sender_name     text,
    sender_email    text,
    author          text,
    received_at     text COLLATE "C",
    published_at    text COLLATE "C",
    body_text       text NOT NULL DEFAULT '',
    body_html_path  text,
    raw_path        text NOT NULL,
    content_hash    text NOT NULL UNIQUE,
    metadata        json NOT NULL DEFAULT '{}',
    created_at      text COLLATE "C" NOT NULL,
    in_reply_to     text,
    recipients      text NOT NULL DEFAULT '',
    headers_hash    text,
    body_hash       text,
    raw_size        bigint,
    search          tsvector NOT NULL DEFAULT ''::tsvector,
    UNIQUE (message_id, headers_hash, body_hash)
);
CREATE INDEX documents_newest ON documents (received_at DESC NULLS LAST, created_at DESC);
CREATE INDEX documents_sent ON documents ((coalesce(published_at, received_at)));
CREATE INDEX documents_thread ON documents (thread_id);
CREATE INDEX documents_sender ON documents (lower(sender_email));
CREATE INDEX documents_message_id ON documents (message_id);
CREATE INDEX documents_search ON documents USING gin (search);

CREATE TABLE assets (
    id           text PRIMARY KEY,
    document_id  text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    ordinal      integer NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('inline', 'attachment')),
    mime_type    text NOT NULL,
    file_path    text NOT NULL,
    cid          text,
    sha256       text NOT NULL,
    filename     text NOT NULL DEFAULT '',
    size         bigint NOT NULL DEFAULT 0,
    UNIQUE (document_id, ordinal)
);

CREATE TABLE locations (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id   text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    kind          text NOT NULL,
    key           text NOT NULL,
    path          text,
    "offset"      bigint,
    host          text,
    port          integer,
    username      text,
    folder        text,
    uid           bigint,
    uidvalidity   bigint,
    first_seen_at text COLLATE "C" NOT NULL,
    UNIQUE (document_id, key)
);
CREATE INDEX locations_folder ON locations (folder, document_id);

CREATE TABLE runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL,
    detail       json NOT NULL DEFAULT '{}',
    status       text NOT NULL DEFAULT 'running',
    summary      json,
    started_at   text COLLATE "C" NOT NULL,
    finished_at  text COLLATE "C"
);
CREATE INDEX runs_running ON runs (status) WHERE status = 'running';

CREATE TABLE failures (
    id            text PRIMARY KEY,
    run_id        bigint REFERENCES runs (id),
    kind          text NOT NULL,
    source        text NOT NULL,
    location      json NOT NULL,
    reason        text NOT NULL,
    raw_path      text,
    content_hash  text,
    created_at    text COLLATE "C" NOT NULL
);
CREATE INDEX failures_newest ON failures (created_at DESC, id);
CREATE INDEX failures_run ON failures (run_id);

CREATE TABLE imap_cursors (
    host           text NOT NULL,
    port           integer NOT NULL,
    username       text NOT NULL,
    folder         text NOT NULL,
    uidvalidity    bigint NOT NULL,
    last_uid       bigint NOT NULL DEFAULT 0,
    highestmodseq  bigint,
    uidnext        bigint,
    created_at     text COLLATE "C" NOT NULL,
    updated_at     text COLLATE "C" NOT NULL,
    PRIMARY KEY (host, port, username, folder)
);
