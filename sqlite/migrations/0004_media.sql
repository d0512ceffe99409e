-- Media (issue 13): uploaded files' records; the files are in a blob store
-- (a directory or an S3-compatible bucket) under "<id>/<variant>".
--
-- No foreign keys: a record outlives its update or channel until the prune
-- loop has removed its files (Store.ErasableMedia, then ForgetMedia), so a
-- crash between the two never leaves a file nobody knows about.
CREATE TABLE media (
	id         TEXT PRIMARY KEY,
	channel_id TEXT NOT NULL,
	update_id  TEXT,                    -- NULL while unattached (or an avatar); '' once retired
	position   INTEGER NOT NULL DEFAULT 0,
	alt        TEXT NOT NULL DEFAULT '',
	type       TEXT NOT NULL,
	mime       TEXT NOT NULL,
	size       INTEGER NOT NULL,
	width      INTEGER NOT NULL DEFAULT 0,
	height     INTEGER NOT NULL DEFAULT 0,
	duration   REAL NOT NULL DEFAULT 0,
	blurhash   TEXT NOT NULL DEFAULT '',
	name       TEXT NOT NULL DEFAULT '',
	state      TEXT NOT NULL,
	variants   TEXT NOT NULL DEFAULT '', -- comma-separated
	created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX media_update ON media (update_id, position) WHERE update_id IS NOT NULL;
CREATE INDEX media_channel ON media (channel_id, created_at);

-- A channel's avatar: a media of the channel, neither attached to an update
-- nor erased while it is the avatar (see ErasableMedia).
ALTER TABLE channels ADD COLUMN avatar_id TEXT;
