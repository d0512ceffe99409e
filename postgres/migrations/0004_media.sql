-- Media (issue 13): uploaded files' records; the files are in a blob store
-- (a directory or an S3-compatible bucket) under "<id>/<variant>".
--
-- No foreign keys: a record outlives its update or channel until the prune
-- loop has removed its files (Store.ErasableMedia, then ForgetMedia), so a
-- crash between the two never leaves a file nobody knows about.
CREATE TABLE media (
	id         text PRIMARY KEY,
	channel_id text NOT NULL,
	update_id  text,                    -- NULL while unattached (or an avatar); '' once retired
	position   integer NOT NULL DEFAULT 0,
	alt        text NOT NULL DEFAULT '',
	type       text NOT NULL,
	mime       text NOT NULL,
	size       bigint NOT NULL,
	width      integer NOT NULL DEFAULT 0,
	height     integer NOT NULL DEFAULT 0,
	duration   double precision NOT NULL DEFAULT 0,
	blurhash   text NOT NULL DEFAULT '',
	name       text NOT NULL DEFAULT '',
	state      text NOT NULL,
	variants   text NOT NULL DEFAULT '', -- comma-separated
	created_at timestamptz NOT NULL
);
CREATE INDEX media_update ON media (update_id, position) WHERE update_id IS NOT NULL;
CREATE INDEX media_channel ON media (channel_id, created_at);

-- A channel's avatar: a media of the channel, neither attached to an update
-- nor erased while it is the avatar (see ErasableMedia).
ALTER TABLE channels ADD COLUMN avatar_id text;
