-- 0008: real threads (issue 17). thread_links holds each document's reference chain
-- (threads.parent_chain: References then In-Reply-To, oldest first), so that adding a
-- message finds the threads it joins or merges. After these statements the migration
-- runs a Python step (migrate.PYTHON_STEPS: _sqlite_threads.backfill_threads) in the
-- same transaction: it fills the chains from each document's stored headers and
-- recomputes every thread id with the threading rule of mailatlas_core.threads.
CREATE TABLE thread_links (
    document_id  TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,          -- 0 is the oldest ancestor named
    message_id   TEXT NOT NULL,             -- normalised Message-ID of that ancestor
    PRIMARY KEY (document_id, position)
);
CREATE INDEX thread_links_message_id ON thread_links (message_id);
