-- 0002: the work queue of `mailatlas worker` (the same table as SQLite's 0007).
-- lease_expires and heartbeat_at are Unix seconds of the database server's clock, so
-- workers on hosts whose clocks disagree still agree on when a lease is over.
CREATE TABLE work_items (
    account          text NOT NULL,
    folder           text NOT NULL,
    state            text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'leased', 'done', 'failed')),
    owner            text,
    lease_expires    double precision,
    heartbeat_at     double precision,
    attempts         integer NOT NULL DEFAULT 0,
    max_connections  integer NOT NULL DEFAULT 1 CHECK (max_connections >= 1),
    error            text,
    run_id           bigint,
    enqueued_at      text COLLATE "C" NOT NULL,
    updated_at       text COLLATE "C" NOT NULL,
    PRIMARY KEY (account, folder)
);
CREATE INDEX work_items_by_state ON work_items (state, enqueued_at);
