-- Insights (issue 17). No table here holds an account id: views arrive as
-- HyperLogLog registers over hashes keyed by a secret the database never
-- sees, so these rows say how many, never who.

-- One sketch per update that was viewed; erased with the update.
CREATE TABLE update_views (
	update_id text PRIMARY KEY REFERENCES updates (id) ON DELETE CASCADE,
	sketch    bytea NOT NULL,
	views     bigint NOT NULL, -- the sketch's estimate
	shown     bigint,          -- views once they reach the threshold, else NULL
	anonymous bigint NOT NULL DEFAULT 0, -- loads of public pages and feeds showing it (not people)
	dirty     boolean NOT NULL DEFAULT false -- views changed since the last FlushViews
);
CREATE INDEX update_views_dirty ON update_views (update_id) WHERE dirty;

-- Distinct viewers per channel, day and coarse app language.
CREATE TABLE view_languages (
	channel_pk bigint NOT NULL REFERENCES channels (pk) ON DELETE CASCADE,
	day        integer NOT NULL, -- days since 1970-01-01 (UTC)
	lang       text NOT NULL,
	sketch     bytea NOT NULL,
	PRIMARY KEY (channel_pk, day, lang)
);

-- Follows and unfollows per channel and day, and the follower count at the
-- day's last change: counts only.
CREATE TABLE follow_days (
	channel_pk bigint NOT NULL REFERENCES channels (pk) ON DELETE CASCADE,
	day        integer NOT NULL,
	follows    bigint NOT NULL DEFAULT 0,
	unfollows  bigint NOT NULL DEFAULT 0,
	followers  bigint NOT NULL,
	PRIMARY KEY (channel_pk, day)
);
