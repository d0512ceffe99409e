// Package sqlite is Herald's embedded store, on SQLite through the pure-Go
// modernc.org/sqlite driver.
//
// One writer connection serializes every write (BEGIN IMMEDIATE), and a
// separate pool of read-only connections serves reads from WAL snapshots, so
// concurrent requests queue instead of failing with "database is locked".
//
// Durability: the default synchronous=NORMAL in WAL mode makes every
// committed transaction survive a crash or kill -9 of the process (the WAL is
// written before COMMIT returns); only an operating-system crash or power
// loss can lose the last transactions. WithSynchronousFull also fsyncs the
// WAL on every commit, surviving power loss at the cost of write throughput.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/base32"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

var _ herald.Store = (*DB)(nil)

// DB is the SQLite implementation of herald.Store.
type DB struct {
	path string
	cfg  herald.StoreConfig

	w *sql.DB // exactly one connection: all writes
	r *sql.DB // read-only pool

	// wmu serializes write transactions; pubmu is taken before wmu is
	// released so events are published in commit order.
	wmu   sync.Mutex
	pubmu sync.Mutex

	erased chan struct{} // signals the background checkpointer
	done   chan struct{}
	wg     sync.WaitGroup
}

// Option configures Open.
type Option func(*options)

type options struct {
	synchronous string
	readConns   int
}

// WithSynchronousFull fsyncs the WAL on every commit (durable against power
// loss, slower). The default, NORMAL, is durable against process crashes.
func WithSynchronousFull() Option { return func(o *options) { o.synchronous = "FULL" } }

// WithReadConns sets the size of the read pool (default 8).
func WithReadConns(n int) Option { return func(o *options) { o.readConns = n } }

// Open opens (creating if needed) the database file at path and migrates it.
// A zero cfg.Clock means the system clock; a zero cfg.Retention means
// herald.DefaultRetention.
func Open(path string, cfg herald.StoreConfig, opts ...Option) (*DB, error) {
	o := options{synchronous: "NORMAL", readConns: 8}
	for _, fn := range opts {
		fn(&o)
	}
	if cfg.Clock == nil {
		cfg.Clock = herald.SystemClock{}
	}
	if cfg.Retention <= 0 {
		cfg.Retention = herald.DefaultRetention
	}
	pragmas := []string{
		"busy_timeout(10000)",
		"foreign_keys(1)",
		"secure_delete(1)",
		"synchronous(" + o.synchronous + ")",
	}
	dsn := func(extra ...string) string {
		q := url.Values{}
		for _, p := range append(pragmas, extra...) {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		return "file:" + path + "?" + q.Encode()
	}

	w, err := sql.Open("sqlite", dsn("journal_mode(WAL)"))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := &DB{path: path, cfg: cfg, w: w, erased: make(chan struct{}, 1), done: make(chan struct{})}
	if err := db.migrate(context.Background()); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}

	// Readers: query_only guards against an accidental write through the
	// pool; their BEGIN is deferred so they never take the write lock.
	q := url.Values{}
	for _, p := range append(pragmas, "query_only(1)") {
		q.Add("_pragma", p)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(o.readConns)
	r.SetMaxIdleConns(o.readConns)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)
	db.r = r

	db.wg.Add(1)
	go db.checkpointer()
	return db, nil
}

// Close stops the checkpointer, checkpoints and closes the database.
func (db *DB) Close() error {
	close(db.done)
	db.wg.Wait()
	_ = db.Checkpoint(context.Background())
	err1 := db.r.Close()
	err2 := db.w.Close()
	return errors.Join(err1, err2)
}

// migrate runs every embedded migration not yet applied, in name order, each
// in its own transaction, and records it by name.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	buf, err := fs.ReadFile(migrationFS, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, name, time.Now().UnixNano()); err != nil {
		return err
	}
	return tx.Commit()
}

// Checkpoint copies the WAL into the database file and truncates it, so
// erased rows (zeroed by secure_delete) leave no old copy in the WAL. It
// retries while readers hold old snapshots. The store also runs it on its
// own shortly after every erasure; servers may call it periodically.
func (db *DB) Checkpoint(ctx context.Context) error {
	var lastErr error
	for attempt := 0; attempt < 50; attempt++ {
		var busy, logFrames, done int
		err := db.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done)
		if err == nil && busy == 0 {
			return nil
		}
		if err != nil {
			lastErr = err
		} else {
			lastErr = fmt.Errorf("wal checkpoint busy (%d/%d frames)", done, logFrames)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return lastErr
}

// checkpointer checkpoints soon after erasures, and every 30 s as a backstop
// (a checkpoint that found readers busy is retried on the next tick).
func (db *DB) checkpointer() {
	defer db.wg.Done()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	pending := false
	for {
		select {
		case <-db.done:
			return
		case <-db.erased:
			pending = true
			// Coalesce a burst of erasures into one checkpoint.
			select {
			case <-db.done:
				return
			case <-time.After(200 * time.Millisecond):
			}
		case <-tick.C:
		}
		if pending {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := db.Checkpoint(ctx); err == nil {
				pending = false
			}
			cancel()
		}
	}
}

// noteErased schedules a checkpoint after an erasure.
func (db *DB) noteErased() {
	select {
	case db.erased <- struct{}{}:
	default:
	}
}

// Tx is a write transaction with the time it runs at and the events it
// appended, published after COMMIT.
type Tx struct {
	*sql.Tx
	db     *DB
	now    time.Time
	events []herald.Event
}

// write runs fn in a write transaction (BEGIN IMMEDIATE), commits, and then
// publishes the events fn appended, in commit order.
func (db *DB) write(ctx context.Context, fn func(tx *Tx) error) error {
	db.wmu.Lock()
	locked := true
	defer func() {
		if locked {
			db.wmu.Unlock()
		}
	}()
	stx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	tx := &Tx{Tx: stx, db: db, now: db.cfg.Clock.Now().UTC()}
	if err := fn(tx); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return err
	}
	if len(tx.events) == 0 || db.cfg.Publisher == nil {
		return nil
	}
	db.pubmu.Lock()
	db.wmu.Unlock()
	locked = false
	defer db.pubmu.Unlock()
	// The request's cancellation must not drop events others wait for.
	db.cfg.Publisher.Publish(context.WithoutCancel(ctx), tx.events)
	return nil
}

// read runs fn in a read-only snapshot transaction on the read pool.
func (db *DB) read(ctx context.Context, fn func(tx *sql.Tx, now time.Time) error) error {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx, db.cfg.Clock.Now().UTC())
}

// queryer is what both read and write transactions offer.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns 16 random bytes as lowercase base32 (26 characters).
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return idEncoding.EncodeToString(b[:])
}

// newInviteCode returns a random, unguessable invite code (80 bits, 16 characters).
func newInviteCode() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return idEncoding.EncodeToString(b[:])
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY constraint violation.
func isUnique(err error) bool {
	var e *msqlite.Error
	if errors.As(err, &e) {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isForeignKey reports whether err is a FOREIGN KEY constraint violation.
func isForeignKey(err error) bool {
	var e *msqlite.Error
	if errors.As(err, &e) {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func nullTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNanos(n.Int64)
	return &t
}

// placeholders returns "?,?,...,?" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
