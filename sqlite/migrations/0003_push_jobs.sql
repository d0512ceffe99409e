-- Web Push delivery (issue 12): one durable job per posted (or recently
-- edited) update, written in the update's own transaction, and per-device
-- retries. Both go with their update (deleted, pruned, channel deleted).

-- A job walks PushTargets from cursor; a worker holds it while
-- lease_until > now (lease_token names the holder) and records the cursor
-- after each page, so a restart resumes there.
CREATE TABLE push_jobs (
	id          INTEGER PRIMARY KEY,
	update_pk   INTEGER NOT NULL REFERENCES updates(pk) ON DELETE CASCADE,
	edit        INTEGER NOT NULL DEFAULT 0,
	cursor      TEXT NOT NULL DEFAULT '',
	lease_until INTEGER NOT NULL DEFAULT 0,
	lease_token TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL
);
CREATE INDEX push_jobs_update ON push_jobs(update_pk);
CREATE INDEX push_jobs_lease ON push_jobs(lease_until, id);

-- One push to one device to try again at due_at (429, 5xx, transport
-- errors); gone with the subscription or the update.
CREATE TABLE push_retries (
	id              INTEGER PRIMARY KEY,
	update_pk       INTEGER NOT NULL REFERENCES updates(pk) ON DELETE CASCADE,
	edit            INTEGER NOT NULL,
	account_id      TEXT NOT NULL,
	subscription_id TEXT NOT NULL,
	attempts        INTEGER NOT NULL,
	due_at          INTEGER NOT NULL,
	lease_until     INTEGER NOT NULL DEFAULT 0,
	lease_token     TEXT NOT NULL DEFAULT '',
	UNIQUE (update_pk, edit, account_id, subscription_id),
	FOREIGN KEY (account_id, subscription_id) REFERENCES push_subscriptions(account_id, id) ON DELETE CASCADE
);
CREATE INDEX push_retries_due ON push_retries(due_at);
CREATE INDEX push_retries_subscription ON push_retries(account_id, subscription_id);
