package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/cmd/internal/options"
	"github.com/heraldhq/herald/cmd/internal/serve"
	"github.com/heraldhq/herald/password"
)

// selfSigned writes a certificate for 127.0.0.1 and localhost and its key
// to dir, returning their paths and a pool trusting the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "herald test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func startParsed(t *testing.T, args ...string) *serve.Server {
	t.Helper()
	cfg, err := serve.Parse(append([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "error"}, args...), options.NoEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Stdout, cfg.Stderr = io.Discard, io.Discard
	cfg.PasswordParams = password.TestParams
	s, err := serve.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// --tls-cert and --tls-key serve HTTPS, HTTP/2 included.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	s := startParsed(t, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("URL %s", s.URL)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}, Timeout: 10 * time.Second}
	resp, err := c.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.ProtoMajor != 2 {
		t.Fatalf("GET /healthz: %d, TLS %v, %s", resp.StatusCode, resp.TLS != nil, resp.Proto)
	}
	// Streams work over TLS: SSE over HTTP/2 (no hijacking there).
	acc, err := client.New(s.URL, "", client.WithHTTPClient(c)).CreateAccount(context.Background(), "alice", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", s.URL+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+acc.Token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	first := ""
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			first = d
			break
		}
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || !strings.Contains(first, `"type":"cursor"`) {
		t.Fatalf("SSE over TLS: %s, first message %q", resp.Proto, first)
	}
	// Plain HTTP on the TLS port gets nothing useful.
	resp, err = http.Get(strings.Replace(s.URL, "https", "http", 1) + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP served on the TLS port")
		}
	}
	// A missing key file stops the server before it listens.
	cfg, err := serve.Parse([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--tls-cert", certFile, "--tls-key", certFile + ".missing"}, options.NoEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Stdout, cfg.Stderr = io.Discard, io.Discard
	if s, err := serve.Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "--tls-cert/--tls-key") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("missing key: %v", err)
	}
}

// pebbleBinary finds Pebble, the ACME test server, or skips.
func pebbleBinary(t *testing.T) string {
	if p, err := exec.LookPath("pebble"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "pebble")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("HERALD_REQUIRE_SERVICES") == "1" {
		t.Fatal("pebble not installed: go install github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.3")
	}
	t.Skip("pebble not installed (go install github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.3)")
	return ""
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// --acme-domain gets a certificate from an ACME server (a local Pebble that
// skips challenge validation) on the first TLS handshake naming the domain,
// and keeps it in the data directory.
func TestServeACME(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Pebble")
	}
	bin := pebbleBinary(t)
	dir := t.TempDir()
	certFile, keyFile, pebblePool := selfSigned(t, dir)
	api, mgmt := freePort(t), freePort(t)
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress":                  fmt.Sprintf("127.0.0.1:%d", api),
		"managementListenAddress":        fmt.Sprintf("127.0.0.1:%d", mgmt),
		"certificate":                    certFile,
		"privateKey":                     keyFile,
		"httpPort":                       freePort(t),
		"tlsPort":                        freePort(t),
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
		"retryAfter":                     map[string]int{"authz": 1, "order": 1},
		"keyAlgorithm":                   "ecdsa",
		"profiles":                       map[string]any{"default": map[string]any{"description": "test", "validityPeriod": 86400}},
	}}
	b, _ := json.Marshal(conf)
	confFile := filepath.Join(dir, "pebble.json")
	if err := os.WriteFile(confFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", confFile)
	cmd.Env = append(os.Environ(), "PEBBLE_VA_ALWAYS_VALID=1", "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pebblePool}}, Timeout: 5 * time.Second}
	directory := fmt.Sprintf("https://127.0.0.1:%d/dir", api)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := pc.Get(directory)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond) // polling for the condition
	}
	pebbleRoots := func() *x509.CertPool {
		resp, err := pc.Get(fmt.Sprintf("https://127.0.0.1:%d/roots/0", mgmt))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			t.Fatalf("pebble root: %s", b)
		}
		return pool
	}()

	s := startParsed(t, "--acme-domain", "herald.test,www.herald.test", "--acme-email", "ops@herald.test",
		"--acme-directory", directory, "--acme-ca-roots", certFile, "--acme-http-addr", "127.0.0.1:0")
	addr := strings.TrimPrefix(s.URL, "https://")
	clientFor := func(name string) *http.Client {
		return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pebbleRoots, ServerName: name},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
		}}
	}
	resp, err := clientFor("herald.test").Get("https://herald.test/healthz")
	if err != nil {
		t.Fatalf("HTTPS with an ACME certificate: %v\npebble:\n%s", err, logs.String())
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		t.Fatalf("GET /healthz: %d", resp.StatusCode)
	}
	leaf := resp.TLS.PeerCertificates[0]
	if leaf.VerifyHostname("herald.test") != nil || !strings.Contains(leaf.Issuer.CommonName, "Pebble") {
		t.Fatalf("certificate for %v issued by %q", leaf.DNSNames, leaf.Issuer.CommonName)
	}
	entries, err := os.ReadDir(filepath.Join(s.Config.DataDir, "acme"))
	if err != nil || len(entries) < 2 { // the account key and the certificate
		t.Fatalf("ACME cache: %v, %d entries", err, len(entries))
	}
	// The HTTP-01 listener answers challenges (none pending: 404) and
	// sends everything else to https.
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", s.ChallengeURL+"/api/v1/channels?x=1", nil)
	req.Host = "herald.test"
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 != 3 || loc != "https://herald.test/api/v1/channels?x=1" {
		t.Fatalf("plain HTTP: %d to %q", resp.StatusCode, loc)
	}
	req, _ = http.NewRequest("GET", s.ChallengeURL+"/.well-known/acme-challenge/unknown-token", nil)
	req.Host = "herald.test"
	if resp, err = noRedirect.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("unknown challenge: %d", resp.StatusCode)
	}
	// A name outside --acme-domain gets no certificate.
	if _, err := clientFor("other.test").Get("https://other.test/healthz"); err == nil {
		t.Fatal("a certificate was served for a domain not asked for")
	}
}
