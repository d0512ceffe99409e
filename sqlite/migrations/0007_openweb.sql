-- Signed updates (issue 16): each channel's Ed25519 keys, and each
-- update's signature by one of them.

-- A channel's keys: the current one (retired_at NULL) and retired ones,
-- kept while updates they signed may live. private_key is the 32-byte
-- Ed25519 seed; it never leaves the store (as sensitive as the file).
CREATE TABLE signing_keys (
	pk          INTEGER PRIMARY KEY,
	id          TEXT NOT NULL UNIQUE,
	channel_pk  INTEGER NOT NULL REFERENCES channels(pk) ON DELETE CASCADE,
	public_key  BLOB NOT NULL,
	private_key BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	retired_at  INTEGER
);
CREATE INDEX signing_keys_channel ON signing_keys(channel_pk, retired_at);
-- At most one current key per channel.
CREATE UNIQUE INDEX signing_keys_current ON signing_keys(channel_pk) WHERE retired_at IS NULL;

-- NULL for updates written before channels had keys.
ALTER TABLE updates ADD COLUMN signature TEXT; -- base64url
ALTER TABLE updates ADD COLUMN key_id TEXT;

-- Pinned updates (at most herald.MaxPinned live ones per channel): when
-- the update was pinned, NULL when it is not.
ALTER TABLE updates ADD COLUMN pinned_at INTEGER;
CREATE INDEX updates_pinned ON updates(channel_pk, pinned_at) WHERE pinned_at IS NOT NULL;
