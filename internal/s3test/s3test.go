// Package s3test gives tests a bucket of their own on a real S3-compatible
// server (HERALD_S3_TEST_ENDPOINT, by default a local SeaweedFS as .ci/run
// starts it). A test that can't reach it is skipped, or fails when
// HERALD_REQUIRE_SERVICES=1 (as in CI), so a missing service never passes
// silently there.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/s3"
	"github.com/minio/minio-go/v7"
)

// Config is the test server's address and credentials, bucket unset.
func Config() s3.Config {
	get := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	return s3.Config{
		Endpoint:  get("HERALD_S3_TEST_ENDPOINT", "http://127.0.0.1:8333"),
		AccessKey: get("HERALD_S3_TEST_ACCESS_KEY", "herald"),
		SecretKey: get("HERALD_S3_TEST_SECRET_KEY", "herald-secret"),
		Region:    "us-east-1",
	}
}

var (
	reachOnce sync.Once
	reachErr  error
)

func reachable(tb testing.TB) {
	tb.Helper()
	reachOnce.Do(func() {
		cfg := Config()
		cfg.Bucket = "herald-probe"
		b, err := s3.New(cfg)
		if err != nil {
			reachErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, reachErr = b.Client().ListBuckets(ctx)
	})
	if reachErr != nil {
		msg := fmt.Sprintf("S3 server unreachable at HERALD_S3_TEST_ENDPOINT=%s: %v", Config().Endpoint, reachErr)
		if os.Getenv("HERALD_REQUIRE_SERVICES") == "1" {
			tb.Fatal(msg)
		}
		tb.Skip(msg + " (set HERALD_REQUIRE_SERVICES=1 to fail instead)")
	}
}

// Bucket creates an empty bucket, removed with its objects when tb ends,
// and returns the store on it.
func Bucket(tb testing.TB) *s3.Bucket {
	tb.Helper()
	reachable(tb)
	var r [6]byte
	_, _ = rand.Read(r[:])
	cfg := Config()
	cfg.Bucket = "herald-test-" + hex.EncodeToString(r[:])
	b, err := s3.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Client().MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
		tb.Fatalf("create bucket: %v", err)
	}
	tb.Cleanup(func() {
		keys, err := b.Keys(ctx)
		if err == nil {
			err = b.Delete(ctx, keys...)
		}
		if err == nil {
			err = b.Client().RemoveBucket(ctx, cfg.Bucket)
		}
		if err != nil {
			tb.Errorf("remove bucket %s: %v", cfg.Bucket, err)
		}
	})
	return b
}

// Keys lists the bucket's objects, sorted.
func Keys(tb testing.TB, b *s3.Bucket) []string {
	tb.Helper()
	keys, err := b.Keys(context.Background())
	if err != nil {
		tb.Fatalf("list bucket: %v", err)
	}
	slices.Sort(keys)
	return keys
}
