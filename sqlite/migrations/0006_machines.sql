-- Publishing for machines (issue 15): channel API keys and the answers
-- remembered for Idempotency-Key retries.

-- A channel's API keys. Only the SHA-256 of the secret is kept (secrets
-- are 256 random bits). last_used is a day (YYYY-MM-DD), never a time.
CREATE TABLE channel_keys (
	id          TEXT PRIMARY KEY,
	channel_pk  INTEGER NOT NULL REFERENCES channels(pk) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	scopes      TEXT NOT NULL, -- sorted, comma-separated
	secret_hash BLOB NOT NULL UNIQUE,
	created_at  INTEGER NOT NULL,
	last_used   TEXT
);
CREATE INDEX channel_keys_channel ON channel_keys(channel_pk);

-- One row per (principal, Idempotency-Key): status is NULL while the first
-- request runs, then its answer is kept for 24 hours.
CREATE TABLE idempotency_keys (
	principal   TEXT NOT NULL, -- an account id or key:KEY_ID
	key         TEXT NOT NULL,
	fingerprint BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	status      INTEGER,
	headers     TEXT,
	body        BLOB,
	channel_id  TEXT, -- erased with the channel
	resource_id TEXT, -- erased with what was created (its answer holds its text)
	PRIMARY KEY (principal, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
CREATE INDEX idempotency_keys_channel ON idempotency_keys(channel_id) WHERE channel_id IS NOT NULL;
CREATE INDEX idempotency_keys_resource ON idempotency_keys(resource_id) WHERE resource_id IS NOT NULL;

-- Updates waiting for their publication time (admins and keys see them).
-- poll is the poll as JSON (question, multiple, options), NULL without.
CREATE TABLE scheduled_updates (
	id         TEXT PRIMARY KEY,
	channel_pk INTEGER NOT NULL REFERENCES channels(pk) ON DELETE CASCADE,
	text       TEXT NOT NULL,
	poll       TEXT,
	publish_at INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX scheduled_updates_due ON scheduled_updates(publish_at, id);
CREATE INDEX scheduled_updates_channel ON scheduled_updates(channel_pk, publish_at);
