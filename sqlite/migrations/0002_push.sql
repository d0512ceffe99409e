-- Web Push (issue 12): the server's own settings (its VAPID key) and the
-- accounts' push subscriptions.

-- Server-wide values written once and read back (name -> value), such as
-- the VAPID private key. Secrets here are as sensitive as the database file.
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
) WITHOUT ROWID;

-- One row per endpoint: a browser's subscription belongs to one account at
-- a time. Deleted with the account. Clustered by account (the primary key
-- leads with account_id): PushTargets walks a channel's follows (primary key
-- channel_pk, account_id) in account order and reads each follower's
-- devices from the same order here, so a page reads neighbouring pages of
-- both tables, never the whole follows table nor every subscription. Ids
-- are 128 random bits, unique without an index of their own.
CREATE TABLE push_subscriptions (
	account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	id         TEXT NOT NULL,
	endpoint   TEXT NOT NULL UNIQUE,
	p256dh     BLOB NOT NULL,
	auth       BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (account_id, id)
) WITHOUT ROWID;
