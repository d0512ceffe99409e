package sqlite

import (
	"context"
	"sort"
	"time"

	"github.com/heraldhq/herald"
)

// ListSessions returns the account's live sessions, newest first.
func (db *DB) ListSessions(ctx context.Context, accountID string) ([]herald.SessionInfo, error) {
	var out []herald.SessionInfo
	err := db.view(ctx, func(q queryer, now time.Time) error {
		rows, err := q.QueryContext(ctx, `SELECT token_hash, user_agent, created_at, last_seen, expires_at FROM sessions
			WHERE account_id = ? AND (expires_at = 0 OR expires_at > ?) ORDER BY created_at DESC, token_hash`, accountID, nanos(now))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s herald.SessionInfo
			var created, seen, exp int64
			if err := rows.Scan(&s.TokenHash, &s.UserAgent, &created, &seen, &exp); err != nil {
				return err
			}
			s.ID, s.CreatedAt, s.LastSeenAt = herald.SessionID(s.TokenHash), fromNanos(created), fromNanos(seen)
			if exp != 0 {
				s.ExpiresAt = fromNanos(exp)
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, err
}

// DeleteAccountSession ends one of the account's sessions by its public id.
func (db *DB) DeleteAccountSession(ctx context.Context, accountID, sessionID string) ([]byte, error) {
	var hash []byte
	err := db.write(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT token_hash FROM sessions WHERE account_id = ?`, accountID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var h []byte
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return err
			}
			if herald.SessionID(h) == sessionID {
				hash = h
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if hash == nil {
			return errSessionNotFound
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hash)
		return err
	})
	return hash, err
}

// ChangePassword replaces the password hash and ends every other session.
func (db *DB) ChangePassword(ctx context.Context, accountID, passwordHash string, keep []byte) error {
	return db.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET password_hash = ? WHERE id = ?`, passwordHash, accountID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errAccountNotFound
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = ? AND token_hash IS NOT ?`, accountID, keep)
		return err
	})
}

// SetDisplayName changes the account's display name.
func (db *DB) SetDisplayName(ctx context.Context, accountID, name string) (*herald.Account, error) {
	var a *herald.Account
	err := db.write(ctx, func(tx *Tx) error {
		var err error
		if a, err = findAccount(ctx, tx, accountID); err != nil {
			return err
		}
		if a.DisplayName, err = herald.NormalizeDisplayName(name, a.Username); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE accounts SET display_name = ? WHERE id = ?`, a.DisplayName, accountID)
		return err
	})
	if err == nil {
		db.noteErased() // the old name
	}
	return a, err
}

// ListInteractions returns the account's own reactions and votes on live updates.
func (db *DB) ListInteractions(ctx context.Context, accountID string) ([]herald.Interaction, error) {
	type keyed struct {
		pk int64
		it herald.Interaction
	}
	byUpdate := map[string]*keyed{}
	err := db.view(ctx, func(q queryer, now time.Time) error {
		clear(byUpdate)
		get := func(pk int64, ch, upd string) *keyed {
			k := byUpdate[upd]
			if k == nil {
				k = &keyed{pk: pk, it: herald.Interaction{ChannelID: ch, UpdateID: upd}}
				byUpdate[upd] = k
			}
			return k
		}
		rows, err := q.QueryContext(ctx, `SELECT u.pk, c.id, u.id, r.emoji FROM reactions r
			JOIN updates u ON u.pk = r.update_pk JOIN channels c ON c.pk = u.channel_pk
			WHERE r.account_id = ? AND u.expires_at > ?`, accountID, nanos(now))
		if err != nil {
			return err
		}
		for rows.Next() {
			var pk int64
			var ch, upd, e string
			if err := rows.Scan(&pk, &ch, &upd, &e); err != nil {
				rows.Close()
				return err
			}
			get(pk, ch, upd).it.Reaction = e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = q.QueryContext(ctx, `SELECT u.pk, c.id, u.id, v.option_idx FROM votes v
			JOIN updates u ON u.pk = v.update_pk JOIN channels c ON c.pk = u.channel_pk
			WHERE v.account_id = ? AND u.expires_at > ? ORDER BY u.pk, v.option_idx`, accountID, nanos(now))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var pk int64
			var ch, upd string
			var opt int
			if err := rows.Scan(&pk, &ch, &upd, &opt); err != nil {
				return err
			}
			k := get(pk, ch, upd)
			k.it.Votes = append(k.it.Votes, opt)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	list := make([]*keyed, 0, len(byUpdate))
	for _, k := range byUpdate {
		list = append(list, k)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].pk < list[j].pk })
	out := make([]herald.Interaction, len(list))
	for i, k := range list {
		out[i] = k.it
	}
	return out, nil
}

// DeleteAccount erases the account and what cascades from it.
func (db *DB) DeleteAccount(ctx context.Context, accountID string) error {
	err := db.write(ctx, func(tx *Tx) error {
		var owned int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM admins WHERE account_id = ? AND role = 'owner'`, accountID).Scan(&owned); err != nil {
			return err
		}
		if owned > 0 {
			return herald.ErrOwnsChannels
		}
		// Every public count the account is in drops, as if it had
		// unfollowed, withdrawn its reactions and retracted its votes (the
		// next FlushCounts tells followers the new counts).
		for _, q := range []string{
			`UPDATE channels SET follower_count = follower_count - 1 WHERE pk IN (SELECT channel_pk FROM follows WHERE account_id = ?1)`,
			`UPDATE reaction_counts SET count = count - 1 WHERE (update_pk, emoji) IN (SELECT update_pk, emoji FROM reactions WHERE account_id = ?1)`,
			`UPDATE updates SET reactions_dirty = 1 WHERE pk IN (SELECT update_pk FROM reactions WHERE account_id = ?1)`,
			`UPDATE poll_options SET votes = votes - 1 WHERE (update_pk, idx) IN (SELECT update_pk, option_idx FROM votes WHERE account_id = ?1)`,
			`UPDATE updates SET poll_voters = poll_voters - 1, poll_dirty = 1 WHERE pk IN (SELECT DISTINCT update_pk FROM votes WHERE account_id = ?1)`,
			`DELETE FROM events WHERE stream = '@' || ?1`,
			`DELETE FROM stream_heads WHERE stream = '@' || ?1`,
		} {
			if _, err := tx.ExecContext(ctx, q, accountID); err != nil {
				return err
			}
		}
		// Cascades to sessions, push devices, admin roles, follows,
		// reactions and votes.
		res, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE id = ?`, accountID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errAccountNotFound
		}
		return nil
	})
	if err == nil {
		db.noteErased()
	}
	return err
}
