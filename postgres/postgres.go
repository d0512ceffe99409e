// Package postgres is Herald's store on PostgreSQL (jackc/pgx/v5), for
// running several stateless nodes against one database. It passes the same
// conformance suite (storetest) as the embedded SQLite store.
//
// Open takes a libpq URL; run-time parameters ride in it, for example
// search_path=herald to keep Herald's tables in their own schema, or
// pool_max_conns=32 (default 16 per node). Migrations are embedded and
// applied at Open under an advisory lock, so nodes may start together.
//
// Concurrency: transactions run at READ COMMITTED and take row locks in
// one order: the channel row, then an update's counts row, then stream
// heads. Each stream's head row is bumped by the transaction that appends
// to it, so a stream's events commit in seq order; an update's counts row
// is locked by every reaction or vote on it, so counts are exact. A
// deadlock or serialization failure, if one happens anyway, is retried.
//
// Several nodes: FlushCounts and PruneExpired take a transaction-scoped
// advisory lock, so one node does the work while the others return at once,
// and they work in transactions, so a node that dies mid-way leaves the rest
// for the next run. Counts rows a reaction holds right now are skipped
// (FOR UPDATE SKIP LOCKED) and flushed next time.
//
// Durability: with PostgreSQL's default synchronous_commit=on, an
// acknowledged write survives a crash of the node and of the database
// server. synchronous_commit=off in the URL trades the last few hundred
// milliseconds of writes on a database-server crash (never on a node crash)
// for much higher throughput on hot rows; see docs/benchmarks.md.
//
// Erasure: deleted and expired rows are gone for every query and every
// logical backup (pg_dump) from the moment the deleting transaction
// commits. Their bytes stay in the table files until VACUUM (autovacuum)
// compacts the page and a later insert reuses the space, and in WAL segments
// until they are recycled; VACUUM FULL (or pg_repack) of channels,
// channel_search, follows, updates and events rewrites the files without
// them. Operators who must guarantee that erased text is unreadable from the
// disk run that periodically, keep WAL archives and base backups no longer
// than the retention, and encrypt the volume (docs/deployment.md, Erasure).
// The store runs no VACUUM itself: it would zero nothing either.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is a herald.Store on PostgreSQL.
type DB struct {
	pool      *pgxpool.Pool
	clock     herald.Clock
	retention time.Duration
	publisher herald.EventPublisher
	insightsK int64  // k: figures under it are never shown
	mediaKey  []byte // signs unlisted channels' media URLs (loadMediaURLKey)
}

var _ herald.Store = (*DB)(nil)

// Open connects to the database at url (a libpq URL or DSN; search_path and
// other run-time parameters may be given in it), applies pending migrations
// and returns the store.
func Open(ctx context.Context, url string, cfg herald.StoreConfig) (*DB, error) {
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default (4 on this kind of machine) would queue a busy
		// node's requests; a node rarely needs more than 16 at once, and
		// PostgreSQL's default 100 connections leave room for several nodes.
		pcfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	db := &DB{pool: pool, clock: cfg.Clock, retention: cfg.Retention, publisher: cfg.Publisher, insightsK: storeutil.Threshold(cfg)}
	if db.clock == nil {
		db.clock = herald.SystemClock{}
	}
	if db.retention <= 0 {
		db.retention = herald.DefaultRetention
	}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := db.loadMediaURLKey(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: media url key: %w", err)
	}
	return db, nil
}

// Close closes the connection pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Pool returns the underlying connection pool (for health checks and tests).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// migrate applies the embedded migrations not yet recorded in
// schema_migrations (the same table as the SQLite store's), in name order,
// each in its own transaction. Migrations only move forward. A session
// advisory lock keyed by the current schema makes nodes that start together
// take turns: the first applies, the others find the migrations recorded.
func (db *DB) migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: acquire: %w", err)
	}
	defer conn.Release()
	if err := createSchema(ctx, conn.Conn()); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('herald.migrate.' || current_schema()))`); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	defer func() {
		// A fresh context: the unlock must happen even if ctx is done, or the
		// pooled connection would keep the lock.
		_, _ = conn.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtext('herald.migrate.' || current_schema()))`)
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres: create schema_migrations: %w", err)
	}
	// Development builds recorded paths ("migrations/0001_init.sql").
	var devBuild bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name LIKE 'migrations/%')`).Scan(&devBuild); err != nil {
		return fmt.Errorf("postgres: read migrations: %w", err)
	}
	if devBuild {
		return fmt.Errorf("postgres: %w", storeutil.ErrDevelopmentSchema)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, file := range names {
		name := path.Base(file)
		var done bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`, name).Scan(&done); err != nil {
			return fmt.Errorf("postgres: read migrations: %w", err)
		}
		if done {
			continue
		}
		body, err := migrationFS.ReadFile(file)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name)
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", name, err)
		}
	}
	return nil
}

// defaultMaxConns is the pool size unless the URL sets pool_max_conns.
const defaultMaxConns = 16

// createSchema creates the first schema of the search_path (search_path=herald
// in the URL) if none of them exists yet, so a fresh database needs no setup.
func createSchema(ctx context.Context, conn *pgx.Conn) error {
	var current *string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&current); err != nil {
		return fmt.Errorf("postgres: current schema: %w", err)
	}
	if current != nil {
		return nil
	}
	first := strings.TrimSpace(strings.Split(conn.Config().RuntimeParams["search_path"], ",")[0])
	first = strings.Trim(first, `"`)
	if first == "" || first == "$user" {
		return errors.New("postgres: no schema in the search_path exists; name one with search_path=NAME in the URL")
	}
	_, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{first}.Sanitize())
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P06") {
		err = nil // another node created it at the same moment
	}
	if err != nil {
		return fmt.Errorf("postgres: create schema %s: %w", first, err)
	}
	return nil
}

// maxAttempts bounds the retries of a transaction that lost a deadlock or a
// serialization conflict.
const maxAttempts = 5

// tx is one store transaction: the pgx transaction, the time it runs at, and
// the events to publish once it commits.
type tx struct {
	pgx.Tx
	db     *DB
	now    time.Time
	events []herald.Event
}

// inTx runs fn in a READ COMMITTED transaction, retrying it on deadlock or
// serialization failure, and publishes the events it appended after commit.
func (db *DB) inTx(ctx context.Context, fn func(*tx) error) error {
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		t := &tx{db: db, now: db.now()}
		err = pgx.BeginFunc(ctx, db.pool, func(ptx pgx.Tx) error {
			t.Tx = ptx
			return fn(t)
		})
		if err == nil {
			db.publish(ctx, t.events)
			return nil
		}
		if !retryable(err) || ctx.Err() != nil {
			return mapError(err)
		}
		time.Sleep(time.Duration(attempt+1) * time.Millisecond)
	}
	return mapError(err)
}

// read runs fn in a read-only transaction so that its several queries see
// one snapshot.
func (db *DB) read(ctx context.Context, fn func(*tx) error) error {
	t := &tx{db: db, now: db.now()}
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(ptx pgx.Tx) error {
		t.Tx = ptx
		return fn(t)
	})
	return mapError(err)
}

// publish hands committed events to the publisher. The request's
// cancellation must not drop events that followers wait for. Two
// transactions on one stream may publish out of seq order (they commit in
// order, then race here): subscribers order by seq and fill gaps from the
// log, as they must anyway for events coming from other nodes.
func (db *DB) publish(ctx context.Context, events []herald.Event) {
	if db.publisher != nil && len(events) > 0 {
		db.publisher.Publish(context.WithoutCancel(ctx), events)
	}
}

// now returns the clock's time at the database's precision (microseconds),
// so that values returned by a write equal the values read back later.
func (db *DB) now() time.Time {
	return db.clock.Now().UTC().Truncate(time.Microsecond)
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// mapError turns database errors that callers can cause into herald errors;
// anything else stays internal.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var he *herald.Error
	if errors.As(err, &he) {
		return he
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" {
		// A foreign key to a row deleted concurrently: the object is gone.
		return herald.KindErrorf(herald.ENOTFOUND, "not-found", "Not found.")
	}
	return err
}

func isUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && (constraint == "" || pe.ConstraintName == constraint)
}

// Errors shared with the SQLite store (storeutil).
var (
	errAccountNotFound = storeutil.ErrAccountNotFound
	errSessionNotFound = storeutil.ErrSessionNotFound
	errChannelNotFound = storeutil.ErrChannelNotFound
	errUpdateNotFound  = storeutil.ErrUpdateNotFound
	errInviteNotFound  = storeutil.ErrInviteNotFound
	errAdminNotFound   = storeutil.ErrAdminNotFound
	errNoPoll          = storeutil.ErrNoPoll
	errNotOwner        = storeutil.ErrNotOwner
	errNoActor         = storeutil.ErrNoActor
	errNotAdmin        = storeutil.ErrNotAdmin
	errInvalidToken    = herald.KindErrorf(herald.EUNAUTHORIZED, "invalid-token", "Invalid or expired token.")
)

func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}
