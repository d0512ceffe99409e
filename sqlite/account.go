package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/heraldhq/herald"
)

// CreateAccount inserts an account and its (empty) personal event stream.
func (db *DB) CreateAccount(ctx context.Context, a *herald.Account, passwordHash string) error {
	if err := herald.ValidateUsername(a.Username); err != nil {
		return err
	}
	name, err := herald.NormalizeDisplayName(a.DisplayName, a.Username)
	if err != nil {
		return err
	}
	a.DisplayName = name
	return db.write(ctx, func(tx *Tx) error {
		id := herald.NewID()
		if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, username, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			id, a.Username, a.DisplayName, passwordHash, nanos(tx.now)); err != nil {
			if isUnique(err) {
				return herald.KindErrorf(herald.ECONFLICT, "username-taken", "Username %q is taken.", a.Username)
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO stream_heads (stream, last_seq, floor_seq) VALUES (?, 0, 0)`, herald.AccountStream(id)); err != nil {
			return err
		}
		a.ID, a.CreatedAt = id, tx.now
		return nil
	})
}

// FindAccountByUsername returns the account and its password hash.
func (db *DB) FindAccountByUsername(ctx context.Context, username string) (*herald.Account, string, error) {
	var a herald.Account
	var hash string
	var created int64
	err := pooled{db}.QueryRowContext(ctx, `SELECT id, username, display_name, password_hash, created_at FROM accounts WHERE username = ?`, username).
		Scan(&a.ID, &a.Username, &a.DisplayName, &hash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", errAccountNotFound
	} else if err != nil {
		return nil, "", err
	}
	a.CreatedAt = fromNanos(created)
	return &a, hash, nil
}

// FindAccountByID returns an account.
func (db *DB) FindAccountByID(ctx context.Context, id string) (*herald.Account, error) {
	return findAccount(ctx, pooled{db}, id)
}

func findAccount(ctx context.Context, q queryer, id string) (*herald.Account, error) {
	var a herald.Account
	var created int64
	err := q.QueryRowContext(ctx, `SELECT id, username, display_name, created_at FROM accounts WHERE id = ?`, id).
		Scan(&a.ID, &a.Username, &a.DisplayName, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errAccountNotFound
	} else if err != nil {
		return nil, err
	}
	a.CreatedAt = fromNanos(created)
	return &a, nil
}

// CreateSession stores a session by its token hash.
func (db *DB) CreateSession(ctx context.Context, s *herald.Session) error {
	if len(s.TokenHash) == 0 {
		return herald.Errorf(herald.EINVALID, "Session token hash is empty.")
	}
	return db.write(ctx, func(tx *Tx) error {
		if s.CreatedAt.IsZero() {
			s.CreatedAt = tx.now
		}
		var exp int64
		if !s.ExpiresAt.IsZero() {
			exp = nanos(s.ExpiresAt)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, account_id, created_at, expires_at, user_agent, last_seen) VALUES (?, ?, ?, ?, ?, ?)`,
			s.TokenHash, s.AccountID, nanos(s.CreatedAt), exp, herald.TrimUserAgent(s.UserAgent), nanos(herald.Day(tx.now)))
		if isUnique(err) {
			return herald.Errorf(herald.ECONFLICT, "Session already exists.")
		} else if isForeignKey(err) {
			return errAccountNotFound
		}
		return err
	})
}

// FindAccountBySession returns the account of a live session.
func (db *DB) FindAccountBySession(ctx context.Context, tokenHash []byte) (*herald.Account, error) {
	var a herald.Account
	var created, exp, seen int64
	err := pooled{db}.QueryRowContext(ctx, `SELECT a.id, a.username, a.display_name, a.created_at, s.expires_at, s.last_seen
		FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?`, tokenHash).
		Scan(&a.ID, &a.Username, &a.DisplayName, &created, &exp, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.KindErrorf(herald.EUNAUTHORIZED, "invalid-token", "Invalid or expired token.")
	} else if err != nil {
		return nil, err
	}
	if exp != 0 && !db.cfg.Clock.Now().Before(fromNanos(exp)) {
		return nil, herald.KindErrorf(herald.EUNAUTHORIZED, "invalid-token", "Invalid or expired token.")
	}
	a.CreatedAt = fromNanos(created)
	// The day of last use, written once a day per session at most.
	if day := nanos(herald.Day(db.cfg.Clock.Now())); seen < day {
		err := db.write(ctx, func(tx *Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE token_hash = ? AND last_seen < ?`, day, tokenHash, day)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return &a, nil
}

// DeleteSession removes a session; unknown sessions are fine.
func (db *DB) DeleteSession(ctx context.Context, tokenHash []byte) error {
	return db.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
		return err
	})
}

// pruneSessions deletes expired sessions; PruneExpired calls it.
func pruneSessions(ctx context.Context, tx *Tx, now time.Time) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <> 0 AND expires_at <= ?`, nanos(now))
	return err
}
