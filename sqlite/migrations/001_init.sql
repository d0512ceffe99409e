-- Herald's initial schema. Times are INTEGER Unix nanoseconds (UTC).
-- Tables that are joined by other migrations (channels, updates) keep their
-- column names stable: add columns, never rename them.

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
-- other indexes (the directory's FTS table) can join on it.
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
-- erases it from the history too.
CREATE TABLE events (
	stream     TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	type       TEXT NOT NULL,
	channel_id TEXT NOT NULL,
	update_id  TEXT,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
CREATE INDEX events_created ON events(created_at);
CREATE INDEX events_update ON events(update_id) WHERE update_id IS NOT NULL;
