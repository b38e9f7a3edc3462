-- 0007: the work queue of `mailatlas worker` (issue 14): one item per (account, folder),
-- leased by one worker at a time. lease_expires and heartbeat_at are Unix seconds; an
-- item whose lease has expired may be taken by another worker, which resumes from the
-- folder's committed cursor. max_connections is the account's connection limit: live
-- leases of one account never exceed it.
CREATE TABLE work_items (
    account TEXT NOT NULL,
    folder TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'leased', 'done', 'failed')),
    owner TEXT,
    lease_expires REAL,
    heartbeat_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_connections INTEGER NOT NULL DEFAULT 1 CHECK (max_connections >= 1),
    error TEXT,
    run_id INTEGER,
    enqueued_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (account, folder)
);
CREATE INDEX work_items_by_state ON work_items (state, enqueued_at);
