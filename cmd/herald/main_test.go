package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/cmd/internal/options"
	"github.com/heraldhq/herald/cmd/internal/serve"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/password"
)

// buildBinary compiles herald once per test run.
var buildOnce struct {
	sync.Once
	path string
	err  error
	out  []byte
}

const testVersion = "v0.0.0-test"

func heraldBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "herald-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "herald")
		// The version flags are scripts/release's.
		cmd := exec.Command("go", "build", "-ldflags", "-X main.version="+testVersion+" -X main.commit=0123abc -X main.buildDate=2026-01-02T03:04:05Z", "-o", buildOnce.path, ".")
		buildOnce.out, buildOnce.err = cmd.CombinedOutput()
	})
	if buildOnce.err != nil {
		t.Fatalf("go build: %v\n%s", buildOnce.err, buildOnce.out)
	}
	return buildOnce.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildOnce.path != "" {
		os.RemoveAll(filepath.Dir(buildOnce.path))
	}
	os.Exit(code)
}

// proc is a running `herald serve`.
type proc struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	done   chan error
}

// syncBuffer is a bytes.Buffer safe to read while the process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs the binary on port 0 with dataDir and waits for its
// "listening on" line.
func startServer(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dataDir, "--log-format", "json"}, extra...)
	cmd := exec.Command(heraldBinary(t), args...)
	cmd.Env = append(os.Environ(), "HERALD_ADDR=", "HERALD_DATA=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "herald listening on "); ok {
				lines <- u
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case p.url = <-lines:
	case err := <-p.done:
		t.Fatalf("server exited early: %v\n%s", err, p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start\n%s", p.stderr)
	}
	return p
}

// cli runs a CLI command of the binary against p.
func (p *proc) cli(t *testing.T, token, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(heraldBinary(t), args...)
	cmd.Env = append(os.Environ(), "HERALD_SERVER="+p.url, "HERALD_TOKEN="+token, "HERALD_PASSWORD=")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("herald %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

func TestBinaryScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	p := startServer(t, t.TempDir())
	c := client.New(p.url, "")
	if err := c.Healthz(context.Background()); err != nil {
		t.Fatal(err)
	}

	token := p.cli(t, "", "correct horse battery\n", "account", "create", "--username", "meteo_lyon", "--display-name", "Météo Lyon")
	if len(token) != 43 {
		t.Fatalf("account create printed %q", token)
	}
	login := p.cli(t, "", "", "login", "--username", "meteo_lyon", "--password", "correct horse battery")
	if len(login) != 43 || login == token {
		t.Fatalf("login printed %q", login)
	}
	chID := p.cli(t, login, "", "channel", "create", "--name", "Météo Lyon", "--category", "weather", "--country", "FR", "--language", "fr")
	if chID == "" || strings.ContainsAny(chID, " \n") {
		t.Fatalf("channel create printed %q", chID)
	}
	u1 := p.cli(t, login, "", "post", "--channel", chID, "Ciel clair, 14 °C")
	u2 := p.cli(t, login, "Orages en soirée\nrestez prudents\n", "post", "--channel", chID, "-")
	u3 := p.cli(t, login, "", "post", "--channel", chID, "--poll-question", "Parapluie ?", "--poll-option", "oui", "--poll-option", "non", "Sondage du jour")
	if u1 == "" || u2 == "" || u3 == "" || u1 == u2 {
		t.Fatalf("post printed %q %q %q", u1, u2, u3)
	}

	follower := p.cli(t, "", "", "account", "create", "--username", "alice", "--password", "a long enough password")
	if out := p.cli(t, follower, "", "follow", chID); !strings.Contains(out, "Météo Lyon") {
		t.Fatalf("follow printed %q", out)
	}
	out := p.cli(t, follower, "", "updates", "--channel", chID)
	if !strings.Contains(out, "Ciel clair, 14 °C") || !strings.Contains(out, "Orages en soirée\nrestez prudents") || !strings.Contains(out, "#3") {
		t.Fatalf("updates printed:\n%s", out)
	}
	var page struct{ Updates []herald.Update } // the API's answer
	if err := json.Unmarshal([]byte(p.cli(t, follower, "", "updates", "--channel", chID, "--json")), &page); err != nil {
		t.Fatal(err)
	}
	us := page.Updates
	if len(us) != 3 || us[0].ID != u3 || us[0].Poll == nil || len(us[0].Poll.Options) != 2 || us[2].ID != u1 {
		t.Fatalf("updates --json = %+v", us)
	}

	// The same through the client: the follower sees the channel in My channels.
	fc := c.WithToken(follower)
	mine, err := fc.MyChannels(context.Background())
	if err != nil || len(mine) != 1 || mine[0].ID != chID || mine[0].FollowerCount != 1 {
		t.Fatalf("MyChannels = %+v, %v", mine, err)
	}
	// A follower can't post through the CLI either.
	cmd := exec.Command(heraldBinary(t), "post", "--channel", chID, "nope")
	cmd.Env = append(os.Environ(), "HERALD_SERVER="+p.url, "HERALD_TOKEN="+follower)
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "403") {
		t.Fatalf("follower post: err %v, output %s", err, b)
	}
	p.cli(t, login, "", "logout")
	if _, err := c.WithToken(login).Me(context.Background()); !client.IsStatus(err, 401) {
		t.Fatalf("token after logout: %v", err)
	}

	// Logs carry no passwords, tokens or message text.
	logs := p.stderr.String()
	for _, secret := range []string{"correct horse battery", "a long enough password", token, login, follower, "Ciel clair", "Orages", "Parapluie"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
	if !strings.Contains(logs, `"route":"POST /api/v1/channels/{id}/updates"`) {
		t.Errorf("logs lack the request line:\n%s", logs)
	}
}

func TestKill9Durability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	p := startServer(t, dir)
	ctx := context.Background()
	s, err := client.New(p.url, "").CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(p.url, s.Token)
	ch, err := c.CreateChannel(ctx, client.ChannelInput{Name: "Durable", Category: "news"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 20 {
		u, err := c.PostUpdate(ctx, ch.ID, "acknowledged "+string(rune('a'+i)), nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	// SIGKILL right after the last 201: no chance to flush or close.
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done

	p2 := startServer(t, dir)
	c2 := client.New(p2.url, s.Token)
	for _, id := range ids {
		if _, err := c2.GetUpdate(ctx, ch.ID, id); err != nil {
			t.Fatalf("update %s lost after kill -9: %v", id, err)
		}
	}
	us, err := c2.ListUpdates(ctx, ch.ID, client.ListOptions{Limit: 100})
	if err != nil || len(us) != 20 || us[0].ID != ids[19] {
		t.Fatalf("after restart: %d updates, %v", len(us), err)
	}
}

func TestSIGTERMExitsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	p := startServer(t, dir)
	if err := client.New(p.url, "").Healthz(context.Background()); err != nil {
		t.Fatal(err)
	}
	// An open event stream must not hold the shutdown up.
	s, err := client.New(p.url, "").CreateAccount(context.Background(), "alice", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", p.url+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("events = %d", resp.StatusCode)
	}
	streamDone := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, resp.Body); close(streamDone) }()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no exit 20 s after SIGTERM\n%s", p.stderr)
	}
	select {
	case <-streamDone:
	case <-time.After(5 * time.Second):
		t.Fatal("event stream still open after the server exited")
	}
	if !strings.Contains(p.stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop logged:\n%s", p.stderr)
	}
	// The data directory reopens.
	p2 := startServer(t, dir)
	if err := client.New(p2.url, "").Healthz(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// env is an environment for options.Parse.
func env(kv ...string) options.Env {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestServeInProcess runs the server on port 0 in-process, as other tests
// can, and checks options and shutdown.
func TestServeInProcess(t *testing.T) {
	cfg, err := serve.Parse([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--retention", "1h",
		"--rate-limit-post", "5/1m", "--rate-limit-exempt", "10.0.0.0/8,192.168.1.1", "--trusted-proxy", "127.0.0.1", "--log-level", "warn"}, options.NoEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Retention != time.Hour || cfg.RateLimits.Post.Burst != 5 || len(cfg.RateLimitExempt) != 2 || len(cfg.TrustedProxies) != 1 {
		t.Fatalf("parsed %+v", cfg)
	}
	cfg.Stdout = io.Discard
	cfg.PasswordParams = password.TestParams
	m, err := serve.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !m.HTTP.PageCacheEnabled() {
		t.Fatal("page cache off on a single SQLite node")
	}
	ctx := context.Background()
	s, err := client.New(m.URL, "").CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(m.URL, s.Token)
	ch, err := c.CreateChannel(ctx, client.ChannelInput{Name: "X", Category: "news"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.PostUpdate(ctx, ch.ID, "short-lived", nil)
	if err != nil || !u.ExpiresAt.Equal(u.CreatedAt.Add(time.Hour)) {
		t.Fatalf("retention flag not applied: %+v, %v", u, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Healthz(ctx); err == nil {
		t.Fatal("server still answers after Close")
	}
}

// Every bad value is refused before anything starts, with an error that
// names the flag or environment variable it came from.
func TestServeOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  options.Env
		want string
	}{
		{[]string{"--retention", "soon"}, nil, `--retention "soon"`},
		{[]string{"--retention", "-1h"}, nil, `--retention "-1h"`},
		{[]string{"--rate-limit-login", "lots"}, nil, `--rate-limit-login "lots"`},
		{[]string{"--trusted-proxy", "nope"}, nil, `--trusted-proxy "nope"`},
		{[]string{"--log-level", "loud"}, nil, `--log-level "loud"`},
		{[]string{"--log-format", "xml"}, nil, `--log-format "xml"`},
		{[]string{"--page-cache-mb", "lots"}, nil, `--page-cache-mb "lots"`},
		{[]string{"--max-conns-per-addr", "-1"}, nil, `--max-conns-per-addr "-1"`},
		{[]string{"--read-timeout", "0"}, nil, `--read-timeout "0"`},
		{[]string{"--public-url", "herald.example"}, nil, `--public-url "herald.example"`},
		{[]string{"extra"}, nil, `unexpected argument "extra"`},
		{nil, env("HERALD_PAGE_CACHE_MB", "-1"), `HERALD_PAGE_CACHE_MB "-1"`},
		{nil, env("HERALD_STREAM_LINGER", "soon"), `HERALD_STREAM_LINGER "soon"`},
		{nil, env("HERALD_NATS_HEAD_CHECK", "soon"), `HERALD_NATS_HEAD_CHECK "soon"`},
		{[]string{"--tls-cert", "c.pem"}, nil, "--tls-cert and --tls-key go together"},
		{[]string{"--acme-http-addr", ":80"}, nil, "--acme-http-addr needs --acme-domain"},
		{[]string{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--acme-domain", "a.example"}, nil, "choose one"},
		{[]string{"--push-lease", "100ms"}, nil, `--push-lease "100ms"`},
		{[]string{"--webhook-lease", "5s"}, nil, "--webhook-lease must be longer than --webhook-timeout"},
		{[]string{"--webhook-timeout", "30s"}, nil, "--webhook-lease must be longer than --webhook-timeout"},
	} {
		_, err := serve.Parse(tc.args, tc.env, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to say %s", tc.args, err, tc.want)
		}
	}
}

// A flag beats its environment variable, which beats the default.
func TestServeOptionSources(t *testing.T) {
	cfg, err := serve.Parse(nil, env("HERALD_ADDR", "127.0.0.1:9999", "HERALD_RETENTION", "48h", "HERALD_STREAM_LINGER", "0", "HERALD_PAGE_CACHE_MB", "0"), io.Discard)
	if err != nil || cfg.Addr != "127.0.0.1:9999" || cfg.Retention != 48*time.Hour || cfg.StreamLinger >= 0 || cfg.PageCacheMB != 0 {
		t.Fatalf("from the environment: %v %+v", err, cfg)
	}
	cfg, err = serve.Parse([]string{"--retention", "2h", "--stream-linger", "5ms"}, env("HERALD_RETENTION", "48h"), io.Discard)
	if err != nil || cfg.Retention != 2*time.Hour || cfg.StreamLinger != 5*time.Millisecond || cfg.Addr != "127.0.0.1:8080" {
		t.Fatalf("flags over the environment: %v %+v", err, cfg)
	}
	cfg, err = serve.Parse([]string{"--sync-commits"}, env("HERALD_SYNC_COMMITS", "false"), io.Discard)
	if err != nil || !cfg.SyncCommits {
		t.Fatalf("--sync-commits: %v %+v", err, cfg)
	}
	if cfg, err = serve.Parse(nil, env("HERALD_SYNC_COMMITS", "yes"), io.Discard); err != nil || !cfg.SyncCommits {
		t.Fatalf("HERALD_SYNC_COMMITS=yes: %v %+v", err, cfg)
	}
	d := serve.Defaults()
	if d.RateLimits.QR != hhttp.DefaultRateLimits.QR {
		t.Fatalf("QR renderings: %v, want the default %v", d.RateLimits.QR, hhttp.DefaultRateLimits.QR)
	}
	if d.SyncCommits {
		t.Fatal("commits are synced by default")
	}
	if d.Addr != "127.0.0.1:8080" || d.DataDir != "./herald-data" || d.StreamLinger != 0 || d.MaxConnsPerAddr <= 0 ||
		d.ReadHeaderTimeout <= 0 || d.ReadTimeout <= 0 || d.IdleTimeout <= 0 || d.ACMEDirectory != serve.DefaultACMEDirectory {
		t.Fatalf("defaults: %+v", d)
	}
}

// docs/deployment.md lists every option of herald serve with its variable.
func TestDeploymentDocListsOptions(t *testing.T) {
	b, err := os.ReadFile("../../docs/deployment.md")
	if err != nil {
		t.Fatal(err)
	}
	var c serve.Config
	for _, o := range serve.Options(&c) {
		if !strings.Contains(string(b), "--"+o.Flag) || !strings.Contains(string(b), o.Env) {
			t.Errorf("docs/deployment.md lacks --%s or %s", o.Flag, o.Env)
		}
	}
}

// The server binary is the server: no load generator, no NATS server, no
// benchmark code in it. go list is fast; the symbol check runs with the
// binary tests.
func TestServerBinaryDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{with .Module}}{{.Path}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, mod, _ := strings.Cut(line, " ")
		n++
		if strings.HasPrefix(mod, "github.com/nats-io/nats-server") || strings.Contains(pkg, "herald-bench") || strings.HasSuffix(pkg, "/pgtest") {
			t.Errorf("herald depends on %s (module %s)", pkg, mod)
		}
	}
	if n < 50 {
		t.Fatalf("go list printed %d packages: %s", n, out)
	}
	if testing.Short() {
		return
	}
	nm, err := exec.Command("go", "tool", "nm", heraldBinary(t)).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, sym := range []string{"epollReaders", "SeedChannels", "nats-server", "benchFanout"} {
		if strings.Contains(string(nm), sym) {
			t.Errorf("the herald binary holds %s", sym)
		}
	}
}

// herald version prints what the build recorded (-X flags here).
func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	a := &app{env: options.NoEnv, stdout: &out, stderr: io.Discard}
	if err := a.run(context.Background(), []string{"version"}); err != nil {
		t.Fatal(err)
	}
	// In a test binary: no -X flags; the fallbacks fill every line.
	if !strings.HasPrefix(out.String(), "herald ") || !strings.Contains(out.String(), "\ncommit ") || !strings.Contains(out.String(), "\nbuilt ") {
		t.Fatalf("version printed %q", out.String())
	}
	if testing.Short() {
		return
	}
	b, err := exec.Command(heraldBinary(t), "version").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"herald " + testVersion + "\n", "commit 0123abc\n", "built 2026-01-02T03:04:05Z\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("herald version printed %q, want %q in it", b, want)
		}
	}
}
