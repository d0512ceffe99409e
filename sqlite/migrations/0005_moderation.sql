-- Trust and safety, operators and the account lifecycle (issue 14).

-- A session's device label comes from the User-Agent it signed in with;
-- last_seen is the day (00:00 UTC, Unix nanoseconds) it was last used,
-- written at most once a day per session.
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;

-- Operators (herald operator grant) and suspended accounts (no session,
-- no sign-in).
ALTER TABLE accounts ADD COLUMN operator INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN suspended_at INTEGER; -- NULL: not suspended

-- A suspended channel is unlisted (listed_before keeps its setting for the
-- lift), its invite code replaced, its posting refused.
ALTER TABLE channels ADD COLUMN suspended_at INTEGER; -- NULL: not suspended
ALTER TABLE channels ADD COLUMN suspension_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN listed_before INTEGER NOT NULL DEFAULT 0;

-- Reports. The reporter is kept only for "one open report per person and
-- target" and is never read out; the row goes with the reporter's account.
CREATE TABLE reports (
	id          TEXT PRIMARY KEY,
	reporter_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	channel_pk  INTEGER NOT NULL REFERENCES channels(pk) ON DELETE CASCADE,
	update_id   TEXT NOT NULL DEFAULT '', -- '': the channel itself
	reason      TEXT NOT NULL,
	comment     TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	closed_at   INTEGER -- NULL: open
) WITHOUT ROWID;
CREATE UNIQUE INDEX reports_open_once ON reports(reporter_id, channel_pk, update_id) WHERE closed_at IS NULL;
CREATE INDEX reports_open ON reports(channel_pk, update_id) WHERE closed_at IS NULL;
CREATE INDEX reports_reporter ON reports(reporter_id);

-- The append-only audit log of operator actions. No foreign keys: it
-- outlives what it names.
CREATE TABLE audit_log (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	operator_id TEXT NOT NULL,
	operator    TEXT NOT NULL,
	action      TEXT NOT NULL,
	target_kind TEXT NOT NULL,
	target_id   TEXT NOT NULL,
	channel_id  TEXT NOT NULL,
	reason      TEXT NOT NULL,
	created_at  INTEGER NOT NULL
);
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- What operators told a channel's admins (suspension, removed update).
CREATE TABLE channel_notices (
	channel_pk INTEGER NOT NULL REFERENCES channels(pk) ON DELETE CASCADE,
	action     TEXT NOT NULL,
	update_id  TEXT NOT NULL,
	reason     TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX channel_notices_channel ON channel_notices(channel_pk, created_at);

-- Owners' requests to review a suspension, and the operators' decision.
CREATE TABLE review_requests (
	id              TEXT PRIMARY KEY,
	channel_pk      INTEGER NOT NULL REFERENCES channels(pk) ON DELETE CASCADE,
	reason          TEXT NOT NULL,
	text            TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	outcome         TEXT NOT NULL DEFAULT '', -- '', upheld, lifted
	decided_at      INTEGER,
	decision_reason TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX review_requests_open ON review_requests(channel_pk) WHERE outcome = '';
