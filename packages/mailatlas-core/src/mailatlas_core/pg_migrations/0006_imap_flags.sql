-- 0006: what a live mailbox says about each IMAP location (the same as SQLite's 0011).
ALTER TABLE locations ADD COLUMN flags text;
ALTER TABLE locations ADD COLUMN keywords text;
ALTER TABLE locations ADD COLUMN modseq bigint;
ALTER TABLE locations ADD COLUMN removed_at text COLLATE "C";
CREATE INDEX locations_imap ON locations (folder, uid) WHERE kind = 'imap';
UPDATE imap_cursors SET highestmodseq = NULL, uidnext = NULL;
