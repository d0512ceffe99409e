-- Signed updates (issue 16): each channel's Ed25519 keys, and each
-- update's signature by one of them.

-- A channel's keys: the current one (retired_at NULL) and retired ones,
-- kept while updates they signed may live. private_key is the 32-byte
-- Ed25519 seed; it never leaves the store (as sensitive as the database).
CREATE TABLE signing_keys (
	id          text PRIMARY KEY,
	channel_id  text NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
	public_key  bytea NOT NULL,
	private_key bytea NOT NULL,
	created_at  timestamptz NOT NULL,
	retired_at  timestamptz
);
CREATE INDEX signing_keys_channel ON signing_keys(channel_id, retired_at);
-- At most one current key per channel.
CREATE UNIQUE INDEX signing_keys_current ON signing_keys(channel_id) WHERE retired_at IS NULL;

-- NULL for updates written before channels had keys.
ALTER TABLE updates ADD COLUMN signature text; -- base64url
ALTER TABLE updates ADD COLUMN key_id text;

-- Pinned updates (at most herald.MaxPinned live ones per channel): when
-- the update was pinned, NULL when it is not.
ALTER TABLE updates ADD COLUMN pinned_at timestamptz;
CREATE INDEX updates_pinned ON updates(channel_id, pinned_at) WHERE pinned_at IS NOT NULL;
