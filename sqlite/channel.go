package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
)

// chanRow is a channel as stored plus one account's relation to it.
type chanRow struct {
	pk     int64
	ch     herald.Channel // without InviteCode and Viewer
	invite string
	rel    storeutil.Relation
}

// view returns the channel as the account sees it.
func (r *chanRow) view() *herald.Channel { return r.rel.View(r.ch, r.invite) }

// public returns the channel as carried by events: no invite, no viewer.
func (r *chanRow) public() *herald.Channel { return r.ch.Public() }

// relation turns the columns a.role and f.muted (NULL: not an admin, not
// following) into a Relation.
func relation(role sql.NullString, muted sql.NullInt64) storeutil.Relation {
	return storeutil.Relation{Role: role.String, Following: muted.Valid, Muted: muted.Valid && muted.Int64 != 0}
}

// channelSelect reads channels with the newest live update's time (?1 = now)
// and one account's relation (?2 = account id).
const channelSelect = `SELECT c.pk, c.id, c.handle, c.name, c.description, c.category, c.country, c.language,
	c.listed, c.verified, c.reactions, c.invite_code, c.follower_count, c.created_at,
	(SELECT u.created_at FROM updates u WHERE u.channel_pk = c.pk AND u.expires_at > ?1 ORDER BY u.seq DESC LIMIT 1) AS lua,
	a.role, f.muted, coalesce(c.avatar_id, '')
FROM channels c
LEFT JOIN admins a ON a.channel_pk = c.pk AND a.account_id = ?2
LEFT JOIN follows f ON f.channel_pk = c.pk AND f.account_id = ?2 `

type scanner interface{ Scan(dest ...any) error }

func scanChannel(s scanner) (*chanRow, error) {
	var r chanRow
	var handle sql.NullString
	var listed, verified int64
	var created int64
	var lua sql.NullInt64
	var role sql.NullString
	var muted sql.NullInt64
	var avatar string
	if err := s.Scan(&r.pk, &r.ch.ID, &handle, &r.ch.Name, &r.ch.Description, &r.ch.Category, &r.ch.Country, &r.ch.Language,
		&listed, &verified, &r.ch.Reactions, &r.invite, &r.ch.FollowerCount, &created, &lua, &role, &muted, &avatar); err != nil {
		return nil, err
	}
	r.ch.AvatarURL = herald.AvatarURL(avatar)
	r.rel = relation(role, muted)
	r.ch.Handle = handle.String
	r.ch.Listed, r.ch.Verified = listed != 0, verified != 0
	r.ch.CreatedAt = fromNanos(created)
	r.ch.LastUpdateAt = nullTime(lua)
	return &r, nil
}

// loadChannel returns the channel and viewerID's relation to it, ENOTFOUND
// if it does not exist or is invisible to viewerID.
func loadChannel(ctx context.Context, q queryer, now time.Time, viewerID, channelID string) (*chanRow, error) {
	r, err := scanChannel(q.QueryRowContext(ctx, channelSelect+`WHERE c.id = ?3`, nanos(now), viewerID, channelID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errChannelNotFound
	} else if err != nil {
		return nil, err
	}
	if !r.rel.CanSee(r.ch.Listed) {
		return nil, errChannelNotFound
	}
	signAvatar(q, &r.ch)
	return r, nil
}

// accessSelect reads only what access checks need (?1 = account id, ?2 =
// channel id): update reads and writes skip the full channel row.
const accessSelect = `SELECT c.pk, c.id, c.listed, c.reactions, a.role, f.muted
FROM channels c
LEFT JOIN admins a ON a.channel_pk = c.pk AND a.account_id = ?1
LEFT JOIN follows f ON f.channel_pk = c.pk AND f.account_id = ?1
WHERE c.id = ?2`

// loadAccess is loadChannel with only pk, ID, Listed, Reactions and the
// relation filled.
func loadAccess(ctx context.Context, q queryer, viewerID, channelID string) (*chanRow, error) {
	var r chanRow
	var listed int64
	var role sql.NullString
	var muted sql.NullInt64
	err := q.QueryRowContext(ctx, accessSelect, viewerID, channelID).Scan(&r.pk, &r.ch.ID, &listed, &r.ch.Reactions, &role, &muted)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errChannelNotFound
	} else if err != nil {
		return nil, err
	}
	r.ch.Listed, r.rel = listed != 0, relation(role, muted)
	if !r.rel.CanSee(r.ch.Listed) {
		return nil, errChannelNotFound
	}
	return &r, nil
}

// adminAccess is adminChannel with loadAccess's partial row.
func adminAccess(ctx context.Context, tx *Tx, actorID, channelID string) (*chanRow, error) {
	if actorID == "" {
		return nil, errNoActor
	}
	if keyID, ok := herald.KeyOfActor(actorID); ok {
		return keyAccess(ctx, tx, keyID, channelID)
	}
	r, err := loadAccess(ctx, tx, actorID, channelID)
	if err != nil {
		return nil, err
	}
	return r, r.rel.Admin(actorID)
}

// adminChannel loads a channel for an admin-only write.
func adminChannel(ctx context.Context, tx *Tx, actorID, channelID string) (*chanRow, error) {
	if actorID == "" {
		return nil, errNoActor
	}
	r, err := loadChannel(ctx, tx, tx.now, actorID, channelID)
	if err != nil {
		return nil, err
	}
	return r, r.rel.Admin(actorID)
}

// ownerChannel loads a channel for an owner-only write.
func ownerChannel(ctx context.Context, tx *Tx, actorID, channelID string) (*chanRow, error) {
	if actorID == "" {
		return nil, errNoActor
	}
	r, err := loadChannel(ctx, tx, tx.now, actorID, channelID)
	if err != nil {
		return nil, err
	}
	return r, r.rel.Owner(actorID)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// CreateChannel validates and inserts a channel owned by ownerID.
func (db *DB) CreateChannel(ctx context.Context, ownerID string, ch *herald.Channel) error {
	if ownerID == "" {
		return errNoActor
	}
	if err := ch.Normalize(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		id, invite := herald.NewID(), herald.NewInviteCode()
		res, err := tx.ExecContext(ctx, `INSERT INTO channels (id, handle, name, description, category, country, language, listed, verified, reactions, invite_code, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
			id, nullString(ch.Handle), ch.Name, ch.Description, ch.Category, ch.Country, ch.Language, boolInt(ch.Listed), ch.Reactions, invite, nanos(tx.now))
		if isUnique(err) {
			return herald.KindErrorf(herald.ECONFLICT, "handle-taken", "Handle %q is taken.", ch.Handle)
		} else if err != nil {
			return err
		}
		pk, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO admins (channel_pk, account_id, role, added_at) VALUES (?, ?, ?, ?)`,
			pk, ownerID, herald.RoleOwner, nanos(tx.now)); err != nil {
			if isForeignKey(err) {
				return errAccountNotFound
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO stream_heads (stream, last_seq, floor_seq) VALUES (?, 0, 0)`, id); err != nil {
			return err
		}
		if _, _, err := newSigningKey(ctx, tx, pk); err != nil {
			return err
		}
		role := herald.RoleOwner
		ch.ID, ch.InviteCode, ch.CreatedAt = id, invite, tx.now
		ch.Verified, ch.FollowerCount, ch.LastUpdateAt = false, 0, nil
		// The owner's open streams carry the new channel from its start.
		var start int64
		if err := tx.appendEvent(ctx, herald.Event{Stream: herald.AccountStream(ownerID), Type: herald.EventChannelAdminAdded, ChannelID: id, Channel: ch.Public(), ChannelSeq: &start}); err != nil {
			return err
		}
		ch.Viewer = herald.ChannelViewer{Role: &role}
		return nil
	})
}

// FindChannel returns a channel as viewerID sees it.
func (db *DB) FindChannel(ctx context.Context, viewerID, channelID string) (*herald.Channel, error) {
	var out *herald.Channel
	err := db.view(ctx, func(tx queryer, now time.Time) error {
		r, err := loadChannel(ctx, tx, now, viewerID, channelID)
		if err != nil {
			return err
		}
		out = r.view()
		return nil
	})
	return out, err
}

// UpdateChannel applies an admin's patch and appends channel.updated.
func (db *DB) UpdateChannel(ctx context.Context, actorID, channelID string, p herald.ChannelPatch) (*herald.Channel, error) {
	var out *herald.Channel
	err := db.write(ctx, func(tx *Tx) error {
		r, err := adminChannel(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		if err := refuseSuspended(ctx, tx, r.pk); err != nil {
			return err
		}
		if err := p.Apply(&r.ch); err != nil {
			return err
		}
		c := &r.ch
		_, err = tx.ExecContext(ctx, `UPDATE channels SET handle = ?, name = ?, description = ?, category = ?, country = ?, language = ?, listed = ?, reactions = ? WHERE pk = ?`,
			nullString(c.Handle), c.Name, c.Description, c.Category, c.Country, c.Language, boolInt(c.Listed), c.Reactions, r.pk)
		if isUnique(err) {
			return herald.KindErrorf(herald.ECONFLICT, "handle-taken", "Handle %q is taken.", c.Handle)
		} else if err != nil {
			return err
		}
		if err := tx.appendEvent(ctx, herald.Event{Stream: c.ID, Type: herald.EventChannelUpdated, ChannelID: c.ID, Channel: r.public()}); err != nil {
			return err
		}
		out = r.view()
		return nil
	})
	if err == nil {
		// The old name, handle and description leave the WAL soon.
		db.noteErased()
	}
	return out, err
}

// SetVerified sets a channel's verified flag (operators; see herald.ChannelStore).
func (db *DB) SetVerified(ctx context.Context, channelID string, verified bool) (*herald.Channel, error) {
	var out *herald.Channel
	err := db.write(ctx, func(tx *Tx) error {
		r, err := scanChannel(tx.QueryRowContext(ctx, channelSelect+`WHERE c.id = ?3`, nanos(tx.now), "", channelID))
		if errors.Is(err, sql.ErrNoRows) {
			return errChannelNotFound
		} else if err != nil {
			return err
		}
		if r.ch.Verified == verified {
			out = r.public()
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE channels SET verified = ? WHERE pk = ?`, boolInt(verified), r.pk); err != nil {
			return err
		}
		r.ch.Verified = verified
		out = r.public()
		return tx.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventChannelUpdated, ChannelID: r.ch.ID, Channel: r.public()})
	})
	return out, err
}

// DeleteChannel erases a channel and everything in it (owner only). The
// channel.deleted event is published live, then the stream itself is erased:
// resuming it later gets a resync, which is what a deleted channel needs.
func (db *DB) DeleteChannel(ctx context.Context, actorID, channelID string) error {
	err := db.write(ctx, func(tx *Tx) error {
		r, err := ownerChannel(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		if err := tx.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventChannelDeleted, ChannelID: r.ch.ID}); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM events WHERE stream = ?`,
			// Follow history: follows, unfollows and admin roles of the
			// channel in account streams (see herald.UnfollowTrail).
			`DELETE FROM events WHERE channel_id = ?1 AND substr(stream, 1, 1) = '@'`,
			`DELETE FROM stream_heads WHERE stream = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, r.ch.ID); err != nil {
				return err
			}
		}
		if err := eraseAnswers(ctx, tx, []string{r.ch.ID}); err != nil {
			return err
		}
		// Cascades to updates, poll options, reactions, counts, votes, admins and follows.
		_, err = tx.ExecContext(ctx, `DELETE FROM channels WHERE pk = ?`, r.pk)
		return err
	})
	if err == nil {
		db.noteErased()
	}
	return err
}

// ListAdmins returns the owner first, then admins by seniority.
func (db *DB) ListAdmins(ctx context.Context, actorID, channelID string) ([]herald.Admin, error) {
	var out []herald.Admin
	err := db.view(ctx, func(tx queryer, now time.Time) error {
		if actorID == "" {
			return errNoActor
		}
		r, err := loadChannel(ctx, tx, now, actorID, channelID)
		if err != nil {
			return err
		}
		if !r.rel.IsAdmin() {
			return errNotAdmin
		}
		out, err = listAdmins(ctx, tx, r.pk)
		return err
	})
	return out, err
}

func listAdmins(ctx context.Context, q queryer, pk int64) ([]herald.Admin, error) {
	rows, err := q.QueryContext(ctx, `SELECT a.id, a.username, a.display_name, a.created_at, ad.role, ad.added_at
		FROM admins ad JOIN accounts a ON a.id = ad.account_id WHERE ad.channel_pk = ?
		ORDER BY ad.role = 'owner' DESC, ad.added_at, a.username`, pk)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []herald.Admin{}
	for rows.Next() {
		var ad herald.Admin
		var created, added int64
		if err := rows.Scan(&ad.Account.ID, &ad.Account.Username, &ad.Account.DisplayName, &created, &ad.Role, &added); err != nil {
			return nil, err
		}
		ad.Account.CreatedAt, ad.AddedAt = fromNanos(created), fromNanos(added)
		out = append(out, ad)
	}
	return out, rows.Err()
}

// AddAdmin makes username an admin (owner only).
func (db *DB) AddAdmin(ctx context.Context, actorID, channelID, username string) (*herald.Admin, error) {
	if err := herald.ValidateUsername(username); err != nil {
		return nil, err
	}
	var out *herald.Admin
	err := db.write(ctx, func(tx *Tx) error {
		r, err := ownerChannel(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		var a herald.Account
		var created int64
		err = tx.QueryRowContext(ctx, `SELECT id, username, display_name, created_at FROM accounts WHERE username = ?`, username).
			Scan(&a.ID, &a.Username, &a.DisplayName, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return errAccountNotFound
		} else if err != nil {
			return err
		}
		a.CreatedAt = fromNanos(created)
		var n int
		var already bool
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(max(account_id = ?), 0) FROM admins WHERE channel_pk = ?`, a.ID, r.pk).Scan(&n, &already); err != nil {
			return err
		}
		if already {
			return herald.KindErrorf(herald.ECONFLICT, "already-admin", "%s is already an admin.", a.Username)
		}
		if n >= herald.MaxAdmins {
			return herald.KindErrorf(herald.ECONFLICT, "too-many-admins", "A channel has at most %d admins, owner included.", herald.MaxAdmins)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO admins (channel_pk, account_id, role, added_at) VALUES (?, ?, ?, ?)`,
			r.pk, a.ID, herald.RoleAdmin, nanos(tx.now)); err != nil {
			return err
		}
		// Tell the new admin's open streams, which then carry the channel
		// from its position now (as for a follow).
		head, err := tx.streamHead(ctx, r.ch.ID)
		if err != nil {
			return err
		}
		if err := tx.appendEvent(ctx, herald.Event{Stream: herald.AccountStream(a.ID), Type: herald.EventChannelAdminAdded, ChannelID: r.ch.ID, Channel: r.public(), ChannelSeq: &head}); err != nil {
			return err
		}
		out = &herald.Admin{Account: a, Role: herald.RoleAdmin, AddedAt: tx.now}
		return nil
	})
	return out, err
}

// RemoveAdmin removes an admin: the owner removes anyone but themselves, an
// admin may remove only themselves.
func (db *DB) RemoveAdmin(ctx context.Context, actorID, channelID, accountID string) error {
	return db.write(ctx, func(tx *Tx) error {
		r, err := adminChannel(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		if !r.rel.IsOwner() && accountID != actorID {
			return errNotOwner
		}
		var role string
		err = tx.QueryRowContext(ctx, `SELECT role FROM admins WHERE channel_pk = ? AND account_id = ?`, r.pk, accountID).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) {
			return errAdminNotFound
		} else if err != nil {
			return err
		}
		if role == herald.RoleOwner {
			return herald.KindErrorf(herald.ECONFLICT, "owner-cannot-be-removed", "The owner can't be removed; transfer ownership first.")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM admins WHERE channel_pk = ? AND account_id = ?`, r.pk, accountID); err != nil {
			return err
		}
		return tx.appendEvent(ctx, herald.Event{Stream: herald.AccountStream(accountID), Type: herald.EventChannelAdminRemoved, ChannelID: r.ch.ID, Channel: r.public()})
	})
}

// TransferOwnership makes an existing admin the owner; the old owner stays an admin.
func (db *DB) TransferOwnership(ctx context.Context, actorID, channelID, newOwnerID string) error {
	return db.write(ctx, func(tx *Tx) error {
		r, err := ownerChannel(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		if newOwnerID == actorID {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE admins SET role = 'owner' WHERE channel_pk = ? AND account_id = ? AND role = 'admin'`, r.pk, newOwnerID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errAdminNotFound
		}
		_, err = tx.ExecContext(ctx, `UPDATE admins SET role = 'admin' WHERE channel_pk = ? AND account_id = ?`, r.pk, actorID)
		return err
	})
}

// Follow follows a visible channel by id (listed, or already related).
func (db *DB) Follow(ctx context.Context, accountID, channelID string) (*herald.Channel, error) {
	var out *herald.Channel
	err := db.write(ctx, func(tx *Tx) error {
		if accountID == "" {
			return errNoActor
		}
		r, err := loadChannel(ctx, tx, tx.now, accountID, channelID)
		if err != nil {
			return err
		}
		out, err = tx.follow(ctx, r, accountID)
		return err
	})
	return out, err
}

// streamHead is a stream's latest seq (0 if it has none), read under the
// write lock: the position a follower or a new admin joins the channel at.
func (tx *Tx) streamHead(ctx context.Context, stream string) (int64, error) {
	var head int64
	err := tx.QueryRowContext(ctx, `SELECT coalesce((SELECT last_seq FROM stream_heads WHERE stream = ?), 0)`, stream).Scan(&head)
	return head, err
}

// follow records the follow if new, keeps follower_count exact and tells
// the account's other devices.
func (tx *Tx) follow(ctx context.Context, r *chanRow, accountID string) (*herald.Channel, error) {
	if !r.rel.Following {
		if _, err := tx.ExecContext(ctx, `INSERT INTO follows (channel_pk, account_id, muted, created_at) VALUES (?, ?, 0, ?)`, r.pk, accountID, nanos(tx.now)); err != nil {
			if isForeignKey(err) {
				return nil, errAccountNotFound
			}
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE channels SET follower_count = follower_count + 1 WHERE pk = ?`, r.pk); err != nil {
			return nil, err
		}
		r.rel.Following, r.rel.Muted = true, false
		r.ch.FollowerCount++
		if err := tx.countFollow(ctx, r.pk, 1, r.ch.FollowerCount); err != nil {
			return nil, err
		}
		// The channel's position at the follow, read under the same write
		// lock as the follow: an open stream of the account joins the
		// channel exactly there (no clock involved).
		head, err := tx.streamHead(ctx, r.ch.ID)
		if err != nil {
			return nil, err
		}
		if err := tx.appendEvent(ctx, herald.Event{Stream: herald.AccountStream(accountID), Type: herald.EventChannelFollowed, ChannelID: r.ch.ID, Channel: r.public(), ChannelSeq: &head}); err != nil {
			return nil, err
		}
	}
	return r.view(), nil
}

// Unfollow stops following (idempotent).
func (db *DB) Unfollow(ctx context.Context, accountID, channelID string) error {
	err := db.write(ctx, func(tx *Tx) error {
		if accountID == "" {
			return errNoActor
		}
		r, err := loadChannel(ctx, tx, tx.now, accountID, channelID)
		if err != nil {
			return err
		}
		if !r.rel.Following {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM follows WHERE channel_pk = ? AND account_id = ?`, r.pk, accountID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE channels SET follower_count = follower_count - 1 WHERE pk = ?`, r.pk); err != nil {
			return err
		}
		r.ch.FollowerCount--
		if err := tx.countFollow(ctx, r.pk, -1, r.ch.FollowerCount); err != nil {
			return err
		}
		return tx.appendEvent(ctx, herald.Event{Stream: herald.AccountStream(accountID), Type: herald.EventChannelUnfollowed, ChannelID: r.ch.ID, Channel: r.public()})
	})
	if err == nil {
		db.noteErased() // the follow row
	}
	return err
}

// SetMuted mutes or unmutes a followed channel.
func (db *DB) SetMuted(ctx context.Context, accountID, channelID string, muted bool) (*herald.Channel, error) {
	var out *herald.Channel
	err := db.write(ctx, func(tx *Tx) error {
		if accountID == "" {
			return errNoActor
		}
		r, err := loadChannel(ctx, tx, tx.now, accountID, channelID)
		if err != nil {
			return err
		}
		if !r.rel.Following {
			return herald.KindErrorf(herald.ECONFLICT, "not-following", "Follow the channel before muting it.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE follows SET muted = ? WHERE channel_pk = ? AND account_id = ?`, boolInt(muted), r.pk, accountID); err != nil {
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
	var out []*herald.Channel
	err := db.view(ctx, func(tx queryer, now time.Time) error {
		rows, err := tx.QueryContext(ctx, channelSelect+`WHERE c.pk IN (SELECT channel_pk FROM follows WHERE account_id = ?2) ORDER BY lua IS NULL, lua DESC, f.created_at DESC, c.pk DESC`, nanos(now), accountID)
		if err != nil {
			return err
		}
		defer rows.Close()
		out = []*herald.Channel{}
		for rows.Next() {
			r, err := scanChannel(rows)
			if err != nil {
				return err
			}
			out = append(out, r.view())
		}
		return rows.Err()
	})
	return out, err
}

// FollowedStreams returns the ids of the channels accountID follows or
// administers, each once (UNION dedupes an admin who also follows).
func (db *DB) FollowedStreams(ctx context.Context, accountID string) ([]string, error) {
	rows, err := pooled{db}.QueryContext(ctx, `SELECT c.id FROM channels c WHERE c.pk IN (
		SELECT channel_pk FROM follows WHERE account_id = ?1 UNION SELECT channel_pk FROM admins WHERE account_id = ?1) ORDER BY c.pk`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// RotateInvite replaces the channel's invite code (admins).
func (db *DB) RotateInvite(ctx context.Context, actorID, channelID string) (string, error) {
	var code string
	err := db.write(ctx, func(tx *Tx) error {
		r, err := adminChannel(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		if err := refuseSuspended(ctx, tx, r.pk); err != nil {
			return err
		}
		code = herald.NewInviteCode()
		_, err = tx.ExecContext(ctx, `UPDATE channels SET invite_code = ? WHERE pk = ?`, code, r.pk)
		return err
	})
	return code, err
}

// findByInvite loads the channel an invite opens, visible or not.
func findByInvite(ctx context.Context, q queryer, now time.Time, viewerID, code string) (*chanRow, error) {
	if code == "" {
		return nil, errInviteNotFound
	}
	r, err := scanChannel(q.QueryRowContext(ctx, channelSelect+`WHERE c.invite_code = ?3`, nanos(now), viewerID, code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errInviteNotFound
	} else if err != nil {
		return nil, err
	}
	signAvatar(q, &r.ch)
	return r, nil
}

// FindChannelByInvite returns the channel an invite code opens.
func (db *DB) FindChannelByInvite(ctx context.Context, viewerID, code string) (*herald.Channel, error) {
	var out *herald.Channel
	err := db.view(ctx, func(tx queryer, now time.Time) error {
		r, err := findByInvite(ctx, tx, now, viewerID, code)
		if err != nil {
			return err
		}
		out = r.view()
		return nil
	})
	return out, err
}

// FollowByInvite follows the channel an invite opens, listed or not.
func (db *DB) FollowByInvite(ctx context.Context, accountID, code string) (*herald.Channel, error) {
	var out *herald.Channel
	err := db.write(ctx, func(tx *Tx) error {
		if accountID == "" {
			return errNoActor
		}
		r, err := findByInvite(ctx, tx, tx.now, accountID, code)
		if err != nil {
			return err
		}
		out, err = tx.follow(ctx, r, accountID)
		return err
	})
	return out, err
}
