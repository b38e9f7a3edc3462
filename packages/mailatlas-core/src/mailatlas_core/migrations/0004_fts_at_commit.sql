-- 0004: new documents enter the full-text index in one statement per commit, written by
-- the store just before COMMIT (SQLiteStore._index_new), instead of a trigger per row.
-- A per-row trigger inside the per-message savepoint made FTS5 flush a one-document
-- segment for every message (and then merge them): about half the cost of an add.
-- Deletes and updates stay on triggers; every committed document is indexed.
DROP TRIGGER documents_fts_ai;
