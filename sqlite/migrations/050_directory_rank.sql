-- The directory's FTS rowid becomes (follower bucket << 32) | channels.pk,
-- so FTS5 returns matches most-followed first (ORDER BY rowid DESC) and a
-- search reads one page of matches plus the rest of the last bucket,
-- instead of joining and sorting every match: a common word matches tens of
-- thousands of channels in a million. herald_fts_rowid() is a Go function
-- (sqlite/directory.go): buckets are exact below 64 followers, then 8 per
-- doubling, so a channel's row moves only when its count crosses one.

DROP TRIGGER directory_fts_insert;
DROP TRIGGER directory_fts_update;
DROP TRIGGER directory_fts_delete;
DROP TABLE directory_fts;

CREATE VIRTUAL TABLE directory_fts USING fts5(
	name, handle, description,
	content = '', contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 0',
	prefix = '1 2 3'
);

INSERT INTO directory_fts (rowid, name, handle, description)
SELECT herald_fts_rowid(follower_count, pk), herald_fold(name), herald_fold(coalesce(handle, '')), herald_fold(description)
FROM channels WHERE listed = 1;

CREATE TRIGGER directory_fts_insert AFTER INSERT ON channels WHEN NEW.listed BEGIN
	INSERT INTO directory_fts (rowid, name, handle, description)
	VALUES (herald_fts_rowid(NEW.follower_count, NEW.pk), herald_fold(NEW.name), herald_fold(coalesce(NEW.handle, '')), herald_fold(NEW.description));
END;

-- Both row ids are deleted first: one UPDATE may change text and followers
-- at once, and then both triggers run.
CREATE TRIGGER directory_fts_update AFTER UPDATE OF name, handle, description, listed ON channels BEGIN
	DELETE FROM directory_fts WHERE rowid = herald_fts_rowid(OLD.follower_count, OLD.pk);
	DELETE FROM directory_fts WHERE rowid = herald_fts_rowid(NEW.follower_count, NEW.pk);
	INSERT INTO directory_fts (rowid, name, handle, description)
	SELECT herald_fts_rowid(NEW.follower_count, NEW.pk), herald_fold(NEW.name), herald_fold(coalesce(NEW.handle, '')), herald_fold(NEW.description)
	WHERE NEW.listed;
END;

CREATE TRIGGER directory_fts_followers AFTER UPDATE OF follower_count ON channels
WHEN herald_fts_rowid(OLD.follower_count, OLD.pk) <> herald_fts_rowid(NEW.follower_count, NEW.pk) BEGIN
	DELETE FROM directory_fts WHERE rowid = herald_fts_rowid(OLD.follower_count, OLD.pk);
	DELETE FROM directory_fts WHERE rowid = herald_fts_rowid(NEW.follower_count, NEW.pk);
	INSERT INTO directory_fts (rowid, name, handle, description)
	SELECT herald_fts_rowid(NEW.follower_count, NEW.pk), herald_fold(NEW.name), herald_fold(coalesce(NEW.handle, '')), herald_fold(NEW.description)
	WHERE NEW.listed;
END;

CREATE TRIGGER directory_fts_delete AFTER DELETE ON channels BEGIN
	DELETE FROM directory_fts WHERE rowid = herald_fts_rowid(OLD.follower_count, OLD.pk);
	DELETE FROM directory_activity WHERE channel_pk = OLD.pk;
END;
