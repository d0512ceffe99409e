-- Trust and safety, operators and the account lifecycle (issue 14).

-- A session's device label comes from the User-Agent it signed in with;
-- last_seen is the day (00:00 UTC) it was last used, written at most once a
-- day per session.
ALTER TABLE sessions ADD COLUMN user_agent text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen timestamptz;

-- Operators (herald operator grant) and suspended accounts (no session,
-- no sign-in).
ALTER TABLE accounts ADD COLUMN operator boolean NOT NULL DEFAULT false;
ALTER TABLE accounts ADD COLUMN suspended_at timestamptz;

-- A suspended channel is unlisted (listed_before keeps its setting for the
-- lift), its invite code replaced, its posting refused.
ALTER TABLE channels ADD COLUMN suspended_at timestamptz;
ALTER TABLE channels ADD COLUMN suspension_reason text NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN listed_before boolean NOT NULL DEFAULT false;

-- Reports. The reporter is kept only for "one open report per person and
-- target" and is never read out; the row goes with the reporter's account.
CREATE TABLE reports (
	id          text PRIMARY KEY,
	reporter_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	channel_id  text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
	update_id   text NOT NULL DEFAULT '',
	reason      text NOT NULL,
	comment     text NOT NULL,
	created_at  timestamptz NOT NULL,
	closed_at   timestamptz
);
CREATE UNIQUE INDEX reports_open_once ON reports (reporter_id, channel_id, update_id) WHERE closed_at IS NULL;
CREATE INDEX reports_open ON reports (channel_id, update_id) WHERE closed_at IS NULL;
CREATE INDEX reports_reporter ON reports (reporter_id);

-- The append-only audit log of operator actions. No foreign keys: it
-- outlives what it names.
CREATE TABLE audit_log (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	operator_id text NOT NULL,
	operator    text NOT NULL,
	action      text NOT NULL,
	target_kind text NOT NULL,
	target_id   text NOT NULL,
	channel_id  text NOT NULL,
	reason      text NOT NULL,
	created_at  timestamptz NOT NULL
);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- What operators told a channel's admins (suspension, removed update).
CREATE TABLE channel_notices (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
	action     text NOT NULL,
	update_id  text NOT NULL,
	reason     text NOT NULL,
	created_at timestamptz NOT NULL
);
CREATE INDEX channel_notices_channel ON channel_notices (channel_id, created_at);

-- Owners' requests to review a suspension, and the operators' decision.
CREATE TABLE review_requests (
	seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	id              text PRIMARY KEY,
	channel_id      text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
	reason          text NOT NULL,
	text            text NOT NULL,
	created_at      timestamptz NOT NULL,
	outcome         text NOT NULL DEFAULT '',
	decided_at      timestamptz,
	decision_reason text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX review_requests_open ON review_requests (channel_id) WHERE outcome = '';
