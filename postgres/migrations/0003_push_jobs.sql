-- Web Push delivery (issue 12): one durable job per posted (or recently
-- edited) update, written in the update's own transaction, and per-device
-- retries. Both go with their update (deleted, pruned, channel deleted).

-- A job walks PushTargets from cursor; a worker holds it while
-- lease_until > now (lease_token names the holder) and records the cursor
-- after each page, so a restart resumes there. Claims take the oldest free
-- row FOR UPDATE SKIP LOCKED: nodes never wait for each other nor take the
-- same job.
CREATE TABLE push_jobs (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	update_id   text NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
	edit        boolean NOT NULL DEFAULT false,
	cursor      text NOT NULL DEFAULT '',
	lease_until timestamptz NOT NULL DEFAULT '-infinity',
	lease_token text NOT NULL DEFAULT '',
	created_at  timestamptz NOT NULL
);
CREATE INDEX push_jobs_update ON push_jobs (update_id);
CREATE INDEX push_jobs_lease ON push_jobs (lease_until, id);

-- One push to one device to try again at due_at (429, 5xx, transport
-- errors); gone with the subscription or the update.
CREATE TABLE push_retries (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	update_id       text NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
	edit            boolean NOT NULL,
	subscription_id text NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
	attempts        integer NOT NULL,
	due_at          timestamptz NOT NULL,
	lease_until     timestamptz NOT NULL DEFAULT '-infinity',
	lease_token     text NOT NULL DEFAULT '',
	UNIQUE (update_id, edit, subscription_id)
);
CREATE INDEX push_retries_due ON push_retries (due_at);
CREATE INDEX push_retries_subscription ON push_retries (subscription_id);
