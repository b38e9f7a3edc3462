-- 0005: as SQLite migration 0010: `list --sender ADDRESS` (lower(sender_email) = lower(?))
-- walks one sender's mail newest first and stops after the page, instead of sorting all of
-- that sender's documents.
DROP INDEX documents_sender;
CREATE INDEX documents_sender ON documents
    (lower(sender_email), received_at DESC NULLS LAST, created_at DESC);
