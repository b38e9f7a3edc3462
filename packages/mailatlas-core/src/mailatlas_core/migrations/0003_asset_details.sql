-- 0003: asset file names and sizes (beyond the original schema).
ALTER TABLE assets ADD COLUMN filename TEXT NOT NULL DEFAULT '';
ALTER TABLE assets ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
UPDATE assets SET filename = replace(file_path, rtrim(file_path, replace(file_path, '/', '')), '');
