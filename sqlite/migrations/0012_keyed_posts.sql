-- A keyed post (issue 15) is its own Idempotency-Key record: its update's
-- id is derived from (principal, key) (herald.IDDeriver), so a retry finds
-- it with the lookup by id that every post makes, and the request's
-- fingerprint is kept on the row. No kept answer, and no entry in the
-- random (principal, key) index, which made a keyed post write about two
-- more pages than a plain one; a replay is rendered from the update, and
-- goes when the update goes. Every other Idempotency-Key (two-step claims,
-- scheduled updates, a post whose derived id is taken) stays in
-- idempotency_keys.
ALTER TABLE updates ADD COLUMN idempotency_fingerprint BLOB;
