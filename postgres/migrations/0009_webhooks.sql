-- Outgoing webhooks (issue 15). A webhook is a cursor over its channel's
-- event log (which holds no text), so no payload is ever stored here.
-- secret is the HMAC key (Standard Webhooks): it must be kept to sign.
CREATE TABLE webhooks (
	id              text PRIMARY KEY,
	channel_id      text NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
	url             text NOT NULL,
	events          text[] NOT NULL,
	secret          bytea NOT NULL,
	enabled         boolean NOT NULL DEFAULT true,
	disabled_reason text NOT NULL DEFAULT '',
	cursor          bigint NOT NULL, -- the channel stream's seq delivered last
	attempts        integer NOT NULL DEFAULT 0, -- failed attempts of the next event
	failing_since   timestamptz,
	next_attempt_at timestamptz NOT NULL DEFAULT '-infinity',
	lease_token     text NOT NULL DEFAULT '',
	lease_until     timestamptz NOT NULL DEFAULT '-infinity',
	log_n           bigint NOT NULL DEFAULT 0, -- the last delivery log number
	created_at      timestamptz NOT NULL
);
CREATE INDEX webhooks_channel ON webhooks(channel_id);
CREATE INDEX webhooks_due ON webhooks(next_attempt_at) WHERE enabled;

-- The last deliveries of each webhook, for its admins: never a payload.
CREATE TABLE webhook_deliveries (
	webhook_id text NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
	n          bigint NOT NULL,
	at         timestamptz NOT NULL,
	event_type text NOT NULL,
	seq        bigint NOT NULL,
	attempt    integer NOT NULL,
	status     integer NOT NULL,
	latency_ms bigint NOT NULL,
	error      text NOT NULL DEFAULT '',
	PRIMARY KEY (webhook_id, n)
);
