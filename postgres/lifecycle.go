package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald"
	"github.com/jackc/pgx/v5"
)

// ListSessions returns the account's live sessions, newest first.
func (db *DB) ListSessions(ctx context.Context, accountID string) ([]herald.SessionInfo, error) {
	rows, err := db.pool.Query(ctx, `SELECT token_hash, user_agent, created_at, coalesce(last_seen, created_at), expires_at FROM sessions
		WHERE account_id = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC, token_hash`, accountID, db.now())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []herald.SessionInfo
	for rows.Next() {
		var s herald.SessionInfo
		var exp *time.Time
		if err := rows.Scan(&s.TokenHash, &s.UserAgent, &s.CreatedAt, &s.LastSeenAt, &exp); err != nil {
			return nil, err
		}
		s.ID, s.CreatedAt, s.LastSeenAt = herald.SessionID(s.TokenHash), s.CreatedAt.UTC(), herald.Day(s.LastSeenAt)
		if exp != nil {
			s.ExpiresAt = exp.UTC()
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// DeleteAccountSession ends one of the account's sessions by its public id.
func (db *DB) DeleteAccountSession(ctx context.Context, accountID, sessionID string) ([]byte, error) {
	var hash []byte
	err := db.inTx(ctx, func(t *tx) error {
		hash = nil
		rows, err := t.Query(ctx, `SELECT token_hash FROM sessions WHERE account_id = $1`, accountID)
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
		_, err = t.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash)
		return err
	})
	return hash, err
}

// ChangePassword replaces the password hash and ends every other session.
func (db *DB) ChangePassword(ctx context.Context, accountID, passwordHash string, keep []byte) error {
	return db.inTx(ctx, func(t *tx) error {
		tag, err := t.Exec(ctx, `UPDATE accounts SET password_hash = $2 WHERE id = $1`, accountID, passwordHash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errAccountNotFound
		}
		_, err = t.Exec(ctx, `DELETE FROM sessions WHERE account_id = $1 AND token_hash IS DISTINCT FROM $2`, accountID, keep)
		return err
	})
}

// SetDisplayName changes the account's display name.
func (db *DB) SetDisplayName(ctx context.Context, accountID, name string) (*herald.Account, error) {
	var a herald.Account
	err := db.inTx(ctx, func(t *tx) error {
		err := t.QueryRow(ctx, `SELECT id, username, display_name, created_at FROM accounts WHERE id = $1 FOR UPDATE`, accountID).
			Scan(&a.ID, &a.Username, &a.DisplayName, &a.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return errAccountNotFound
		} else if err != nil {
			return err
		}
		if a.DisplayName, err = herald.NormalizeDisplayName(name, a.Username); err != nil {
			return err
		}
		_, err = t.Exec(ctx, `UPDATE accounts SET display_name = $2 WHERE id = $1`, accountID, a.DisplayName)
		return err
	})
	if err != nil {
		return nil, err
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return &a, nil
}

// ListInteractions returns the account's own reactions and votes on live updates.
func (db *DB) ListInteractions(ctx context.Context, accountID string) ([]herald.Interaction, error) {
	rows, err := db.pool.Query(ctx, `SELECT u.channel_id, u.id, r.emoji, v.options
		FROM updates u
		LEFT JOIN reactions r ON r.update_id = u.id AND r.account_id = $1
		LEFT JOIN votes v ON v.update_id = u.id AND v.account_id = $1
		WHERE u.id IN (SELECT update_id FROM reactions WHERE account_id = $1 UNION SELECT update_id FROM votes WHERE account_id = $1)
			AND u.expires_at > $2
		ORDER BY u.created_at, u.id`, accountID, db.now())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []herald.Interaction
	for rows.Next() {
		var it herald.Interaction
		var e *string
		var votes []int32
		if err := rows.Scan(&it.ChannelID, &it.UpdateID, &e, &votes); err != nil {
			return nil, err
		}
		if e != nil {
			it.Reaction = *e
		}
		for _, v := range votes {
			it.Votes = append(it.Votes, int(v))
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// DeleteAccount erases the account and what cascades from it.
func (db *DB) DeleteAccount(ctx context.Context, accountID string) error {
	return db.inTx(ctx, func(t *tx) error {
		var owned int
		if err := t.QueryRow(ctx, `SELECT count(*) FROM channel_admins WHERE account_id = $1 AND role = 'owner'`, accountID).Scan(&owned); err != nil {
			return err
		}
		if owned > 0 {
			return herald.ErrOwnsChannels
		}
		// Counter headers first, in FlushCounts' lock order.
		if _, err := t.Exec(ctx, `SELECT 1 FROM update_counts WHERE update_id IN (
				SELECT update_id FROM reactions WHERE account_id = $1 UNION SELECT update_id FROM votes WHERE account_id = $1)
			ORDER BY update_id FOR UPDATE`, accountID); err != nil {
			return err
		}
		// Every public count the account is in drops, as if it had
		// unfollowed, withdrawn its reactions and retracted its votes (the
		// next FlushCounts tells followers the new counts).
		for _, q := range []string{
			`UPDATE update_counts uc SET reactions = add_reaction(uc.reactions, r.emoji, -1), reactions_dirty = true
				FROM reactions r WHERE r.update_id = uc.update_id AND r.account_id = $1`,
			`UPDATE update_counts uc SET votes = (SELECT array_agg(c - CASE WHEN (i - 1)::integer = ANY (v.options) THEN 1 ELSE 0 END ORDER BY i)
					FROM unnest(uc.votes) WITH ORDINALITY AS o(c, i)),
				voters = uc.voters - 1, poll_dirty = true
				FROM votes v WHERE v.update_id = uc.update_id AND v.account_id = $1`,
		} {
			if _, err := t.Exec(ctx, q, accountID); err != nil {
				return err
			}
		}
		rows, err := t.Query(ctx, `SELECT c.pk FROM follows f JOIN channels c ON c.id = f.channel_id WHERE f.account_id = $1 ORDER BY c.pk`, accountID)
		if err != nil {
			return err
		}
		pks, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, pk := range pks {
			if err := t.addFollowers(ctx, pk, -1); err != nil {
				return err
			}
		}
		stream := herald.AccountStream(accountID)
		for _, q := range []string{
			`DELETE FROM events WHERE stream = $1`,
			`DELETE FROM stream_heads WHERE stream = $1`,
			`DELETE FROM stream_floors WHERE stream = $1`,
		} {
			if _, err := t.Exec(ctx, q, stream); err != nil {
				return err
			}
		}
		// Cascades to sessions, push devices, admin roles, follows,
		// reactions and votes.
		tag, err := t.Exec(ctx, `DELETE FROM accounts WHERE id = $1`, accountID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errAccountNotFound
		}
		return nil
	})
}
