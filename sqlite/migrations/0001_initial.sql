-- Herald's SQLite schema, as of the first release. Times are INTEGER Unix
-- nanoseconds (UTC). Migrations only move forward: a change is a new file
-- (0002_...sql) applied after this one, never an edit of it.

CREATE TABLE accounts (
	id            TEXT PRIMARY KEY,
	username      TEXT NOT NULL UNIQUE,
	display_name  TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
	token_hash BLOB PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL -- 0: never
) WITHOUT ROWID;
CREATE INDEX sessions_account ON sessions(account_id);

-- pk aliases the rowid, so channels.rowid is stable (VACUUM keeps it) and
-- the directory's FTS rowids can be derived from it.
CREATE TABLE channels (
	pk             INTEGER PRIMARY KEY,
	id             TEXT NOT NULL UNIQUE,
	handle         TEXT UNIQUE, -- NULL when the channel has none
	name           TEXT NOT NULL,
	description    TEXT NOT NULL,
	category       TEXT NOT NULL,
	country        TEXT NOT NULL,
	language       TEXT NOT NULL,
	listed         INTEGER NOT NULL,
	verified       INTEGER NOT NULL DEFAULT 0,
	reactions      TEXT NOT NULL,
	invite_code    TEXT NOT NULL UNIQUE,
	follower_count INTEGER NOT NULL DEFAULT 0,
	last_seq       INTEGER NOT NULL DEFAULT 0, -- seq of the newest update ever posted
	last_update_at INTEGER,                    -- created_at of the newest update ever posted
	created_at     INTEGER NOT NULL
);

CREATE TABLE admins (
	channel_pk INTEGER NOT NULL REFERENCES channels(pk) ON DELETE CASCADE,
	account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	role       TEXT NOT NULL, -- 'owner' or 'admin'
	added_at   INTEGER NOT NULL,
	PRIMARY KEY (channel_pk, account_id)
) WITHOUT ROWID;
CREATE INDEX admins_account ON admins(account_id);

CREATE TABLE follows (
	channel_pk INTEGER NOT NULL REFERENCES channels(pk) ON DELETE CASCADE,
	account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	muted      INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (channel_pk, account_id)
) WITHOUT ROWID;
CREATE INDEX follows_account ON follows(account_id);

CREATE TABLE updates (
	pk              INTEGER PRIMARY KEY,
	id              TEXT NOT NULL UNIQUE,
	channel_pk      INTEGER NOT NULL REFERENCES channels(pk) ON DELETE CASCADE,
	seq             INTEGER NOT NULL,
	text            TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	edited_at       INTEGER,
	expires_at      INTEGER NOT NULL,
	poll_question   TEXT,    -- NULL: no poll
	poll_multiple   INTEGER NOT NULL DEFAULT 0,
	poll_voters     INTEGER NOT NULL DEFAULT 0,
	reactions_dirty INTEGER NOT NULL DEFAULT 0, -- counts changed since the last FlushCounts
	poll_dirty      INTEGER NOT NULL DEFAULT 0,
	UNIQUE (channel_pk, seq)
);
-- Activity over a window (updates in the last 7 days) counts this index.
CREATE INDEX updates_channel_created ON updates(channel_pk, created_at);
CREATE INDEX updates_expires ON updates(expires_at);
CREATE INDEX updates_dirty ON updates(pk) WHERE reactions_dirty = 1 OR poll_dirty = 1;

CREATE TABLE poll_options (
	update_pk INTEGER NOT NULL REFERENCES updates(pk) ON DELETE CASCADE,
	idx       INTEGER NOT NULL,
	text      TEXT NOT NULL,
	votes     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (update_pk, idx)
) WITHOUT ROWID;

-- One reaction per (update, account), so it can be changed or withdrawn.
CREATE TABLE reactions (
	update_pk  INTEGER NOT NULL REFERENCES updates(pk) ON DELETE CASCADE,
	account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	emoji      TEXT NOT NULL,
	PRIMARY KEY (update_pk, account_id)
) WITHOUT ROWID;
CREATE INDEX reactions_account ON reactions(account_id);

-- Public per-emoji counts, maintained with each change: reads never scan reactions.
CREATE TABLE reaction_counts (
	update_pk INTEGER NOT NULL REFERENCES updates(pk) ON DELETE CASCADE,
	emoji     TEXT NOT NULL,
	count     INTEGER NOT NULL,
	PRIMARY KEY (update_pk, emoji)
) WITHOUT ROWID;

CREATE TABLE votes (
	update_pk  INTEGER NOT NULL REFERENCES updates(pk) ON DELETE CASCADE,
	account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	option_idx INTEGER NOT NULL,
	PRIMARY KEY (update_pk, account_id, option_idx)
) WITHOUT ROWID;
CREATE INDEX votes_account ON votes(account_id);

-- Durable per-stream event logs. floor_seq is the highest seq no longer
-- available (pruned); resuming below it needs a resync.
CREATE TABLE stream_heads (
	stream    TEXT PRIMARY KEY,
	last_seq  INTEGER NOT NULL,
	floor_seq INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- No text here: payloads are read from current state, so erasing an update
-- erases it from the history too. channel_seq is set on channel.followed and
-- channel.admin_added: the channel's stream position at that moment (its
-- last seq, read in the same transaction), where an open real-time stream
-- joins the channel.
CREATE TABLE events (
	stream      TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	type        TEXT NOT NULL,
	channel_id  TEXT NOT NULL,
	update_id   TEXT,
	created_at  INTEGER NOT NULL,
	channel_seq INTEGER,
	PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
CREATE INDEX events_created ON events(created_at);
CREATE INDEX events_update ON events(update_id) WHERE update_id IS NOT NULL;
-- Follow history: the account-stream events that name a channel (followed,
-- unfollowed, admin roles) are erased with the channel, and unfollows (with
-- the follows before them) by PruneExpired once devices had time to see
-- them. Account streams are a small part of the log, so these stay small.
CREATE INDEX events_personal ON events(channel_id) WHERE substr(stream, 1, 1) = '@';
CREATE INDEX events_unfollowed ON events(created_at) WHERE type = 'channel.unfollowed';

-- The directory: full-text search over listed channels, the 7-day activity
-- used by sort=active, and a short log of sort-key changes that keeps cursor
-- walks stable. Everything here is maintained by triggers, so the channel
-- and update code never has to remember the directory.
--
-- herald_fold() and herald_fts_rowid() are Go functions that package sqlite
-- registers with the driver (sqlite/directory.go): herald_fold lowercases,
-- removes accents and turns punctuation to spaces, the folding queries get.
-- Writing to channels from a program without them (the sqlite3 shell) fails
-- loudly rather than leaving the index stale.
--
-- Only listed channels are indexed: unlisted ones can't be found by text.
-- Contentless (content = ''): the folded text is not stored twice. The rowid
-- is (follower bucket << 32) | channels.pk (herald_fts_rowid: buckets are
-- exact below 64 followers, then 8 per doubling), so FTS5 returns matches
-- most-followed first (ORDER BY rowid DESC) and a search reads one page of
-- matches plus the rest of the last bucket.
--
-- Erasure: FTS5 can only remove a row's postings if it is told the row's
-- words, so rows are deleted with the 'delete' command and the old folded
-- values (herald_fold is deterministic). 'secure-delete' makes every such
-- delete remove the postings from the index pages at once, instead of
-- leaving a delete marker in front of them until a merge; the connection's
-- secure_delete pragma zeroes what that frees. Every delete is secure,
-- including a move to another follower bucket (same words): a row left
-- behind a marker there would keep the old words after a later rename or
-- deletion, which could no longer reach it.
CREATE VIRTUAL TABLE directory_fts USING fts5(
	name, handle, description,
	content = '',
	tokenize = 'unicode61 remove_diacritics 0',
	prefix = '1 2 3'
);
INSERT INTO directory_fts (directory_fts, rank) VALUES ('secure-delete', 1);

-- The terms of the index, so the last word of a query (a prefix) can be
-- expanded into the few words it begins: ("meteo" OR "meteorologie")
-- streams in rank order and stops after a page, where "meteo"* would merge
-- every matching term's postings up front.
CREATE VIRTUAL TABLE directory_vocab USING fts5vocab('directory_fts', 'row');

CREATE TRIGGER directory_fts_insert AFTER INSERT ON channels WHEN NEW.listed BEGIN
	INSERT INTO directory_fts (rowid, name, handle, description)
	VALUES (herald_fts_rowid(NEW.follower_count, NEW.pk), herald_fold(NEW.name), herald_fold(coalesce(NEW.handle, '')), herald_fold(NEW.description));
END;

-- One trigger handles every change of an indexed row (text, listing,
-- follower bucket), so a statement changing several never deletes a row twice.
CREATE TRIGGER directory_fts_update AFTER UPDATE OF name, handle, description, listed, follower_count ON channels
WHEN OLD.name IS NOT NEW.name OR OLD.handle IS NOT NEW.handle OR OLD.description IS NOT NEW.description
	OR OLD.listed IS NOT NEW.listed
	OR herald_fts_rowid(OLD.follower_count, OLD.pk) <> herald_fts_rowid(NEW.follower_count, NEW.pk) BEGIN
	INSERT INTO directory_fts (directory_fts, rowid, name, handle, description)
	SELECT 'delete', herald_fts_rowid(OLD.follower_count, OLD.pk), herald_fold(OLD.name), herald_fold(coalesce(OLD.handle, '')), herald_fold(OLD.description)
	WHERE OLD.listed;
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
