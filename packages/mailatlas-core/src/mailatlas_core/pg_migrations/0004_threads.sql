-- 0004: real threads (issue 17), as SQLite migration 0008: each document's reference
-- chain (threads.parent_chain: References then In-Reply-To, oldest first), so that adding
-- a message finds the threads it joins or merges. (The PostgreSQL backend is newer than
-- threads: no released database holds documents without their chains.)
CREATE TABLE thread_links (
    document_id  text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    position     integer NOT NULL,
    message_id   text NOT NULL,
    PRIMARY KEY (document_id, position)
);
CREATE INDEX thread_links_message_id ON thread_links (message_id);
