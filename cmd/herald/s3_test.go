package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/cmd/internal/options"
	"github.com/heraldhq/herald/cmd/internal/serve"
	"github.com/heraldhq/herald/internal/s3test"
)

// The S3 options that go together are refused apart, before anything
// starts.
func TestS3OptionsGoTogether(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--s3-endpoint", "http://127.0.0.1:8333"}, "--s3-endpoint and --s3-bucket go together"},
		{[]string{"--s3-bucket", "media"}, "--s3-endpoint and --s3-bucket go together"},
		{[]string{"--s3-endpoint", "127.0.0.1:8333", "--s3-bucket", "media"}, "--s3-endpoint"},
		{[]string{"--s3-endpoint", "http://s3.example/path", "--s3-bucket", "media"}, "without a path"},
		{[]string{"--s3-endpoint", "http://s3.example", "--s3-bucket", "media", "--media-dir", "/srv/media"}, "choose one"},
		{[]string{"--s3-endpoint", "http://s3.example", "--s3-bucket", "media", "--s3-access-key", "AK"}, "go together"},
		{[]string{"--s3-endpoint", "http://s3.example", "--s3-bucket", "media", "--s3-secret-key", "SK"}, "go together"},
		{[]string{"--s3-endpoint", "http://s3.example", "--s3-bucket", "media", "--s3-access-key", "AK", "--s3-secret-key", "SK", "--s3-secret-key-file", "/f"}, "give one"},
	} {
		_, err := serve.Parse(append([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir()}, tc.args...), options.NoEnv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to say %q", tc.args, err, tc.want)
		}
	}
}

// Two `herald serve --postgres --nats --s3-*` processes sharing one
// bucket: an image uploaded and posted on node A is served by node B (whole
// and by range); the update deleted on B, the erase loop leaves nothing in
// the bucket. A missing bucket stops a node at start.
func TestScaleoutMediaS3(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bucket := s3test.Bucket(t)
	pg := pgSchema(t)
	nu := embeddedNATS(t)
	cfg := s3test.Config()
	secretFile := filepath.Join(t.TempDir(), "s3-secret")
	if err := os.WriteFile(secretFile, []byte(cfg.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--postgres", pg, "--nats", nu, "--rate-limit-exempt", "127.0.0.0/8", "--media-erase-period", "100ms",
		"--s3-endpoint", cfg.Endpoint, "--s3-region", cfg.Region, "--s3-access-key", cfg.AccessKey, "--s3-secret-key-file", secretFile}
	a := startServer(t, t.TempDir(), append(flags, "--s3-bucket", bucket.Name())...)
	b := startServer(t, t.TempDir(), append(flags, "--s3-bucket", bucket.Name())...)
	ctx := context.Background()

	owner, err := client.New(a.url, "").CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	onA, onB := client.New(a.url, owner.Token), client.New(b.url, owner.Token)
	ch, err := onA.CreateChannel(ctx, client.ChannelInput{Name: "Shared", Category: "news"})
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	img.Set(1, 1, color.White)
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, img, nil); err != nil {
		t.Fatal(err)
	}
	m, err := onA.UploadMedia(ctx, ch.ID, bytes.NewReader(jpg.Bytes()), int64(jpg.Len()), "shared.jpg")
	if err != nil {
		t.Fatal(err)
	}
	u, err := onA.PostMedia(ctx, ch.ID, "from A", []herald.MediaRef{{ID: m.ID, Alt: "Noise"}})
	if err != nil {
		t.Fatal(err)
	}
	if keys := s3test.Keys(t, bucket); len(keys) != 3 || !strings.HasPrefix(keys[0], m.ID+"/") {
		t.Fatalf("bucket after upload: %v", keys)
	}
	get := func(base, path string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	fromA, wantBody := get(a.url, m.URL)
	fromB, body := get(b.url, m.URL)
	if fromA.StatusCode != 200 || fromB.StatusCode != 200 || !bytes.Equal(body, wantBody) || len(body) == 0 ||
		fromB.Header.Get("Content-Type") != "image/jpeg" || fromB.Header.Get("ETag") != fromA.Header.Get("ETag") {
		t.Fatalf("served by B: %d %v (%d bytes; A: %d, %d bytes)", fromB.StatusCode, fromB.Header, len(body), fromA.StatusCode, len(wantBody))
	}
	rangeB, part := get(b.url, m.URL, "Range", "bytes=100-199")
	if rangeB.StatusCode != 206 || !bytes.Equal(part, wantBody[100:200]) {
		t.Fatalf("range from B: %d, %d bytes", rangeB.StatusCode, len(part))
	}
	if thumb, _ := get(b.url, m.ThumbnailURL); thumb.StatusCode != 200 {
		t.Fatalf("thumbnail from B: %d", thumb.StatusCode)
	}

	if err := onB.DeleteUpdate(ctx, ch.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(s3test.Keys(t, bucket)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("bucket still holds %v a minute after the delete", s3test.Keys(t, bucket))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if gone, _ := get(b.url, m.URL); gone.StatusCode != 404 {
		t.Fatalf("deleted media served: %d", gone.StatusCode)
	}

	// A bucket that does not exist stops the node before it listens.
	cfgMissing, err := serve.Parse(append([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--s3-bucket", bucket.Name() + "-absent"}, flags...), options.NoEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfgMissing.Stdout, cfgMissing.Stderr = io.Discard, io.Discard
	if srv, err := serve.Start(ctx, cfgMissing); err == nil || !strings.Contains(err.Error(), "does not exist") {
		if srv != nil {
			srv.Close()
		}
		t.Fatalf("start with a missing bucket: %v", err)
	}
}
