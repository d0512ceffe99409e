-- Insights (issue 17). No table here holds an account id: views arrive as
-- HyperLogLog registers over hashes keyed by a secret the database never
-- sees, so these rows say how many, never who.

-- One sketch per update that was viewed; erased with the update.
CREATE TABLE update_views (
	update_pk INTEGER PRIMARY KEY REFERENCES updates(pk) ON DELETE CASCADE,
	sketch    BLOB NOT NULL,
	views     INTEGER NOT NULL, -- the sketch's estimate
	shown     INTEGER,          -- views once they reach the threshold, else NULL
	anonymous INTEGER NOT NULL DEFAULT 0, -- loads of public pages and feeds showing it (not people)
	dirty     INTEGER NOT NULL DEFAULT 0 -- views changed since the last FlushViews
);
CREATE INDEX update_views_dirty ON update_views(update_pk) WHERE dirty = 1;

-- Distinct viewers per channel, day and coarse app language.
CREATE TABLE view_languages (
	channel_pk INTEGER NOT NULL REFERENCES channels(pk) ON DELETE CASCADE,
	day        INTEGER NOT NULL, -- days since 1970-01-01 (UTC)
	lang       TEXT NOT NULL,
	sketch     BLOB NOT NULL,
	PRIMARY KEY (channel_pk, day, lang)
) WITHOUT ROWID;

-- Follows and unfollows per channel and day, and the follower count at the
-- day's last change: counts only.
CREATE TABLE follow_days (
	channel_pk INTEGER NOT NULL REFERENCES channels(pk) ON DELETE CASCADE,
	day        INTEGER NOT NULL,
	follows    INTEGER NOT NULL DEFAULT 0,
	unfollows  INTEGER NOT NULL DEFAULT 0,
	followers  INTEGER NOT NULL,
	PRIMARY KEY (channel_pk, day)
) WITHOUT ROWID;
