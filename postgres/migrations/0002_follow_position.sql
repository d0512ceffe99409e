-- A channel.followed event records the channel's stream position at the
-- follow (its last seq, read in the follow's transaction), so that an open
-- real-time stream joins the channel exactly there instead of guessing from
-- timestamps. NULL on every other event and on follows logged before.
ALTER TABLE events ADD COLUMN channel_seq bigint;
