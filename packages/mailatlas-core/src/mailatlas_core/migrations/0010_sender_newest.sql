-- 0010: `list --sender ADDRESS` compares the address in any case (COLLATE NOCASE) and
-- returns the newest first. The index of 0001 compared bytes, so no such query could use
-- it: every document was read. This one answers the address and its order together, so a
-- page of one sender's mail stops after the page.
DROP INDEX documents_sender;
CREATE INDEX documents_sender ON documents
    (sender_email COLLATE NOCASE, received_at DESC, created_at DESC);
