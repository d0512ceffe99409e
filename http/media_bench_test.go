package http_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// rssBytes reads this process's resident set size (Linux; 0 elsewhere).
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// patternReader yields n bytes of a repeating pattern without holding them.
type patternReader struct{ left int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(b)), p.left)
	for i := range b[:n] {
		b[i] = byte('a' + i%26)
	}
	p.left -= n
	return int(n), nil
}

// BenchmarkMediaUpload100MB uploads a 100 MB file (a document: the
// streaming path every type takes before processing; video then goes to
// ffmpeg, another process) and reports how far the process's RSS rose
// above where it stood before the upload (client and server are both in
// this process). The issue bounds it: < 32 MB.
func BenchmarkMediaUpload100MB(b *testing.B) { benchMediaUpload100MB(b, "dir") }

// BenchmarkMediaUpload100MBS3: the same into an S3 bucket (HERALD_S3_TEST_*;
// the S3 server's own work is in its process, not counted here).
func BenchmarkMediaUpload100MBS3(b *testing.B) { benchMediaUpload100MB(b, "s3") }

func benchMediaUpload100MB(b *testing.B, backend string) {
	e, _ := mediaEnv(b, backend)
	alice := e.signup("alice")
	ch := e.channel(alice, "Big")
	const size = 100 << 20
	b.SetBytes(size)
	var worst int64
	for b.Loop() {
		runtime.GC()
		before := rssBytes()
		var peak atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			tk := time.NewTicker(2 * time.Millisecond)
			defer tk.Stop()
			for {
				if r := rssBytes(); r > peak.Load() {
					peak.Store(r)
				}
				select {
				case <-stop:
					return
				case <-tk.C:
				}
			}
		})
		m, err := alice.UploadMedia(context.Background(), ch.ID, &patternReader{left: size}, size, "big.txt")
		close(stop)
		wg.Wait()
		if err != nil || m.Size != size {
			b.Fatalf("upload: %v %+v", err, m)
		}
		worst = max(worst, peak.Load()-before)
	}
	b.ReportMetric(float64(worst)/(1<<20), "rss-rise-MB")
}

// BenchmarkMediaServe2MB: 200 concurrent clients fetch the same 2 MB
// rendition from the local directory store over loopback; b.SetBytes makes
// MB/s the served throughput.
func BenchmarkMediaServe2MB(b *testing.B) { benchMediaServe2MB(b, "dir") }

// BenchmarkMediaServe2MBS3: the same proxied from an S3 bucket (one GET on
// the bucket per request).
func BenchmarkMediaServe2MBS3(b *testing.B) { benchMediaServe2MB(b, "s3") }

func benchMediaServe2MB(b *testing.B, backend string) {
	e, _ := mediaEnv(b, backend)
	alice := e.signup("alice")
	ch := e.channel(alice, "Fast")
	data := bytes.Repeat([]byte("0123456789abcdef"), 2<<20/16)
	m, err := alice.UploadMedia(context.Background(), ch.ID, bytes.NewReader(data), int64(len(data)), "two.bin")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := alice.PostMedia(context.Background(), ch.ID, "", []herald.MediaRef{{ID: m.ID}}); err != nil {
		b.Fatal(err)
	}
	url := e.ts.URL + m.URL
	tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	b.SetBytes(int64(len(data)))
	b.SetParallelism(100) // 200 concurrent clients on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 256<<10)
		for pb.Next() {
			resp, err := hc.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			n, err := io.CopyBuffer(io.Discard, resp.Body, buf)
			resp.Body.Close()
			if err != nil || n != int64(len(data)) || resp.StatusCode != 200 {
				b.Errorf("fetch: %d %d %v", resp.StatusCode, n, err)
				return
			}
		}
	})
}
