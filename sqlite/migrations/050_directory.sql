-- The directory: full-text search over listed channels, the 7-day activity
-- used by sort=active, and a short log of sort-key changes that keeps cursor
-- walks stable. Everything here is maintained by triggers, so the channel
-- and update code never has to remember the directory.
--
-- herald_fold() is a Go function that package sqlite registers with the
-- driver (sqlite/directory.go): lowercase, accents removed, punctuation to
-- spaces, the same folding queries get. Writing to channels from a program
-- without that function (the sqlite3 shell) fails loudly rather than
-- leaving the index stale.

-- Only listed channels are indexed: unlisted ones can't be found by text.
-- Contentless: the folded text is not stored twice; rowid = channels.pk.
CREATE VIRTUAL TABLE directory_fts USING fts5(
	name, handle, description,
	content = '', contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 0',
	prefix = '1 2 3'
);

CREATE TRIGGER directory_fts_insert AFTER INSERT ON channels WHEN NEW.listed BEGIN
	INSERT INTO directory_fts (rowid, name, handle, description)
	VALUES (NEW.pk, herald_fold(NEW.name), herald_fold(coalesce(NEW.handle, '')), herald_fold(NEW.description));
END;

CREATE TRIGGER directory_fts_update AFTER UPDATE OF name, handle, description, listed ON channels BEGIN
	DELETE FROM directory_fts WHERE rowid = OLD.pk;
	INSERT INTO directory_fts (rowid, name, handle, description)
	SELECT NEW.pk, herald_fold(NEW.name), herald_fold(coalesce(NEW.handle, '')), herald_fold(NEW.description)
	WHERE NEW.listed;
END;

CREATE TRIGGER directory_fts_delete AFTER DELETE ON channels BEGIN
	DELETE FROM directory_fts WHERE rowid = OLD.pk;
	DELETE FROM directory_activity WHERE channel_pk = OLD.pk;
END;

-- Filter + sort indexes, partial on listed so unlisted channels cost nothing.
-- The rowid (pk) ends every index: it breaks ties and serves sort=new.
CREATE INDEX directory_popular ON channels(listed, follower_count) WHERE listed = 1;
CREATE INDEX directory_category ON channels(category, follower_count) WHERE listed = 1;
CREATE INDEX directory_country ON channels(country, follower_count) WHERE listed = 1;
CREATE INDEX directory_language ON channels(language, follower_count) WHERE listed = 1;
CREATE INDEX directory_category_country ON channels(category, country, follower_count) WHERE listed = 1;
CREATE INDEX directory_new ON channels(listed) WHERE listed = 1;
CREATE INDEX directory_new_category ON channels(category) WHERE listed = 1;
CREATE INDEX directory_new_country ON channels(country) WHERE listed = 1;
CREATE INDEX directory_new_language ON channels(language) WHERE listed = 1;
CREATE INDEX directory_new_category_country ON channels(category, country) WHERE listed = 1;

-- Updates posted per channel over the 7 days ending on `day` (days since
-- the Unix epoch, UTC): a post on day X adds one to days X..X+6, so the
-- "last 7 days" of any day is one row, sortable by an index, and no query
-- counts updates. Deleting an update does not subtract: it was activity.
CREATE TABLE directory_activity (
	channel_pk INTEGER NOT NULL,
	day        INTEGER NOT NULL,
	n          INTEGER NOT NULL,
	PRIMARY KEY (channel_pk, day)
) WITHOUT ROWID;
CREATE INDEX directory_activity_rank ON directory_activity(day, n, channel_pk);

-- Sort keys that change under a cursor walk (follower counts, today's
-- activity) log their old value, so a walk started at log position W ranks
-- every channel by its key as of W: each matching channel comes exactly
-- once however counts move. kind 0: follower_count; kind 1: activity of day.
-- Only the newest 20,000 changes are kept; older walks degrade to current
-- values.
CREATE TABLE directory_changes (
	id         INTEGER PRIMARY KEY,
	channel_pk INTEGER NOT NULL,
	kind       INTEGER NOT NULL,
	day        INTEGER NOT NULL,
	old_value  INTEGER NOT NULL
);

CREATE TRIGGER directory_followers_change AFTER UPDATE OF follower_count ON channels
WHEN OLD.follower_count <> NEW.follower_count BEGIN
	INSERT INTO directory_changes (channel_pk, kind, day, old_value) VALUES (OLD.pk, 0, 0, OLD.follower_count);
	DELETE FROM directory_changes WHERE id <= (SELECT max(id) FROM directory_changes) - 20000;
END;

CREATE TRIGGER directory_activity_post AFTER INSERT ON updates BEGIN
	INSERT INTO directory_changes (channel_pk, kind, day, old_value)
	VALUES (NEW.channel_pk, 1, NEW.created_at / 86400000000000,
		coalesce((SELECT n FROM directory_activity WHERE channel_pk = NEW.channel_pk AND day = NEW.created_at / 86400000000000), 0));
	DELETE FROM directory_changes WHERE id <= (SELECT max(id) FROM directory_changes) - 20000;
	INSERT INTO directory_activity (channel_pk, day, n)
	SELECT NEW.channel_pk, NEW.created_at / 86400000000000 + value, 1 FROM json_each('[0,1,2,3,4,5,6]') WHERE true
	ON CONFLICT (channel_pk, day) DO UPDATE SET n = n + 1;
	DELETE FROM directory_activity WHERE day < NEW.created_at / 86400000000000 - 1;
END;
