package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxCachedStmts bounds the statement cache; queries past it run unprepared.
const maxCachedStmts = 256

// stmtCache keeps prepared statements per pool, so hot queries skip SQLite's
// parser (about half the cost of a small read). database/sql prepares each
// statement once per connection, on first use in a transaction.
//
// A statement is prepared only after the transaction that first ran it has
// ended: preparing grabs a connection, and inside a transaction on the
// one-connection writer pool that would wait forever.
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[query]
}

// prepare prepares the queries a finished transaction missed.
func (c *stmtCache) prepare(ctx context.Context, queries []string) {
	for _, q := range queries {
		c.mu.RLock()
		_, ok := c.m[q]
		full := len(c.m) >= maxCachedStmts
		c.mu.RUnlock()
		if ok || full {
			continue
		}
		s, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue // the query itself reports its error when run
		}
		c.mu.Lock()
		if _, ok := c.m[q]; ok || len(c.m) >= maxCachedStmts {
			s.Close()
		} else {
			c.m[q] = s
		}
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.m {
		s.Close()
		delete(c.m, q)
	}
}

// cachedTx runs queries through a transaction using cached statements and
// notes the ones not cached yet.
type cachedTx struct {
	db     *DB
	tx     *sql.Tx
	cache  *stmtCache
	missed []string
	// detach ignores cancellation: interrupting a write statement makes
	// SQLite roll back the whole transaction, which group commit shares.
	detach bool
}

func (t *cachedTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if s := t.cache.get(query); s != nil {
		return t.tx.StmtContext(ctx, s)
	}
	t.missed = append(t.missed, query)
	return nil
}

func (t *cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if t.detach {
		ctx = context.Background()
	}
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if t.detach {
		ctx = context.Background()
	}
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

func (t *cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if t.detach {
		ctx = context.Background()
	}
	if s := t.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

// PrepareContext prepares a statement for this transaction only (bulk loops).
func (t *cachedTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, query)
}

// pooled runs single-statement reads on the read pool with cached statements.
type pooled struct{ db *DB }

func (p pooled) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := p.db.rcache.get(query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	p.prepareLater(query)
	return p.db.r.QueryContext(ctx, query, args...)
}

func (p pooled) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := p.db.rcache.get(query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	p.prepareLater(query)
	return p.db.r.QueryRowContext(ctx, query, args...)
}

// prepareLater prepares in the background: the caller's rows hold a pool
// connection until read, and preparing needs one too.
func (p pooled) prepareLater(query string) {
	go p.db.rcache.prepare(context.Background(), []string{query})
}

func (p pooled) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return nil, errReadOnly
}

var errReadOnly = errors.New("sqlite: write on the read pool")
