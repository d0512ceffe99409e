-- Publishing for machines (issue 15): channel API keys and the answers
-- remembered for Idempotency-Key retries.

-- A channel's API keys. Only the SHA-256 of the secret is kept (secrets
-- are 256 random bits). last_used is a day, never a time.
CREATE TABLE channel_keys (
	id          text PRIMARY KEY,
	channel_id  text NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
	name        text NOT NULL,
	scopes      text[] NOT NULL,
	secret_hash bytea NOT NULL UNIQUE,
	created_at  timestamptz NOT NULL,
	last_used   date
);
CREATE INDEX channel_keys_channel ON channel_keys(channel_id);

-- One row per (principal, Idempotency-Key): status is NULL while the first
-- request runs, then its answer is kept for 24 hours.
CREATE TABLE idempotency_keys (
	principal   text NOT NULL, -- an account id or key:KEY_ID
	key         text NOT NULL,
	fingerprint bytea NOT NULL,
	created_at  timestamptz NOT NULL,
	status      integer,
	headers     jsonb,
	body        bytea,
	channel_id  text, -- erased with the channel
	resource_id text, -- erased with what was created (its answer holds its text)
	PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
CREATE INDEX idempotency_keys_channel ON idempotency_keys(channel_id) WHERE channel_id IS NOT NULL;
CREATE INDEX idempotency_keys_resource ON idempotency_keys(resource_id) WHERE resource_id IS NOT NULL;

-- Updates waiting for their publication time (admins and keys see them).
-- poll is the poll as JSON (question, multiple, options), NULL without.
CREATE TABLE scheduled_updates (
	id         text PRIMARY KEY,
	channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
	text       text NOT NULL,
	poll       jsonb,
	publish_at timestamptz NOT NULL,
	created_at timestamptz NOT NULL
);
CREATE INDEX scheduled_updates_due ON scheduled_updates (publish_at, id);
CREATE INDEX scheduled_updates_channel ON scheduled_updates (channel_id, publish_at);
