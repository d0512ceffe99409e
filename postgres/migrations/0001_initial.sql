-- Herald's PostgreSQL schema, as of the first release. Every table lives in
-- the connection's current schema (search_path), so one database can hold
-- several Herald instances. Migrations only move forward: a change is a new
-- file (0002_...sql) applied after this one, never an edit of it.

CREATE TABLE accounts (
	id            text PRIMARY KEY,
	username      text NOT NULL UNIQUE,
	display_name  text NOT NULL,
	password_hash text NOT NULL,
	created_at    timestamptz NOT NULL
);

-- Only the token's hash is stored: a leaked database leaks no usable token.
CREATE TABLE sessions (
	token_hash bytea PRIMARY KEY,
	account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL,
	expires_at timestamptz -- NULL: never
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- pk orders channels by creation (sort=new, tie-breaks); id is the opaque
-- public id.
CREATE TABLE channels (
	id             text PRIMARY KEY,
	pk             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	handle         text UNIQUE,
	name           text NOT NULL,
	description    text NOT NULL,
	category       text NOT NULL,
	country        text NOT NULL,
	language       text NOT NULL,
	listed         boolean NOT NULL,
	verified       boolean NOT NULL DEFAULT false,
	reactions      text NOT NULL,
	follower_count bigint NOT NULL DEFAULT 0,
	invite_code    text NOT NULL UNIQUE,
	created_at     timestamptz NOT NULL
);

-- The owner is an admin row with role 'owner'.
CREATE TABLE channel_admins (
	channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
	account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	role       text NOT NULL,
	added_at   timestamptz NOT NULL,
	PRIMARY KEY (channel_id, account_id)
);
CREATE INDEX channel_admins_account ON channel_admins (account_id);

-- Keyed by account so a person can list and change their own follows; never
-- read to list a channel's followers.
CREATE TABLE follows (
	account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	channel_id  text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
	muted       boolean NOT NULL DEFAULT false,
	followed_at timestamptz NOT NULL,
	PRIMARY KEY (account_id, channel_id)
);
CREATE INDEX follows_channel ON follows (channel_id);

-- Updates never record which admin posted them.
CREATE TABLE updates (
	id            text PRIMARY KEY,
	channel_id    text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
	seq           bigint NOT NULL,
	text          text NOT NULL,
	poll_question text,
	poll_multiple boolean NOT NULL DEFAULT false,
	poll_options  text[],
	created_at    timestamptz NOT NULL,
	edited_at     timestamptz,
	expires_at    timestamptz NOT NULL,
	UNIQUE (channel_id, seq)
);
CREATE INDEX updates_expires ON updates (expires_at);
CREATE INDEX updates_channel_created ON updates (channel_id, created_at);

-- Per-channel update sequence; the row lock taken by bumping it serializes
-- posts to one channel so that commit order equals seq order.
CREATE TABLE update_heads (
	channel_id text PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
	seq        bigint NOT NULL
);

-- One row per update: its public counts (emoji -> count, counts above zero
-- only; votes per option, NULL without a poll; voters). Every reaction or
-- vote change locks this row first, so changes to one update are serialized
-- and exact, and marks it dirty; FlushCounts turns dirty rows into events.
-- Reading an update reads this row: reactions are never scanned.
CREATE TABLE update_counts (
	update_id       text PRIMARY KEY REFERENCES updates (id) ON DELETE CASCADE,
	reactions       jsonb NOT NULL DEFAULT '{}',
	votes           bigint[],
	voters          bigint NOT NULL DEFAULT 0,
	reactions_dirty boolean NOT NULL DEFAULT false,
	poll_dirty      boolean NOT NULL DEFAULT false
);
CREATE INDEX update_counts_dirty ON update_counts (update_id) WHERE reactions_dirty OR poll_dirty;

-- add_reaction adds delta to one emoji's count in a counts map, dropping
-- it at zero; a NULL emoji leaves the map as it is.
CREATE FUNCTION add_reaction(counts jsonb, emoji text, delta bigint) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN emoji IS NULL THEN counts
		WHEN coalesce((counts ->> emoji)::bigint, 0) + delta <= 0 THEN counts - emoji
		ELSE jsonb_set(counts, ARRAY[emoji], to_jsonb(coalesce((counts ->> emoji)::bigint, 0) + delta))
	END
$$;

-- A follower's own reaction and vote, kept only so they can change or
-- withdraw them; read back only for that follower.
CREATE TABLE reactions (
	update_id  text NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
	account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	emoji      text NOT NULL,
	PRIMARY KEY (update_id, account_id)
);

CREATE TABLE votes (
	update_id  text NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
	account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	options    integer[] NOT NULL,
	PRIMARY KEY (update_id, account_id)
);

-- Event streams: a channel's (named by its id) or an account's ('@' + id).
-- seq is the last seq handed out; bumping it row-locks the stream until
-- commit, so commit order equals seq order.
CREATE TABLE stream_heads (
	stream text PRIMARY KEY,
	seq    bigint NOT NULL
);

-- Events with seq <= floor may have been pruned by age, so a resume from
-- before the floor must resync. Kept apart from stream_heads so the pruner
-- never waits on a busy stream's head.
CREATE TABLE stream_floors (
	stream text PRIMARY KEY,
	floor  bigint NOT NULL
);

-- The log holds ids only, never text: events are hydrated from current
-- state. channel_seq is set on channel.followed and channel.admin_added: the
-- channel's stream position at that moment (its last seq, read in the same
-- transaction), where an open real-time stream joins the channel.
CREATE TABLE events (
	stream      text NOT NULL,
	seq         bigint NOT NULL,
	type        text NOT NULL,
	channel_id  text NOT NULL,
	update_id   text,
	created_at  timestamptz NOT NULL,
	channel_seq bigint,
	PRIMARY KEY (stream, seq)
);
CREATE INDEX events_update ON events (update_id) WHERE update_id IS NOT NULL;
-- Also erases, with a channel, the account-stream events that name it.
CREATE INDEX events_channel ON events (channel_id);
CREATE INDEX events_created ON events (created_at);
-- Follow history: PruneExpired erases unfollows (with the follows before
-- them) once devices had time to see them.
CREATE INDEX events_unfollowed ON events (created_at) WHERE type = 'channel.unfollowed';

-- The directory. Filter + sort indexes are partial on listed, so unlisted
-- channels cost nothing; pk ends every index: it breaks ties and serves
-- sort=new.
CREATE INDEX directory_popular ON channels (follower_count, pk) WHERE listed;
CREATE INDEX directory_category ON channels (category, follower_count, pk) WHERE listed;
CREATE INDEX directory_country ON channels (country, follower_count, pk) WHERE listed;
CREATE INDEX directory_language ON channels (language, follower_count, pk) WHERE listed;
CREATE INDEX directory_category_country ON channels (category, country, follower_count, pk) WHERE listed;
CREATE INDEX directory_new ON channels (pk) WHERE listed;
CREATE INDEX directory_new_category ON channels (category, pk) WHERE listed;
CREATE INDEX directory_new_country ON channels (country, pk) WHERE listed;
CREATE INDEX directory_new_language ON channels (language, pk) WHERE listed;
CREATE INDEX directory_new_category_country ON channels (category, country, pk) WHERE listed;

-- The directory's text index, for listed channels only: the words of the
-- name, of the name and handle, and of all three with the description, each
-- folded by Go (package fold) into a tsvector literal so that search
-- semantics match the SQLite store exactly (never parsed by a text search
-- configuration). One vector per relevance tier, each with its own GIN
-- index, so every tier is answered by an index exactly: GIN indexes don't
-- store weights, and a word found only in descriptions would otherwise be
-- rechecked row by row for the name tier. It lives apart from channels so
-- that follows, which rewrite the channel row, never touch the GIN indexes
-- (nor grow their pending lists, which every search reads).
CREATE TABLE channel_search (
	pk          bigint PRIMARY KEY REFERENCES channels (pk) ON DELETE CASCADE,
	name        tsvector NOT NULL,
	name_handle tsvector NOT NULL,
	words       tsvector NOT NULL
);
CREATE INDEX directory_search_name ON channel_search USING gin (name);
CREATE INDEX directory_search_name_handle ON channel_search USING gin (name_handle);
CREATE INDEX directory_search_words ON channel_search USING gin (words);

-- Updates posted per channel over the 7 days ending on `day` (days since the
-- Unix epoch, UTC): a post on day X adds one to days X..X+6, so the "last 7
-- days" of any day is one row, sortable by an index, and no query counts
-- updates. Deleting an update does not subtract: it was activity.
CREATE TABLE directory_activity (
	channel_pk bigint NOT NULL REFERENCES channels (pk) ON DELETE CASCADE,
	day        bigint NOT NULL,
	n          bigint NOT NULL,
	PRIMARY KEY (channel_pk, day)
);
CREATE INDEX directory_activity_rank ON directory_activity (day, n, channel_pk);

-- Sort keys that change under a cursor walk (follower counts, today's
-- activity) log their old value, so a walk started at log position W ranks
-- every channel by its key as of W: each matching channel comes exactly once
-- however counts move. kind 0: follower_count; kind 1: activity of day.
-- PruneExpired keeps the newest 20,000 changes; older walks degrade to
-- current values.
CREATE TABLE directory_changes (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	channel_pk bigint NOT NULL,
	kind       smallint NOT NULL,
	day        bigint NOT NULL,
	old_value  bigint NOT NULL
);
CREATE INDEX directory_changes_walk ON directory_changes (kind, day, id);
