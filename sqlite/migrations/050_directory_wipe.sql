-- Deleting a channel erases it (issue 2), and so does replacing its words
-- (rename, new description): they must leave the search index's pages, not
-- linger there behind a delete marker until a merge. FTS5 can only remove a
-- row's postings if it is told the row's words, so the index becomes a plain
-- contentless table whose rows are deleted with the 'delete' command and the
-- old folded values (herald_fold is deterministic), and 'secure-delete'
-- makes deletions remove postings at once; the connection's secure_delete
-- pragma zeroes what they free.
--
-- One trigger handles every change of an indexed row (text, listing, follower
-- bucket), so a statement changing several never deletes a row twice.

DROP TRIGGER directory_fts_insert;
DROP TRIGGER directory_fts_update;
DROP TRIGGER directory_fts_followers;
DROP TRIGGER directory_fts_delete;
DROP TABLE directory_vocab;
DROP TABLE directory_fts;

CREATE VIRTUAL TABLE directory_fts USING fts5(
	name, handle, description,
	content = '',
	tokenize = 'unicode61 remove_diacritics 0',
	prefix = '1 2 3'
);
INSERT INTO directory_fts (directory_fts, rank) VALUES ('secure-delete', 1);
CREATE VIRTUAL TABLE directory_vocab USING fts5vocab('directory_fts', 'row');

INSERT INTO directory_fts (rowid, name, handle, description)
SELECT herald_fts_rowid(follower_count, pk), herald_fold(name), herald_fold(coalesce(handle, '')), herald_fold(description)
FROM channels WHERE listed = 1;

CREATE TRIGGER directory_fts_insert AFTER INSERT ON channels WHEN NEW.listed BEGIN
	INSERT INTO directory_fts (rowid, name, handle, description)
	VALUES (herald_fts_rowid(NEW.follower_count, NEW.pk), herald_fold(NEW.name), herald_fold(coalesce(NEW.handle, '')), herald_fold(NEW.description));
END;

CREATE TRIGGER directory_fts_update AFTER UPDATE OF name, handle, description, listed, follower_count ON channels
WHEN OLD.name IS NOT NEW.name OR OLD.handle IS NOT NEW.handle OR OLD.description IS NOT NEW.description
	OR OLD.listed IS NOT NEW.listed
	OR herald_fts_rowid(OLD.follower_count, OLD.pk) <> herald_fts_rowid(NEW.follower_count, NEW.pk) BEGIN
	-- A move to another follower bucket keeps the same words: nothing to
	-- erase, so the old row goes with a plain delete marker (a secure delete
	-- rewrites every page holding one of its postings: ~1.5 ms a follow).
	INSERT INTO directory_fts (directory_fts, rank) SELECT 'secure-delete', 0
	WHERE OLD.name IS NEW.name AND OLD.handle IS NEW.handle AND OLD.description IS NEW.description AND OLD.listed IS NEW.listed;
	INSERT INTO directory_fts (directory_fts, rowid, name, handle, description)
	SELECT 'delete', herald_fts_rowid(OLD.follower_count, OLD.pk), herald_fold(OLD.name), herald_fold(coalesce(OLD.handle, '')), herald_fold(OLD.description)
	WHERE OLD.listed;
	INSERT INTO directory_fts (directory_fts, rank) SELECT 'secure-delete', 1
	WHERE OLD.name IS NEW.name AND OLD.handle IS NEW.handle AND OLD.description IS NEW.description AND OLD.listed IS NEW.listed;
	INSERT INTO directory_fts (rowid, name, handle, description)
	SELECT herald_fts_rowid(NEW.follower_count, NEW.pk), herald_fold(NEW.name), herald_fold(coalesce(NEW.handle, '')), herald_fold(NEW.description)
	WHERE NEW.listed;
END;

CREATE TRIGGER directory_fts_delete AFTER DELETE ON channels BEGIN
	INSERT INTO directory_fts (directory_fts, rowid, name, handle, description)
	SELECT 'delete', herald_fts_rowid(OLD.follower_count, OLD.pk), herald_fold(OLD.name), herald_fold(coalesce(OLD.handle, '')), herald_fold(OLD.description)
	WHERE OLD.listed;
	DELETE FROM directory_activity WHERE channel_pk = OLD.pk;
END;
