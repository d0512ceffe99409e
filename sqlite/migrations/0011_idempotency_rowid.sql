-- Idempotency-Key answers (issue 15) in a rowid table: rows (with their
-- answer's body) are appended in time order, so a keyed post adds one
-- small random index entry (principal, key) and one (resource_id), not a
-- whole row on a random page of a WITHOUT ROWID table. Rows are in time
-- order, so pruning walks them by rowid and needs no created_at index.
CREATE TABLE idempotency_keys_new (
	principal   TEXT NOT NULL,
	key         TEXT NOT NULL,
	fingerprint BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	status      INTEGER,
	headers     TEXT,
	body        BLOB,
	channel_id  TEXT,
	resource_id TEXT
);
INSERT INTO idempotency_keys_new (principal, key, fingerprint, created_at, status, headers, body, channel_id, resource_id)
	SELECT principal, key, fingerprint, created_at, status, headers, body, channel_id, resource_id FROM idempotency_keys ORDER BY created_at;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_new RENAME TO idempotency_keys;
CREATE UNIQUE INDEX idempotency_keys_key ON idempotency_keys(principal, key);
CREATE INDEX idempotency_keys_channel ON idempotency_keys(channel_id) WHERE channel_id IS NOT NULL;
CREATE INDEX idempotency_keys_resource ON idempotency_keys(resource_id) WHERE resource_id IS NOT NULL;
