// Package sqlite is Herald's embedded store, on SQLite through the pure-Go
// modernc.org/sqlite driver.
//
// One writer connection, driven by one goroutine, runs every write
// (BEGIN IMMEDIATE); writes that arrive together share a transaction, each in
// its own SAVEPOINT (group commit), so a burst pays for one COMMIT. A
// separate pool of read-only connections serves reads from WAL snapshots.
// Concurrent requests queue instead of failing with "database is locked",
// and a 10 s busy timeout covers other processes sharing the file.
//
// Erasure: secure_delete zeroes deleted rows, the directory's FTS5 index
// deletes with secure-delete (migrations/0001_initial.sql), and a TRUNCATE
// checkpoint runs shortly after every erasure, rename or unfollow (and on
// Checkpoint), so deleted, expired or replaced text leaves the WAL and every
// other file of the data directory within seconds.
//
// Durability: the default synchronous=NORMAL in WAL mode makes every
// committed transaction survive a crash or kill -9 of the process (the WAL is
// written before COMMIT returns); only an operating-system crash or power
// loss can lose the last transactions. StoreConfig.SyncCommits
// (synchronous=FULL) also fsyncs the WAL on every commit, surviving power
// loss at the cost of write throughput.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
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

	w      *sql.DB // exactly one connection: all writes
	r      *sql.DB // read-only pool
	ck     *sql.DB // one connection for checkpoints, with a short busy timeout
	wcache *stmtCache
	rcache *stmtCache

	writes chan *writeReq // to the writer goroutine (unbuffered)
	pubq   chan pubBatch  // to the publisher goroutine

	erased    chan struct{} // signals the background checkpointer
	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	mediaKey     []byte            // signs unlisted channels' media URLs (loadSecrets)
	keyedPostIDs *herald.IDDeriver // keyed posts' update ids (loadSecrets)
}

// readConns is the size of the read pool.
const readConns = 8

// Open opens (creating if needed) the database file at path and migrates it:
// the same shape as postgres.Open. A zero cfg.Clock means the system clock;
// a zero cfg.Retention means herald.DefaultRetention.
func Open(ctx context.Context, path string, cfg herald.StoreConfig) (*DB, error) {
	if cfg.Clock == nil {
		cfg.Clock = herald.SystemClock{}
	}
	if cfg.Retention <= 0 {
		cfg.Retention = herald.DefaultRetention
	}
	synchronous := "NORMAL"
	if cfg.SyncCommits {
		synchronous = "FULL"
	}
	pragmas := []string{
		"busy_timeout(10000)",
		"foreign_keys(1)",
		"secure_delete(1)",
		"synchronous(" + synchronous + ")",
	}
	dsn := func(extra ...string) string {
		q := url.Values{}
		for _, p := range append(pragmas, extra...) {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		return "file:" + path + "?" + q.Encode()
	}

	// Each request of a batch runs in a savepoint, whose sub-journal keeps
	// the first copy of every page the request changes: in memory, not in
	// a temporary file written with a system call per page (which cost a
	// quarter of a post's CPU), and page contents never reach the disk
	// outside the database and its WAL.
	w, err := sql.Open("sqlite", dsn("journal_mode(WAL)", "temp_store(MEMORY)"))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := &DB{path: path, cfg: cfg, w: w, erased: make(chan struct{}, 1), done: make(chan struct{}),
		writes: make(chan *writeReq), pubq: make(chan pubBatch, 16)}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	if err := db.loadSecrets(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("secrets %s: %w", path, err)
	}
	if err := db.reindexOnFoldChange(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("directory index %s: %w", path, err)
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
	r.SetMaxOpenConns(readConns)
	r.SetMaxIdleConns(readConns)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)
	db.r = r
	db.wcache, db.rcache = newStmtCache(w), newStmtCache(r)

	// A TRUNCATE checkpoint holds the write lock while it waits for readers:
	// on its own connection with a 50 ms busy timeout, each attempt stalls
	// writers briefly instead of holding the writer connection for seconds.
	cq := url.Values{}
	cq.Add("_pragma", "busy_timeout(50)")
	cq.Add("_pragma", "secure_delete(1)")
	ck, err := sql.Open("sqlite", "file:"+path+"?"+cq.Encode())
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	ck.SetMaxOpenConns(1)
	ck.SetConnMaxIdleTime(0)
	ck.SetConnMaxLifetime(0)
	db.ck = ck

	db.wg.Add(3)
	go db.checkpointer()
	go db.writer()
	go db.publisher()
	return db, nil
}

// Close stops the checkpointer, checkpoints and closes the database.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.done)
		db.wg.Wait()
		_ = db.Checkpoint(context.Background())
		db.wcache.close()
		db.rcache.close()
		db.closeErr = errors.Join(db.ck.Close(), db.r.Close(), db.w.Close())
	})
	return db.closeErr
}

// migrate runs every embedded migration not yet applied, in name order, each
// in its own transaction, and records it by name in schema_migrations (the
// same table as the PostgreSQL store's). Migrations only move forward.
func (db *DB) migrate(ctx context.Context) error {
	var devBuild int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'migrations'`).Scan(&devBuild); err != nil {
		return err
	}
	if devBuild > 0 {
		return storeutil.ErrDevelopmentSchema
	}
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
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
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, path.Base(name)).Scan(&n); err != nil {
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
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, path.Base(name), time.Now().UnixNano()); err != nil {
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
		err := db.ck.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done)
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

// Tx is one write request's view of a (possibly shared) write transaction:
// the time it runs at and the events it appended, published after COMMIT.
type Tx struct {
	*cachedTx
	db     *DB
	now    time.Time
	events []herald.Event
}

// maxBatch bounds how many write requests share one transaction.
const maxBatch = 64

// writeReq is one call to write, waiting for the writer goroutine.
type writeReq struct {
	ctx  context.Context
	fn   func(tx *Tx) error
	tx   *Tx
	err  error
	done chan struct{}
}

// call runs the request's function; a panic fails the request instead of
// the writer goroutine (and with it every later write).
func (r *writeReq) call() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: panic in write: %v", p)
		}
	}()
	return r.fn(r.tx)
}

// pubBatch is a committed batch whose events await publication.
type pubBatch struct {
	events []herald.Event
	reqs   []*writeReq
}

// Errors shared with the PostgreSQL store (storeutil).
var (
	errAccountNotFound = storeutil.ErrAccountNotFound
	errSessionNotFound = storeutil.ErrSessionNotFound
	errChannelNotFound = storeutil.ErrChannelNotFound
	errUpdateNotFound  = storeutil.ErrUpdateNotFound
	errInviteNotFound  = storeutil.ErrInviteNotFound
	errAdminNotFound   = storeutil.ErrAdminNotFound
	errNoPoll          = storeutil.ErrNoPoll
	errNotAdmin        = storeutil.ErrNotAdmin
	errNotOwner        = storeutil.ErrNotOwner
	errNoActor         = storeutil.ErrNoActor
)

var errClosed = herald.Errorf(herald.EUNAVAILABLE, "The store is closed.")

// write runs fn in a write transaction (BEGIN IMMEDIATE) on the writer
// goroutine and returns once it committed (or failed) and its events were
// published, in commit order.
//
// Group commit: requests that arrive while a transaction runs share the
// next one, each inside its own SAVEPOINT, so a failing request rolls back
// only itself while the batch pays for one COMMIT.
func (db *DB) write(ctx context.Context, fn func(tx *Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case db.writes <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.done:
		return errClosed
	}
	<-req.done // once taken, a request always completes
	return req.err
}

// writer takes write requests in batches and runs them, until Close.
func (db *DB) writer() {
	defer db.wg.Done()
	defer close(db.pubq)
	for {
		var batch []*writeReq
		select {
		case r := <-db.writes:
			batch = append(batch, r)
		case <-db.done:
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-db.writes:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		db.runBatch(batch)
	}
}

// runBatch runs a batch of requests in one transaction.
func (db *DB) runBatch(batch []*writeReq) {
	ctx := context.Background()
	finish := func(err error) {
		for _, r := range batch {
			if r.err == nil {
				r.err = err
			}
			close(r.done)
		}
	}
	stx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		finish(err)
		return
	}
	ct := &cachedTx{db: db, tx: stx, cache: db.wcache, detach: true}
	single := len(batch) == 1
	var fatal error // a failure that dooms the whole transaction
	for _, r := range batch {
		if fatal != nil {
			break
		}
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		if !single {
			if _, err := ct.ExecContext(ctx, `SAVEPOINT w`); err != nil {
				fatal = err
				break
			}
		}
		r.tx = &Tx{cachedTx: ct, db: db, now: db.cfg.Clock.Now().UTC()}
		r.err = r.call()
		if !single {
			if r.err != nil {
				if _, err := ct.ExecContext(ctx, `ROLLBACK TO w`); err != nil {
					fatal = err
				}
			}
			if _, err := ct.ExecContext(ctx, `RELEASE w`); err != nil {
				fatal = err
			}
		}
	}
	switch {
	case fatal != nil:
		_ = stx.Rollback()
		for _, r := range batch {
			r.err = fatal
		}
	case single && batch[0].err != nil:
		_ = stx.Rollback()
	default:
		if err := stx.Commit(); err != nil {
			for _, r := range batch {
				r.err = err
			}
		}
	}
	if len(ct.missed) > 0 {
		db.wcache.prepare(ctx, ct.missed)
	}
	var events []herald.Event
	for _, r := range batch {
		if r.err == nil && r.tx != nil {
			events = append(events, r.tx.events...)
		}
	}
	if len(events) == 0 || db.cfg.Publisher == nil {
		finish(nil)
		return
	}
	// Publication runs beside the next batch, in commit order.
	db.pubq <- pubBatch{events: events, reqs: batch}
}

// publisher publishes committed events in order, then releases their writers.
func (db *DB) publisher() {
	defer db.wg.Done()
	for b := range db.pubq {
		db.cfg.Publisher.Publish(context.Background(), b.events)
		for _, r := range b.reqs {
			close(r.done)
		}
	}
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

// view runs fn in a read-only snapshot with cached statements.
func (db *DB) view(ctx context.Context, fn func(q queryer, now time.Time) error) error {
	var missed []string
	err := db.read(ctx, func(tx *sql.Tx, now time.Time) error {
		ct := &cachedTx{db: db, tx: tx, cache: db.rcache}
		err := fn(ct, now)
		missed = ct.missed
		return err
	})
	if len(missed) > 0 {
		db.rcache.prepare(ctx, missed)
	}
	return err
}

// queryer is what both read and write transactions offer.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
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

// jsonList encodes ids for `IN (SELECT value FROM json_each(?))`: one
// statement text for any number of ids, so the statement stays prepared.
func jsonList[T int64 | string](ids []T) string {
	b, err := json.Marshal(ids)
	if err != nil {
		panic(err) // ints and strings always marshal
	}
	return string(b)
}
