package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald"
	"github.com/jackc/pgx/v5"
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
	return db.inTx(ctx, func(t *tx) error {
		id := herald.NewID()
		_, err := t.Exec(ctx, `INSERT INTO accounts (id, username, display_name, password_hash, created_at)
			VALUES ($1, $2, $3, $4, $5)`, id, a.Username, a.DisplayName, passwordHash, t.now)
		if isUniqueViolation(err, "accounts_username_key") {
			return herald.KindErrorf(herald.ECONFLICT, "username-taken", "Username %q is taken.", a.Username)
		} else if err != nil {
			return err
		}
		if _, err := t.Exec(ctx, `INSERT INTO stream_heads (stream, seq) VALUES ($1, 0)`, herald.AccountStream(id)); err != nil {
			return err
		}
		a.ID, a.CreatedAt = id, t.now
		return nil
	})
}

// FindAccountByUsername returns the account and its password hash.
func (db *DB) FindAccountByUsername(ctx context.Context, username string) (*herald.Account, string, error) {
	var a herald.Account
	var hash string
	err := db.pool.QueryRow(ctx, `SELECT id, username, display_name, created_at, password_hash
		FROM accounts WHERE username = $1`, username).Scan(&a.ID, &a.Username, &a.DisplayName, &a.CreatedAt, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", errAccountNotFound
	} else if err != nil {
		return nil, "", err
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return &a, hash, nil
}

// FindAccountByID returns an account.
func (db *DB) FindAccountByID(ctx context.Context, id string) (*herald.Account, error) {
	var a herald.Account
	err := db.pool.QueryRow(ctx, `SELECT id, username, display_name, created_at FROM accounts WHERE id = $1`, id).
		Scan(&a.ID, &a.Username, &a.DisplayName, &a.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errAccountNotFound
	} else if err != nil {
		return nil, err
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return &a, nil
}

// querier is what the pool and transactions offer for reads.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// CreateSession stores a session by its token hash. A zero ExpiresAt never expires.
func (db *DB) CreateSession(ctx context.Context, s *herald.Session) error {
	if len(s.TokenHash) == 0 {
		return herald.Errorf(herald.EINVALID, "Session token hash is empty.")
	}
	return db.inTx(ctx, func(t *tx) error {
		if s.CreatedAt.IsZero() {
			s.CreatedAt = t.now
		}
		var exp *time.Time
		if !s.ExpiresAt.IsZero() {
			exp = &s.ExpiresAt
		}
		_, err := t.Exec(ctx, `INSERT INTO sessions (token_hash, account_id, created_at, expires_at, user_agent, last_seen)
			VALUES ($1, $2, $3, $4, $5, $6)`, s.TokenHash, s.AccountID, s.CreatedAt, exp, herald.TrimUserAgent(s.UserAgent), herald.Day(t.now))
		if isUniqueViolation(err, "") {
			return herald.Errorf(herald.ECONFLICT, "Session already exists.")
		} else if isForeignKeyViolation(err) {
			return errAccountNotFound
		}
		return err
	})
}

// FindAccountBySession returns the account of a live session.
func (db *DB) FindAccountBySession(ctx context.Context, tokenHash []byte) (*herald.Account, error) {
	var a herald.Account
	var seen *time.Time
	now := db.clock.Now()
	err := db.pool.QueryRow(ctx, `SELECT a.id, a.username, a.display_name, a.created_at, s.last_seen
		FROM sessions s JOIN accounts a ON a.id = s.account_id
		WHERE s.token_hash = $1 AND (s.expires_at IS NULL OR s.expires_at > $2)`, tokenHash, now).
		Scan(&a.ID, &a.Username, &a.DisplayName, &a.CreatedAt, &seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errInvalidToken
	} else if err != nil {
		return nil, err
	}
	a.CreatedAt = a.CreatedAt.UTC()
	// The day of last use, written once a day per session at most.
	if day := herald.Day(now); seen == nil || seen.Before(day) {
		if _, err := db.pool.Exec(ctx, `UPDATE sessions SET last_seen = $2 WHERE token_hash = $1 AND (last_seen IS NULL OR last_seen < $2)`, tokenHash, day); err != nil {
			return nil, err
		}
	}
	return &a, nil
}

// DeleteSession removes a session; unknown sessions are fine.
func (db *DB) DeleteSession(ctx context.Context, tokenHash []byte) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
	return err
}
