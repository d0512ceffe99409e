-- Web Push (issue 12): the server's own settings (its VAPID key) and the
-- accounts' push subscriptions.

-- Server-wide values written once and read back (name -> value), such as
-- the VAPID private key: INSERT ... ON CONFLICT DO NOTHING then SELECT, so
-- nodes racing on the first start all end with the same value.
CREATE TABLE settings (
	name  text PRIMARY KEY,
	value bytea NOT NULL
);

-- One row per endpoint: a browser's subscription belongs to one account at
-- a time. Deleted with the account.
CREATE TABLE push_subscriptions (
	id         text PRIMARY KEY,
	account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	endpoint   text NOT NULL UNIQUE,
	p256dh     bytea NOT NULL,
	auth       bytea NOT NULL,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL
);
CREATE INDEX push_subscriptions_account ON push_subscriptions (account_id, id);

-- PushTargets walks a channel's unmuted follows in account order (keyset
-- on account_id) and reads each follower's devices through
-- push_subscriptions_account: a page reads one index range, never every
-- follow of the channel.
CREATE INDEX follows_push_targets ON follows (channel_id, account_id) WHERE NOT muted;
