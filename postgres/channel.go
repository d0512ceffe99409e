package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
	"github.com/jackc/pgx/v5"
)

// channelCols selects a channel with the newest live update's time ($2 =
// now) and one account's relation to it ($1 = account id); used as
// "SELECT channelCols FROM channelFrom WHERE ...".
const channelCols = `c.pk, c.id, coalesce(c.handle, ''), c.name, c.description, c.category, c.country, c.language,
	c.listed, c.verified, c.reactions, c.follower_count, c.created_at, c.invite_code,
	(SELECT u.created_at FROM updates u WHERE u.channel_id = c.id AND u.expires_at > $2 ORDER BY u.seq DESC LIMIT 1) AS lua,
	f.account_id IS NOT NULL, coalesce(f.muted, false), adm.role, coalesce(c.avatar_id, '')`

const channelFrom = `channels c
	LEFT JOIN follows f ON f.channel_id = c.id AND f.account_id = $1
	LEFT JOIN channel_admins adm ON adm.channel_id = c.id AND adm.account_id = $1`

// chanRow is a channel as stored plus one account's relation to it.
type chanRow struct {
	pk     int64
	ch     herald.Channel // without InviteCode and Viewer
	invite string
	rel    storeutil.Relation
}

// view returns the channel as the account sees it.
func (r *chanRow) view() *herald.Channel { return r.rel.View(r.ch, r.invite) }

// public returns the channel as events carry it: no invite, no viewer.
func (r *chanRow) public() *herald.Channel { return r.ch.Public() }

func scanChannel(row pgx.Row) (*chanRow, error) {
	var r chanRow
	ch := &r.ch
	var last *time.Time
	var role *string
	var avatar string
	err := row.Scan(&r.pk, &ch.ID, &ch.Handle, &ch.Name, &ch.Description, &ch.Category, &ch.Country, &ch.Language,
		&ch.Listed, &ch.Verified, &ch.Reactions, &ch.FollowerCount, &ch.CreatedAt, &r.invite,
		&last, &r.rel.Following, &r.rel.Muted, &role, &avatar)
	if err != nil {
		return nil, err
	}
	ch.AvatarURL = herald.AvatarURL(avatar)
	if role != nil {
		r.rel.Role = *role
	}
	ch.CreatedAt = ch.CreatedAt.UTC()
	if last != nil {
		l := last.UTC()
		ch.LastUpdateAt = &l
	}
	return &r, nil
}

// Row locks for loadChannel; see the package comment for the lock order.
const (
	lockNone      = ""
	lockKeyShare  = " FOR KEY SHARE OF c"
	lockNoKeyUpd  = " FOR NO KEY UPDATE OF c"
	lockForUpdate = " FOR UPDATE OF c"
)

// loadChannel reads a channel and viewerID's relation to it, taking the
// given row lock; ENOTFOUND if it is absent or invisible to the viewer.
func loadChannel(ctx context.Context, q querier, now time.Time, viewerID, channelID, lock string) (*chanRow, error) {
	r, err := scanChannel(q.QueryRow(ctx, `SELECT `+channelCols+` FROM `+channelFrom+` WHERE c.id = $3`+lock,
		viewerID, now, channelID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errChannelNotFound
	} else if err != nil {
		return nil, err
	}
	if !r.rel.CanSee(r.ch.Listed) {
		return nil, errChannelNotFound
	}
	signAvatarIn(q, &r.ch)
	return r, nil
}

// loadAccess is loadChannel reading only what access checks need (pk, ID,
// Listed, Reactions and the relation): update reads and writes skip the
// full channel row and its newest-update lookup.
func loadAccess(ctx context.Context, q querier, viewerID, channelID, lock string) (*chanRow, error) {
	var r chanRow
	err := q.QueryRow(ctx, `SELECT c.pk, c.id, c.listed, c.reactions, coalesce(adm.role, ''), f.account_id IS NOT NULL, coalesce(f.muted, false)
		FROM `+channelFrom+` WHERE c.id = $2`+lock, viewerID, channelID).
		Scan(&r.pk, &r.ch.ID, &r.ch.Listed, &r.ch.Reactions, &r.rel.Role, &r.rel.Following, &r.rel.Muted)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errChannelNotFound
	} else if err != nil {
		return nil, err
	}
	if !r.rel.CanSee(r.ch.Listed) {
		return nil, errChannelNotFound
	}
	return &r, nil
}

// adminAccess is adminChannel with loadAccess's partial row.
func (t *tx) adminAccess(ctx context.Context, actorID, channelID, lock string) (*chanRow, error) {
	if actorID == "" {
		return nil, errNoActor
	}
	if keyID, ok := herald.KeyOfActor(actorID); ok {
		return keyAccess(ctx, t, keyID, channelID, lock)
	}
	r, err := loadAccess(ctx, t, actorID, channelID, lock)
	if err != nil {
		return nil, err
	}
	return r, r.rel.Admin(actorID)
}

// adminChannel loads a channel for an admin-only action.
func (t *tx) adminChannel(ctx context.Context, actorID, channelID, lock string) (*chanRow, error) {
	if actorID == "" {
		return nil, errNoActor
	}
	r, err := loadChannel(ctx, t, t.now, actorID, channelID, lock)
	if err != nil {
		return nil, err
	}
	return r, r.rel.Admin(actorID)
}

// ownerChannel loads a channel for an owner-only action.
func (t *tx) ownerChannel(ctx context.Context, actorID, channelID, lock string) (*chanRow, error) {
	if actorID == "" {
		return nil, errNoActor
	}
	r, err := loadChannel(ctx, t, t.now, actorID, channelID, lock)
	if err != nil {
		return nil, err
	}
	return r, r.rel.Owner(actorID)
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateChannel validates and inserts a channel owned by ownerID.
func (db *DB) CreateChannel(ctx context.Context, ownerID string, ch *herald.Channel) error {
	if ownerID == "" {
		return errNoActor
	}
	if err := ch.Normalize(); err != nil {
		return err
	}
	return db.inTx(ctx, func(t *tx) error {
		id, code := herald.NewID(), herald.NewInviteCode()
		_, err := t.Exec(ctx, `WITH c AS (INSERT INTO channels (id, handle, name, description, category, country,
				language, listed, verified, reactions, follower_count, invite_code, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false, $9, 0, $10, $11) RETURNING pk)
			INSERT INTO channel_search (pk, name, name_handle, words)
			SELECT pk, $12::tsvector, $13::tsvector, $14::tsvector FROM c WHERE $8`,
			append([]any{id, nullIfEmpty(ch.Handle), ch.Name, ch.Description, ch.Category, ch.Country, ch.Language,
				ch.Listed, ch.Reactions, code, t.now}, searchVectors(ch)...)...)
		if isUniqueViolation(err, "channels_handle_key") {
			return herald.KindErrorf(herald.ECONFLICT, "handle-taken", "Handle %q is taken.", ch.Handle)
		} else if err != nil {
			return err
		}
		_, err = t.Exec(ctx, `INSERT INTO channel_admins (channel_id, account_id, role, added_at)
			VALUES ($1, $2, 'owner', $3)`, id, ownerID, t.now)
		if isForeignKeyViolation(err) {
			return errAccountNotFound
		} else if err != nil {
			return err
		}
		if _, err := t.Exec(ctx, `INSERT INTO update_heads (channel_id, seq) VALUES ($1, 0)`, id); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, `INSERT INTO stream_heads (stream, seq) VALUES ($1, 0)`, id); err != nil {
			return err
		}
		if _, _, err := t.newSigningKey(ctx, id); err != nil {
			return err
		}
		role := herald.RoleOwner
		ch.ID, ch.InviteCode, ch.CreatedAt = id, code, t.now
		ch.Verified, ch.FollowerCount, ch.LastUpdateAt = false, 0, nil
		// The owner's open streams carry the new channel from its start.
		var start int64
		if err := t.appendEvent(ctx, herald.Event{Stream: herald.AccountStream(ownerID), Type: herald.EventChannelAdminAdded,
			ChannelID: id, Channel: ch.Public(), ChannelSeq: &start}); err != nil {
			return err
		}
		ch.Viewer = herald.ChannelViewer{Role: &role}
		return nil
	})
}

// FindChannel returns a live channel as viewerID sees it.
func (db *DB) FindChannel(ctx context.Context, viewerID, channelID string) (*herald.Channel, error) {
	r, err := loadChannel(ctx, db.pool, db.now(), viewerID, channelID, lockNone)
	if r != nil {
		db.signAvatar(&r.ch)
	}
	if err != nil {
		return nil, mapError(err)
	}
	return r.view(), nil
}

// SetVerified sets a channel's verified flag (operators; see herald.ChannelStore).
func (db *DB) SetVerified(ctx context.Context, channelID string, verified bool) (*herald.Channel, error) {
	var out *herald.Channel
	err := db.inTx(ctx, func(t *tx) error {
		r, err := scanChannel(t.QueryRow(ctx, `SELECT `+channelCols+` FROM `+channelFrom+` WHERE c.id = $3`+lockNoKeyUpd,
			"", t.now, channelID))
		if errors.Is(err, pgx.ErrNoRows) {
			return errChannelNotFound
		} else if err != nil {
			return err
		}
		if r.ch.Verified == verified {
			out = r.public()
			return nil
		}
		if _, err := t.Exec(ctx, `UPDATE channels SET verified = $2 WHERE pk = $1`, r.pk, verified); err != nil {
			return err
		}
		r.ch.Verified = verified
		out = r.public()
		return t.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventChannelUpdated, ChannelID: r.ch.ID, Channel: r.public()})
	})
	return out, err
}

// UpdateChannel applies an admin's patch and appends channel.updated.
func (db *DB) UpdateChannel(ctx context.Context, actorID, channelID string, p herald.ChannelPatch) (*herald.Channel, error) {
	var out *herald.Channel
	err := db.inTx(ctx, func(t *tx) error {
		r, err := t.adminChannel(ctx, actorID, channelID, lockNoKeyUpd)
		if err != nil {
			return err
		}
		if err := refuseSuspended(ctx, t, r.pk); err != nil {
			return err
		}
		if err := p.Apply(&r.ch); err != nil {
			return err
		}
		c := &r.ch
		_, err = t.Exec(ctx, `UPDATE channels SET handle = $2, name = $3, description = $4, category = $5,
			country = $6, language = $7, listed = $8, reactions = $9 WHERE pk = $1`,
			r.pk, nullIfEmpty(c.Handle), c.Name, c.Description, c.Category, c.Country, c.Language,
			c.Listed, c.Reactions)
		if err == nil {
			if c.Listed {
				_, err = t.Exec(ctx, `INSERT INTO channel_search (pk, name, name_handle, words)
					VALUES ($1, $2::tsvector, $3::tsvector, $4::tsvector)
					ON CONFLICT (pk) DO UPDATE SET name = excluded.name, name_handle = excluded.name_handle, words = excluded.words
					WHERE channel_search.words IS DISTINCT FROM excluded.words
						OR channel_search.name_handle IS DISTINCT FROM excluded.name_handle`,
					append([]any{r.pk}, searchVectors(c)...)...)
			} else {
				_, err = t.Exec(ctx, `DELETE FROM channel_search WHERE pk = $1`, r.pk)
			}
		}
		if isUniqueViolation(err, "channels_handle_key") {
			return herald.KindErrorf(herald.ECONFLICT, "handle-taken", "Handle %q is taken.", c.Handle)
		} else if err != nil {
			return err
		}
		out = r.view()
		return t.appendEvent(ctx, herald.Event{Stream: c.ID, Type: herald.EventChannelUpdated, ChannelID: c.ID, Channel: r.public()})
	})
	return out, err
}

// DeleteChannel erases a channel and everything in it (owner only). The
// channel.deleted event is published live, then the stream itself is erased:
// resuming it later gets a resync, which is what a deleted channel needs.
func (db *DB) DeleteChannel(ctx context.Context, actorID, channelID string) error {
	return db.inTx(ctx, func(t *tx) error {
		r, err := t.ownerChannel(ctx, actorID, channelID, lockForUpdate)
		if err != nil {
			return err
		}
		// Counter headers before the stream head: FlushCounts' lock order.
		if _, err := t.Exec(ctx, `SELECT 1 FROM update_counts uc JOIN updates u ON u.id = uc.update_id
			WHERE u.channel_id = $1 ORDER BY uc.update_id FOR UPDATE OF uc`, r.ch.ID); err != nil {
			return err
		}
		if err := t.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventChannelDeleted, ChannelID: r.ch.ID}); err != nil {
			return err
		}
		for _, q := range []string{
			// The channel's stream, and the follows, unfollows and admin
			// roles of the channel in account streams (follow history: see
			// herald.UnfollowTrail).
			`DELETE FROM events WHERE stream = $1 OR channel_id = $1`,
			`DELETE FROM stream_heads WHERE stream = $1`,
			`DELETE FROM stream_floors WHERE stream = $1`,
			// Kept Idempotency-Key answers about the channel (issue 15).
			`DELETE FROM idempotency_keys WHERE channel_id = $1 OR resource_id = $1`,
			// Cascades to admins, follows, updates, counters, reactions and votes.
			`DELETE FROM channels WHERE id = $1`,
		} {
			if _, err := t.Exec(ctx, q, r.ch.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListAdmins returns the owner first, then admins by seniority.
func (db *DB) ListAdmins(ctx context.Context, actorID, channelID string) ([]herald.Admin, error) {
	var out []herald.Admin
	err := db.read(ctx, func(t *tx) error {
		if _, err := t.adminChannel(ctx, actorID, channelID, lockNone); err != nil {
			return err
		}
		rows, err := t.Query(ctx, `SELECT a.id, a.username, a.display_name, a.created_at, ca.role, ca.added_at
			FROM channel_admins ca JOIN accounts a ON a.id = ca.account_id
			WHERE ca.channel_id = $1 ORDER BY ca.role = 'owner' DESC, ca.added_at, a.username`, channelID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (herald.Admin, error) {
			var ad herald.Admin
			err := r.Scan(&ad.Account.ID, &ad.Account.Username, &ad.Account.DisplayName, &ad.Account.CreatedAt, &ad.Role, &ad.AddedAt)
			ad.Account.CreatedAt, ad.AddedAt = ad.Account.CreatedAt.UTC(), ad.AddedAt.UTC()
			return ad, err
		})
		return err
	})
	if out == nil && err == nil {
		out = []herald.Admin{}
	}
	return out, err
}

// AddAdmin makes username an admin (owner only).
func (db *DB) AddAdmin(ctx context.Context, actorID, channelID, username string) (*herald.Admin, error) {
	if err := herald.ValidateUsername(username); err != nil {
		return nil, err
	}
	var out *herald.Admin
	err := db.inTx(ctx, func(t *tx) error {
		// The channel row lock serializes admin changes, so MaxAdmins holds.
		r, err := t.ownerChannel(ctx, actorID, channelID, lockNoKeyUpd)
		if err != nil {
			return err
		}
		var a herald.Account
		err = t.QueryRow(ctx, `SELECT id, username, display_name, created_at FROM accounts WHERE username = $1`, username).
			Scan(&a.ID, &a.Username, &a.DisplayName, &a.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return errAccountNotFound
		} else if err != nil {
			return err
		}
		a.CreatedAt = a.CreatedAt.UTC()
		var n int
		var already bool
		if err := t.QueryRow(ctx, `SELECT count(*), coalesce(bool_or(account_id = $2), false)
			FROM channel_admins WHERE channel_id = $1`, r.ch.ID, a.ID).Scan(&n, &already); err != nil {
			return err
		}
		if already {
			return herald.KindErrorf(herald.ECONFLICT, "already-admin", "%s is already an admin.", a.Username)
		}
		if n >= herald.MaxAdmins {
			return herald.KindErrorf(herald.ECONFLICT, "too-many-admins", "A channel has at most %d admins, owner included.", herald.MaxAdmins)
		}
		if _, err := t.Exec(ctx, `INSERT INTO channel_admins (channel_id, account_id, role, added_at)
			VALUES ($1, $2, 'admin', $3)`, r.ch.ID, a.ID, t.now); err != nil {
			return err
		}
		// Tell the new admin's open streams, which then carry the channel
		// from its position now (as for a follow).
		head, err := t.streamHead(ctx, r.ch.ID)
		if err != nil {
			return err
		}
		if err := t.appendEvent(ctx, herald.Event{Stream: herald.AccountStream(a.ID), Type: herald.EventChannelAdminAdded,
			ChannelID: r.ch.ID, Channel: r.public(), ChannelSeq: &head}); err != nil {
			return err
		}
		out = &herald.Admin{Account: a, Role: herald.RoleAdmin, AddedAt: t.now}
		return nil
	})
	return out, err
}

// RemoveAdmin removes an admin: the owner removes anyone but themselves, an
// admin may remove only themselves.
func (db *DB) RemoveAdmin(ctx context.Context, actorID, channelID, accountID string) error {
	return db.inTx(ctx, func(t *tx) error {
		r, err := t.adminChannel(ctx, actorID, channelID, lockNoKeyUpd)
		if err != nil {
			return err
		}
		if !r.rel.IsOwner() && accountID != actorID {
			return errNotOwner
		}
		var role string
		err = t.QueryRow(ctx, `SELECT role FROM channel_admins WHERE channel_id = $1 AND account_id = $2`, r.ch.ID, accountID).Scan(&role)
		if errors.Is(err, pgx.ErrNoRows) {
			return errAdminNotFound
		} else if err != nil {
			return err
		}
		if role == herald.RoleOwner {
			return herald.KindErrorf(herald.ECONFLICT, "owner-cannot-be-removed", "The owner can't be removed; transfer ownership first.")
		}
		if _, err := t.Exec(ctx, `DELETE FROM channel_admins WHERE channel_id = $1 AND account_id = $2`, r.ch.ID, accountID); err != nil {
			return err
		}
		return t.appendEvent(ctx, herald.Event{Stream: herald.AccountStream(accountID), Type: herald.EventChannelAdminRemoved,
			ChannelID: r.ch.ID, Channel: r.public()})
	})
}

// TransferOwnership makes an existing admin the owner; the old owner stays an admin.
func (db *DB) TransferOwnership(ctx context.Context, actorID, channelID, newOwnerID string) error {
	return db.inTx(ctx, func(t *tx) error {
		r, err := t.ownerChannel(ctx, actorID, channelID, lockNoKeyUpd)
		if err != nil {
			return err
		}
		if newOwnerID == actorID {
			return nil
		}
		tag, err := t.Exec(ctx, `UPDATE channel_admins SET role = 'owner'
			WHERE channel_id = $1 AND account_id = $2 AND role = 'admin'`, r.ch.ID, newOwnerID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errAdminNotFound
		}
		_, err = t.Exec(ctx, `UPDATE channel_admins SET role = 'admin' WHERE channel_id = $1 AND account_id = $2`, r.ch.ID, actorID)
		return err
	})
}

// Follow follows a visible channel by id (listed, or already related).
func (db *DB) Follow(ctx context.Context, accountID, channelID string) (*herald.Channel, error) {
	if accountID == "" {
		return nil, errNoActor
	}
	var out *herald.Channel
	err := db.inTx(ctx, func(t *tx) error {
		// The channel row first: the follower count changes below.
		r, err := loadChannel(ctx, t, t.now, accountID, channelID, lockNoKeyUpd)
		if err != nil {
			return err
		}
		out, err = t.follow(ctx, r, accountID)
		return err
	})
	return out, err
}

// follow records the follow if new, keeps follower_count exact and tells
// the account's other devices. The caller holds the channel row lock.
func (t *tx) follow(ctx context.Context, r *chanRow, accountID string) (*herald.Channel, error) {
	if !r.rel.Following {
		_, err := t.Exec(ctx, `INSERT INTO follows (account_id, channel_id, followed_at) VALUES ($1, $2, $3)`,
			accountID, r.ch.ID, t.now)
		if isForeignKeyViolation(err) {
			return nil, errAccountNotFound
		} else if err != nil {
			return nil, err
		}
		if err := t.addFollowers(ctx, r.pk, 1); err != nil {
			return nil, err
		}
		r.rel.Following, r.rel.Muted = true, false
		r.ch.FollowerCount++
		// The channel's position at the follow, read in the follow's
		// transaction: an open stream of the account joins the channel
		// exactly there (no clock involved). A post still in flight has a
		// higher seq, so it reaches the follower too.
		head, err := t.streamHead(ctx, r.ch.ID)
		if err != nil {
			return nil, err
		}
		if err := t.appendEvent(ctx, herald.Event{Stream: herald.AccountStream(accountID), Type: herald.EventChannelFollowed,
			ChannelID: r.ch.ID, Channel: r.public(), ChannelSeq: &head}); err != nil {
			return nil, err
		}
	}
	return r.view(), nil
}

// streamHead is a stream's latest seq (0 if it has none), read in the
// transaction: the position a follower or a new admin joins the channel at.
func (t *tx) streamHead(ctx context.Context, stream string) (int64, error) {
	var head int64
	err := t.QueryRow(ctx, `SELECT coalesce((SELECT seq FROM stream_heads WHERE stream = $1), 0)`, stream).Scan(&head)
	return head, err
}

// addFollowers changes a channel's follower count, logs the old value for
// directory walks in progress (see directory_changes) and counts the change
// in the channel's day (insights).
func (t *tx) addFollowers(ctx context.Context, channelPK, delta int64) error {
	var followers int64
	err := t.QueryRow(ctx, `WITH c AS (UPDATE channels SET follower_count = follower_count + $2 WHERE pk = $1
			RETURNING follower_count - $2 AS old, follower_count AS now),
		logged AS (INSERT INTO directory_changes (channel_pk, kind, day, old_value) SELECT $1, 0, 0, old FROM c)
		SELECT now FROM c`, channelPK, delta).Scan(&followers)
	if err != nil {
		return err
	}
	return t.countFollow(ctx, channelPK, delta, followers)
}

// Unfollow stops following (idempotent).
func (db *DB) Unfollow(ctx context.Context, accountID, channelID string) error {
	if accountID == "" {
		return errNoActor
	}
	return db.inTx(ctx, func(t *tx) error {
		r, err := loadChannel(ctx, t, t.now, accountID, channelID, lockNoKeyUpd)
		if err != nil {
			return err
		}
		if !r.rel.Following {
			return nil
		}
		if _, err := t.Exec(ctx, `DELETE FROM follows WHERE account_id = $1 AND channel_id = $2`, accountID, r.ch.ID); err != nil {
			return err
		}
		if err := t.addFollowers(ctx, r.pk, -1); err != nil {
			return err
		}
		r.ch.FollowerCount--
		return t.appendEvent(ctx, herald.Event{Stream: herald.AccountStream(accountID), Type: herald.EventChannelUnfollowed,
			ChannelID: r.ch.ID, Channel: r.public()})
	})
}

// SetMuted mutes or unmutes a followed channel.
func (db *DB) SetMuted(ctx context.Context, accountID, channelID string, muted bool) (*herald.Channel, error) {
	if accountID == "" {
		return nil, errNoActor
	}
	var out *herald.Channel
	err := db.inTx(ctx, func(t *tx) error {
		r, err := loadChannel(ctx, t, t.now, accountID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		if !r.rel.Following {
			return herald.KindErrorf(herald.ECONFLICT, "not-following", "Follow the channel before muting it.")
		}
		if _, err := t.Exec(ctx, `UPDATE follows SET muted = $3 WHERE account_id = $1 AND channel_id = $2`,
			accountID, r.ch.ID, muted); err != nil {
			return err
		}
		r.rel.Muted = muted
		out = r.view()
		return nil
	})
	return out, err
}

// ListFollowedChannels returns the followed channels, most recently active first.
func (db *DB) ListFollowedChannels(ctx context.Context, accountID string) ([]*herald.Channel, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+channelCols+` FROM `+channelFrom+`
		WHERE f.account_id IS NOT NULL ORDER BY lua DESC NULLS LAST, f.followed_at DESC, c.pk DESC`, accountID, db.now())
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*herald.Channel, error) {
		cr, err := scanChannel(r)
		if err != nil {
			return nil, err
		}
		return cr.view(), nil
	})
	if out == nil && err == nil {
		out = []*herald.Channel{}
	}
	return out, err
}

// FollowedStreams returns the ids of the channels accountID follows or
// administers, each once (UNION dedupes an admin who also follows).
func (db *DB) FollowedStreams(ctx context.Context, accountID string) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT c.id FROM channels c WHERE c.id IN (
		SELECT channel_id FROM follows WHERE account_id = $1
		UNION SELECT channel_id FROM channel_admins WHERE account_id = $1) ORDER BY c.pk`, accountID)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if ids == nil && err == nil {
		ids = []string{}
	}
	return ids, err
}

// RotateInvite replaces the channel's invite code (admins); the old one dies at once.
func (db *DB) RotateInvite(ctx context.Context, actorID, channelID string) (string, error) {
	var code string
	err := db.inTx(ctx, func(t *tx) error {
		r, err := t.adminChannel(ctx, actorID, channelID, lockNoKeyUpd)
		if err != nil {
			return err
		}
		if err := refuseSuspended(ctx, t, r.pk); err != nil {
			return err
		}
		code = herald.NewInviteCode()
		_, err = t.Exec(ctx, `UPDATE channels SET invite_code = $2 WHERE pk = $1`, r.pk, code)
		return err
	})
	return code, err
}

// findByInvite loads the channel an invite opens, visible or not.
func findByInvite(ctx context.Context, q querier, now time.Time, viewerID, code, lock string) (*chanRow, error) {
	if code == "" {
		return nil, errInviteNotFound
	}
	r, err := scanChannel(q.QueryRow(ctx, `SELECT `+channelCols+` FROM `+channelFrom+` WHERE c.invite_code = $3`+lock,
		viewerID, now, code))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errInviteNotFound
	} else if err != nil {
		return nil, err
	}
	signAvatarIn(q, &r.ch)
	return r, nil
}

// FindChannelByInvite returns the channel an invite code opens.
func (db *DB) FindChannelByInvite(ctx context.Context, viewerID, code string) (*herald.Channel, error) {
	r, err := findByInvite(ctx, db.pool, db.now(), viewerID, code, lockNone)
	if r != nil {
		db.signAvatar(&r.ch)
	}
	if err != nil {
		return nil, mapError(err)
	}
	return r.view(), nil
}

// FollowByInvite follows the channel an invite opens, listed or not.
func (db *DB) FollowByInvite(ctx context.Context, accountID, code string) (*herald.Channel, error) {
	if accountID == "" {
		return nil, errNoActor
	}
	var out *herald.Channel
	err := db.inTx(ctx, func(t *tx) error {
		r, err := findByInvite(ctx, t, t.now, accountID, code, lockNoKeyUpd)
		if err != nil {
			return err
		}
		out, err = t.follow(ctx, r, accountID)
		return err
	})
	return out, err
}
