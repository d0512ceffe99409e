-- Trust and safety, operators and the account lifecycle (issue 14).

-- A session's device label comes from the User-Agent it signed in with;
-- last_seen is the day (00:00 UTC) it was last used, written at most once a
-- day per session.
ALTER TABLE sessions ADD COLUMN user_agent text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen timestamptz;
