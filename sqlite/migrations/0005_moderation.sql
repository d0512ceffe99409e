-- Trust and safety, operators and the account lifecycle (issue 14).

-- A session's device label comes from the User-Agent it signed in with;
-- last_seen is the day (00:00 UTC, Unix nanoseconds) it was last used,
-- written at most once a day per session.
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;
