-- 0011: what a live mailbox says about each IMAP location (issue 16). flags: system flags
-- (\Seen \Flagged ...) and keywords ($Label1 ...), each sorted and space-separated, ''
-- for none, NULL while not known; modseq: the message's MODSEQ (CONDSTORE); removed_at:
-- when the message was found gone from its folder (expunged or moved away).
ALTER TABLE locations ADD COLUMN flags TEXT;
ALTER TABLE locations ADD COLUMN keywords TEXT;
ALTER TABLE locations ADD COLUMN modseq INTEGER;
ALTER TABLE locations ADD COLUMN removed_at TEXT;
CREATE INDEX locations_imap ON locations (folder, uid) WHERE kind = 'imap';
-- Locations stored before this knew no flags: forget the change cursor, so the next sync
-- of each folder compares every message in full (and fills them) instead of asking only
-- for changes since a HIGHESTMODSEQ.
UPDATE imap_cursors SET highestmodseq = NULL, uidnext = NULL;
