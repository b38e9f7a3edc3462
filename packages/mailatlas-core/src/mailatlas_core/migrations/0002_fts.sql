-- 0002: full-text search over subject, sender and body, kept in sync by triggers.
CREATE VIRTUAL TABLE documents_fts USING fts5 (
    subject, sender_name, sender_email, body_text,
    content = 'documents', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO documents_fts (rowid, subject, sender_name, sender_email, body_text)
    SELECT seq, subject, sender_name, sender_email, body_text FROM documents;
CREATE TRIGGER documents_fts_ai AFTER INSERT ON documents BEGIN
    INSERT INTO documents_fts (rowid, subject, sender_name, sender_email, body_text)
    VALUES (new.seq, new.subject, new.sender_name, new.sender_email, new.body_text);
END;
CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN
    INSERT INTO documents_fts (documents_fts, rowid, subject, sender_name, sender_email, body_text)
    VALUES ('delete', old.seq, old.subject, old.sender_name, old.sender_email, old.body_text);
END;
CREATE TRIGGER documents_fts_au AFTER UPDATE OF subject, sender_name, sender_email, body_text
ON documents BEGIN
    INSERT INTO documents_fts (documents_fts, rowid, subject, sender_name, sender_email, body_text)
    VALUES ('delete', old.seq, old.subject, old.sender_name, old.sender_email, old.body_text);
    INSERT INTO documents_fts (rowid, subject, sender_name, sender_email, body_text)
    VALUES (new.seq, new.subject, new.sender_name, new.sender_email, new.body_text);
END;
