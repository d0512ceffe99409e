package pushtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/push"
)

// The HTTP/2 service is hand-written over frames: these requests go through
// Go's own HTTP/2 client, so they check it speaks the protocol (settings,
// flow control beyond the first windows, errors with bodies) and keeps the
// service's rules.
func TestFrameServerSpeaksHTTP2(t *testing.T) {
	s := NewServer(nil)
	defer s.Close()
	ep, sub := s.Subscribe()
	u := strings.TrimPrefix(ep, "https://")
	aud := "https://" + u[:strings.IndexByte(u, '/')]
	auth := signVAPID(t, aud)
	post := func(url string, body []byte, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Authorization", auth)
		req.Header.Set("TTL", "60")
		req.Header.Set("Content-Encoding", "aes128gcm")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.ProtoMajor != 2 {
			t.Fatalf("answered over %s", resp.Proto)
		}
		return resp, string(b)
	}

	// A message is decrypted and recorded, with its headers.
	body := encryptFor(t, sub, []byte("first message"))
	resp, _ := post(ep, body, map[string]string{"Topic": "t1", "Urgency": "high"})
	if resp.StatusCode != 201 || !strings.HasPrefix(resp.Header.Get("Location"), s.URL+"/message/") {
		t.Fatalf("status %d, Location %q, failures %q", resp.StatusCode, resp.Header.Get("Location"), s.Failures())
	}
	if got := s.Received(); len(got) != 1 || string(got[0].Payload) != "first message" || got[0].Topic != "t1" || got[0].Urgency != "high" || got[0].TTL != 60 {
		t.Fatalf("received %+v", got)
	}

	// Broken requests get their status and a text saying why.
	resp, text := post(ep, body, map[string]string{"Content-Encoding": "aesgcm"})
	if resp.StatusCode != 415 || !strings.Contains(text, "Content-Encoding") {
		t.Fatalf("status %d, body %q", resp.StatusCode, text)
	}
	resp, text = post(ep, make([]byte, 5000), nil)
	if resp.StatusCode != 413 || !strings.Contains(text, "4096") {
		t.Fatalf("status %d, body %q", resp.StatusCode, text)
	}
	if resp, _ := post(s.URL+"/push/unknown", body, nil); resp.StatusCode != 404 {
		t.Fatalf("unknown subscription: %d", resp.StatusCode)
	}
	s.Script(Reply{Status: 429, RetryAfter: "30"})
	if resp, _ := post(ep, body, nil); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "30" {
		t.Fatalf("scripted: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	// Far more data than the first windows, from many streams at once
	// (fewer than the service allows, so the client keeps one connection).
	const workers, each = 200, 3
	const n = workers * each
	big := encryptFor(t, sub, bytes.Repeat([]byte("x"), 3900))
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for range workers {
		wg.Go(func() {
			for range each {
				req, _ := http.NewRequest(http.MethodPost, ep, bytes.NewReader(big))
				req.Header.Set("Authorization", auth)
				req.Header.Set("TTL", "60")
				req.Header.Set("Content-Encoding", "aes128gcm")
				resp, err := s.Client().Do(req)
				if err != nil {
					errs <- err.Error()
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != 201 {
					errs <- fmt.Sprint(resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if got := s.Accepted(); got != n+1 {
		t.Fatalf("accepted %d, want %d", got, n+1)
	}
	if reached, dups := s.Tally(); reached != 1 || dups != n {
		t.Fatalf("tally %d %d", reached, dups)
	}
	if c := s.Conns(); c != 1 {
		t.Fatalf("%d connections", c)
	}
	if fs := s.Failures(); len(fs) != 2 {
		t.Fatalf("failures %q", fs)
	}
}

// signVAPID makes an RFC 8292 Authorization header for aud.
func signVAPID(t *testing.T, aud string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding
	head := b64.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`))
	claims, _ := json.Marshal(map[string]any{"aud": aud, "exp": time.Now().Add(time.Hour).Unix(), "sub": "mailto:ops@example.org"})
	signing := head + "." + b64.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	pub, err := key.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return "vapid t=" + signing + "." + b64.EncodeToString(sig) + ", k=" + b64.EncodeToString(pub)
}

func encryptFor(t *testing.T, sub *Subscriber, plain []byte) []byte {
	t.Helper()
	body, err := push.Encrypt(plain, sub.P256dh(), sub.Auth)
	if err != nil {
		t.Fatal(err)
	}
	return body
}
