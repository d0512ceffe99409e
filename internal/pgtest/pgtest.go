// Package pgtest gives tests a PostgreSQL schema of their own on the test
// server (HERALD_POSTGRES_URL, by default the local trust-auth server). A
// test that can't reach it is skipped, or fails when
// HERALD_REQUIRE_SERVICES=1 (as in CI), so a missing service never passes
// silently there.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ServerURL is the PostgreSQL the tests use.
func ServerURL() string {
	if u := os.Getenv("HERALD_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var (
	adminOnce sync.Once
	adminPool *pgxpool.Pool
	adminErr  error
)

// Admin returns a pool on the server for creating and dropping schemas,
// skipping tb (or failing it under HERALD_REQUIRE_SERVICES=1) when the
// server is unreachable.
func Admin(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	adminOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		adminPool, adminErr = pgxpool.New(ctx, ServerURL())
		if adminErr == nil {
			adminErr = adminPool.Ping(ctx)
		}
	})
	if adminErr != nil {
		msg := fmt.Sprintf("PostgreSQL unreachable at HERALD_POSTGRES_URL=%s: %v", ServerURL(), adminErr)
		if os.Getenv("HERALD_REQUIRE_SERVICES") == "1" {
			tb.Fatal(msg)
		}
		tb.Skip(msg + " (set HERALD_REQUIRE_SERVICES=1 to fail instead)")
	}
	return adminPool
}

// SchemaName returns a new random schema name starting with prefix.
func SchemaName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// FreshSchema creates an empty schema named after prefix, dropped when tb
// ends, and returns a URL whose connections use it.
func FreshSchema(tb testing.TB, prefix string) string {
	tb.Helper()
	pool := Admin(tb)
	schema := SchemaName(prefix)
	if _, err := pool.Exec(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return SchemaURL(tb, schema)
}

// SchemaURL returns the server's URL with connections using schema.
func SchemaURL(tb testing.TB, schema string) string {
	tb.Helper()
	u, err := url.Parse(ServerURL())
	if err != nil {
		tb.Fatalf("HERALD_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
