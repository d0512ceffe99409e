package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/s3test"
	"github.com/heraldhq/herald/s3"
)

var ctx = context.Background()

func TestBucketPutGetRangeDelete(t *testing.T) {
	b := s3test.Bucket(t)
	data := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
	if err := b.Put(ctx, "m1/original", bytes.NewReader(data), int64(len(data)), "text/plain"); err != nil {
		t.Fatal(err)
	}
	blob, err := b.Get(ctx, "m1/original")
	if err != nil {
		t.Fatal(err)
	}
	defer blob.Close()
	if blob.Size() != int64(len(data)) {
		t.Fatalf("size %d", blob.Size())
	}
	// What http.ServeContent does for a Range request: size, then a seek.
	if end, err := blob.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
		t.Fatalf("seek end: %d %v", end, err)
	}
	if _, err := blob.Seek(10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 5)
	if _, err := io.ReadFull(blob, part); err != nil || string(part) != "abcde" {
		t.Fatalf("range read %q %v", part, err)
	}
	// Going back re-reads from there; reading on continues the same body.
	if _, err := blob.Seek(2, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(blob)
	if err != nil || !bytes.Equal(rest, data[2:]) {
		t.Fatalf("read from 2: %q %v", rest, err)
	}
	// A whole read from the start.
	whole, err := b.Get(ctx, "m1/original")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(whole)
	whole.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("whole read %q %v", got, err)
	}

	// Absent objects are ENOTFOUND; bad keys never reach the bucket.
	_, err = b.Get(ctx, "m1/320")
	var he *herald.Error
	if !errors.As(err, &he) || he.Code != herald.ENOTFOUND {
		t.Fatalf("get absent: %v", err)
	}
	for _, bad := range []string{"../x", "m1", "m1/../../x", "a/b/c", ""} {
		if err := b.Put(ctx, bad, strings.NewReader("x"), 1, ""); err == nil {
			t.Fatalf("put %q accepted", bad)
		}
		if _, err := b.Get(ctx, bad); !errors.As(err, &he) || he.Code != herald.ENOTFOUND {
			t.Fatalf("get %q: %v", bad, err)
		}
	}
	// A short reader fails the put and stores nothing.
	if err := b.Put(ctx, "m2/original", strings.NewReader("short"), 10, ""); err == nil {
		t.Fatal("short put accepted")
	}

	if err := b.Put(ctx, "m1/320", strings.NewReader("thumb"), 5, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	if keys := s3test.Keys(t, b); !slices.Equal(keys, []string{"m1/320", "m1/original"}) {
		t.Fatalf("keys = %v", keys)
	}
	// Deleting absent keys with present ones is fine.
	if err := b.Delete(ctx, "m1/original", "m1/320", "m1/poster", "nope/original"); err != nil {
		t.Fatal(err)
	}
	if keys := s3test.Keys(t, b); len(keys) != 0 {
		t.Fatalf("left after delete: %v", keys)
	}
}

// TestBucketMultipart: a file larger than the part size is sent in parts
// and reads back whole and by range.
func TestBucketMultipart(t *testing.T) {
	b := s3test.Bucket(t)
	cfg := s3test.Config()
	cfg.Bucket, cfg.PartSize = b.Name(), 5<<20
	small, err := s3.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 11<<20+123)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := small.Put(ctx, "big/original", f, int64(len(data)), "video/mp4"); err != nil {
		t.Fatal(err)
	}
	blob, err := b.Get(ctx, "big/original")
	if err != nil {
		t.Fatal(err)
	}
	defer blob.Close()
	got, err := io.ReadAll(blob)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	if _, err := blob.Seek(6<<20, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 1000)
	if _, err := io.ReadFull(blob, part); err != nil || !bytes.Equal(part, data[6<<20:6<<20+1000]) {
		t.Fatalf("range across parts: %v", err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, c := range []s3.Config{
		{Endpoint: "127.0.0.1:8333", Bucket: "b"},
		{Endpoint: "ftp://host", Bucket: "b"},
		{Endpoint: "http://host/path", Bucket: "b"},
		{Endpoint: "http://host", Bucket: ""},
		{Endpoint: "http://host", Bucket: "b", AccessKey: "only-access"},
	} {
		if _, err := s3.New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}

func TestCheckMissingBucket(t *testing.T) {
	b := s3test.Bucket(t) // skips without a server
	cfg := s3test.Config()
	cfg.Bucket = b.Name() + "-absent"
	missing, err := s3.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := missing.Check(ctx); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Check = %v", err)
	}
	if err := b.Check(ctx); err != nil {
		t.Fatal(err)
	}
	// Versioning would keep erased media: it is noticed.
	if v, err := b.Versioned(ctx); err != nil || v {
		t.Fatalf("new bucket: versioned %v, %v", v, err)
	}
	if err := b.Client().EnableVersioning(ctx, b.Name()); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Versioned(ctx); err != nil || !v {
		t.Fatalf("after EnableVersioning: versioned %v, %v", v, err)
	}
	if err := b.Client().SuspendVersioning(ctx, b.Name()); err != nil {
		t.Fatal(err)
	}
}
