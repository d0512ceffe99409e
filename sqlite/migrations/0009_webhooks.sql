-- Outgoing webhooks (issue 15). A webhook is a cursor over its channel's
-- event log (which holds no text), so no payload is ever stored here.
-- secret is the HMAC key (Standard Webhooks): it must be kept to sign.
CREATE TABLE webhooks (
	id              TEXT PRIMARY KEY,
	channel_pk      INTEGER NOT NULL REFERENCES channels(pk) ON DELETE CASCADE,
	url             TEXT NOT NULL,
	events          TEXT NOT NULL, -- sorted, comma-separated
	secret          BLOB NOT NULL,
	enabled         INTEGER NOT NULL DEFAULT 1,
	disabled_reason TEXT NOT NULL DEFAULT '',
	cursor          INTEGER NOT NULL, -- the channel stream's seq delivered last
	attempts        INTEGER NOT NULL DEFAULT 0, -- failed attempts of the next event
	failing_since   INTEGER,
	next_attempt_at INTEGER NOT NULL DEFAULT 0,
	lease_token     TEXT NOT NULL DEFAULT '',
	lease_until     INTEGER NOT NULL DEFAULT 0,
	log_n           INTEGER NOT NULL DEFAULT 0, -- the last delivery log number
	created_at      INTEGER NOT NULL
);
CREATE INDEX webhooks_channel ON webhooks(channel_pk);
CREATE INDEX webhooks_due ON webhooks(next_attempt_at) WHERE enabled = 1;

-- The last deliveries of each webhook, for its admins: never a payload.
CREATE TABLE webhook_deliveries (
	webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
	n          INTEGER NOT NULL,
	at         INTEGER NOT NULL,
	event_type TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	attempt    INTEGER NOT NULL,
	status     INTEGER NOT NULL,
	latency_ms INTEGER NOT NULL,
	error      TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (webhook_id, n)
) WITHOUT ROWID;
