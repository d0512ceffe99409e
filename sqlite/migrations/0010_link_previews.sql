-- Link previews (issue 16): one row per update whose text has an http(s)
-- URL, erased with the update. The image is a media record attached to the
-- update at position -1 (never listed among the update's media), so the
-- erase loop removes its files with the update's.
CREATE TABLE link_previews (
	update_pk     INTEGER PRIMARY KEY REFERENCES updates(pk) ON DELETE CASCADE,
	url           TEXT NOT NULL,    -- the first URL of the text
	state         TEXT NOT NULL,    -- pending, ready, failed, removed (herald.Preview*)
	title         TEXT NOT NULL DEFAULT '',
	description   TEXT NOT NULL DEFAULT '',
	site_name     TEXT NOT NULL DEFAULT '',
	canonical_url TEXT NOT NULL DEFAULT '',
	image_id      TEXT,             -- media id, NULL without an image
	attempts      INTEGER NOT NULL DEFAULT 0,
	lease_until   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX link_previews_pending ON link_previews(lease_until) WHERE state = 'pending';
