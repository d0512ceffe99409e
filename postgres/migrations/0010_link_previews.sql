-- Link previews (issue 16): one row per update whose text has an http(s)
-- URL, erased with the update. The image is a media record attached to the
-- update at position -1 (never listed among the update's media), so the
-- erase loop removes its files with the update's.
CREATE TABLE link_previews (
	update_id     text PRIMARY KEY REFERENCES updates (id) ON DELETE CASCADE,
	url           text NOT NULL,    -- the first URL of the text
	state         text NOT NULL,    -- pending, ready, failed, removed (herald.Preview*)
	title         text NOT NULL DEFAULT '',
	description   text NOT NULL DEFAULT '',
	site_name     text NOT NULL DEFAULT '',
	canonical_url text NOT NULL DEFAULT '',
	image_id      text,             -- media id, NULL without an image
	attempts      integer NOT NULL DEFAULT 0,
	lease_until   timestamptz NOT NULL DEFAULT '-infinity'
);
CREATE INDEX link_previews_pending ON link_previews (lease_until) WHERE state = 'pending';
