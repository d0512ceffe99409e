-- The ids of deleted keyed posts (migrations/0012), and nothing else of
-- them: a retry of the same Idempotency-Key must not bring a deleted
-- update back under its old id (clients and webhook receivers take a
-- deletion as final). Kept until the update would have expired.
CREATE TABLE keyed_post_tombstones (
	id         TEXT PRIMARY KEY,
	created_at INTEGER NOT NULL -- the update's
) WITHOUT ROWID;
