-- 0005: To/Cc/Bcc addresses and names become searchable (list --query, --to, --cc).
-- documents.recipients holds them as text ("Name address ..."); the full-text index is
-- rebuilt with that column between sender_email and body_text.
ALTER TABLE documents ADD COLUMN recipients TEXT NOT NULL DEFAULT '';
UPDATE documents SET recipients = coalesce((
    SELECT group_concat(trim(coalesce(json_extract(r.value, '$.name'), '') || ' '
                             || coalesce(json_extract(r.value, '$.email'), '')), ' ')
    FROM json_each(documents.metadata, '$.recipients') AS k, json_each(k.value) AS r
    WHERE k.key IN ('to', 'cc', 'bcc')
), '')
WHERE json_valid(metadata);
DROP TRIGGER documents_fts_ad;
DROP TRIGGER documents_fts_au;
DROP TABLE documents_fts;
CREATE VIRTUAL TABLE documents_fts USING fts5 (
    subject, sender_name, sender_email, recipients, body_text,
    content = 'documents', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO documents_fts (documents_fts) VALUES ('rebuild');
CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN
    INSERT INTO documents_fts (documents_fts, rowid, subject, sender_name, sender_email,
                               recipients, body_text)
    VALUES ('delete', old.seq, old.subject, old.sender_name, old.sender_email,
            old.recipients, old.body_text);
END;
CREATE TRIGGER documents_fts_au
AFTER UPDATE OF subject, sender_name, sender_email, recipients, body_text ON documents BEGIN
    INSERT INTO documents_fts (documents_fts, rowid, subject, sender_name, sender_email,
                               recipients, body_text)
    VALUES ('delete', old.seq, old.subject, old.sender_name, old.sender_email,
            old.recipients, old.body_text);
    INSERT INTO documents_fts (rowid, subject, sender_name, sender_email, recipients, body_text)
    VALUES (new.seq, new.subject, new.sender_name, new.sender_email, new.recipients,
            new.body_text);
END;
