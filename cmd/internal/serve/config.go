// Package serve is `herald serve`: its Config, filled from one table of
// options (flags and HERALD_* environment variables), and Start, which
// builds the store, the bus, the real-time hub and the HTTP server in that
// order. cmd/herald runs it; cmd/herald-bench runs the same server under
// load; tests run it in-process on port 0.
package serve

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/cmd/internal/options"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/realtime"
)

// Config is everything `herald serve` runs from.
type Config struct {
	Addr      string
	DataDir   string
	Retention time.Duration
	PublicURL string
	// AllowedOrigins are other origins allowed to make cookie requests and
	// open WebSockets.
	AllowedOrigins  []string
	RateLimits      hhttp.RateLimits
	RateLimitExempt []netip.Prefix
	TrustedProxies  []netip.Prefix
	// PageCacheMB caches encoded update pages; single SQLite node only.
	PageCacheMB int
	// SyncCommits fsyncs SQLite's log on every commit (power-loss durable).
	SyncCommits bool
	// InsightsThreshold is k (herald.StoreConfig.InsightsThreshold).
	InsightsThreshold int64
	// InsightsSecretFile holds the secret keying view hashes; "" is
	// insights.key in DataDir (SQLite), or a per-process secret.
	InsightsSecretFile string
	LogLevel           slog.Level
	LogFormat          string // text or json

	// Scale-out: both or neither.
	Postgres      string
	NATS          string
	NATSHeadCheck time.Duration // 0: never

	// StreamLinger tunes write coalescing (realtime.Config.Linger); 0 is
	// the hub's default, negative none.
	StreamLinger time.Duration

	// Held connections.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	// MaxConnsPerAddr bounds the connections open at once from one client
	// address (0: no bound). RateLimitExempt and TrustedProxies networks
	// are not counted.
	MaxConnsPerAddr int
	ShutdownTimeout time.Duration

	// TLS from files, or ACME.
	TLSCert, TLSKey string
	ACMEDomains     []string
	ACMEEmail       string
	ACMEDirectory   string
	// ACMECARoots is a PEM file of the roots the ACME directory's own
	// HTTPS certificate chains to (a private ACME server); "" trusts the
	// system's.
	ACMECARoots string
	// ACMEHTTPAddr, if set, serves HTTP-01 challenges (and redirects
	// everything else to https) on this address, e.g. ":80".
	ACMEHTTPAddr string
	// MetricsAddr, if set, serves /metrics on its own listener (and not on
	// --addr); MetricsToken, if set, requires it as a bearer token.
	MetricsAddr  string
	MetricsToken string

	// Media (issue 13): a directory (default <data>/media); sizes in MB.
	MediaDir         string
	MediaMaxImageMB  int
	MediaMaxVideoMB  int
	MediaMaxAudioMB  int
	MediaMaxDocMB    int
	MediaDailyQuota  int // MB per channel per 24 h, 0 none
	MediaUploadTime  time.Duration
	MediaErasePeriod time.Duration
	// S3: media in an S3-compatible bucket instead of MediaDir (several
	// nodes). The secret comes from S3SecretKey or, read at start,
	// S3SecretKeyFile.
	S3Endpoint, S3Bucket, S3Region string
	S3AccessKey, S3SecretKey       string
	S3SecretKeyFile                string
	// Link previews (issue 16): fetched by the server after posting.
	LinkPreviews      bool
	PreviewAllowHosts []string // hosts fetched even at private or loopback addresses
	// Web Push (issue 12).
	PushContent     string        // preview or minimal
	PushAllowHosts  []string      // push hosts allowed besides the well-known services
	PushCARoots     string        // PEM file of roots trusted for push services besides the system's
	PushSubject     string        // VAPID contact (mailto: or https:); "" derives one
	PushConcurrency int           // requests in flight per node
	PushLease       time.Duration // a node's hold on a push job without progress
	// Outgoing webhooks (issue 15).
	WebhookAllowHosts []string      // webhook hosts allowed at private or loopback addresses
	WebhookCARoots    string        // PEM file of roots trusted for webhook receivers besides the system's
	WebhookTimeout    time.Duration // bounds one delivery
	WebhookLease      time.Duration // a node's hold on a webhook without progress; more than WebhookTimeout

	// Not options: what tests and benchmarks change.
	PasswordParams password.Params // default OWASP's
	Clock          herald.Clock    // default the system clock
	PushRootCAs    *x509.CertPool  // roots for push services' HTTPS (tests); nil: the system's
	WebhookRootCAs *x509.CertPool  // roots for webhook receivers' HTTPS (tests); nil: the system's
	Stdout, Stderr io.Writer       // the "listening on" line; the logs
}

// DefaultACMEDirectory is Let's Encrypt's production directory.
const DefaultACMEDirectory = "https://acme-v02.api.letsencrypt.org/directory"

// Defaults is the Config of `herald serve` without flags or environment.
func Defaults() Config {
	c, err := Parse(nil, options.NoEnv, io.Discard)
	if err != nil {
		panic("serve: bad default: " + err.Error())
	}
	return c
}

// Options is the table of `herald serve` options, writing into c.
func Options(c *Config) []options.Option {
	limit := func(l *hhttp.Limit) func(string) error {
		return func(v string) error {
			p, err := hhttp.ParseLimit(v)
			if err != nil {
				return errors.New("want N/DURATION, e.g. 10/1m, or off")
			}
			*l = p
			return nil
		}
	}
	d := hhttp.DefaultRateLimits
	c.RateLimits.MaxKeys = d.MaxKeys
	return []options.Option{
		{Flag: "addr", Env: "HERALD_ADDR", Default: "127.0.0.1:8080", Help: "listen address",
			Set: options.String(&c.Addr)},
		{Flag: "data", Env: "HERALD_DATA", Default: "./herald-data", Help: "data directory holding the database (and ACME certificates)",
			Set: options.String(&c.DataDir)},
		{Flag: "media-dir", Env: "HERALD_MEDIA_DIR", Help: "directory of uploaded media files; empty: <data>/media",
			Set: options.String(&c.MediaDir)},
		{Flag: "s3-endpoint", Env: "HERALD_S3_ENDPOINT", Help: "URL of an S3-compatible service holding media instead of --media-dir (required for several nodes), e.g. https://s3.eu-west-1.amazonaws.com",
			Set: func(v string) error {
				if v != "" {
					u, err := url.Parse(v)
					if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
						return errors.New("want http(s)://host[:port], without a path")
					}
				}
				c.S3Endpoint = v
				return nil
			}},
		{Flag: "s3-bucket", Env: "HERALD_S3_BUCKET", Help: "bucket of the media (it must exist); with --s3-endpoint",
			Set: options.String(&c.S3Bucket)},
		{Flag: "s3-region", Env: "HERALD_S3_REGION", Help: "region of the bucket; empty: asked of the service",
			Set: options.String(&c.S3Region)},
		{Flag: "s3-access-key", Env: "HERALD_S3_ACCESS_KEY", Help: "access key id; empty with no secret key: AWS_* variables, ~/.aws/credentials or the instance role",
			Set: options.String(&c.S3AccessKey)},
		{Flag: "s3-secret-key", Env: "HERALD_S3_SECRET_KEY", Help: "secret access key; prefer the variable or --s3-secret-key-file to a flag (flags show in ps)",
			Set: options.String(&c.S3SecretKey)},
		{Flag: "s3-secret-key-file", Env: "HERALD_S3_SECRET_KEY_FILE", Help: "file holding the secret access key (surrounding white space ignored)",
			Set: options.String(&c.S3SecretKeyFile)},
		{Flag: "media-max-image-mb", Env: "HERALD_MEDIA_MAX_IMAGE_MB", Default: "16", Help: "largest image upload, MB",
			Set: options.Int(&c.MediaMaxImageMB, 1)},
		{Flag: "media-max-video-mb", Env: "HERALD_MEDIA_MAX_VIDEO_MB", Default: "100", Help: "largest video upload, MB",
			Set: options.Int(&c.MediaMaxVideoMB, 1)},
		{Flag: "media-max-audio-mb", Env: "HERALD_MEDIA_MAX_AUDIO_MB", Default: "16", Help: "largest audio upload, MB",
			Set: options.Int(&c.MediaMaxAudioMB, 1)},
		{Flag: "media-max-document-mb", Env: "HERALD_MEDIA_MAX_DOCUMENT_MB", Default: "100", Help: "largest document upload, MB",
			Set: options.Int(&c.MediaMaxDocMB, 1)},
		{Flag: "media-daily-quota-mb", Env: "HERALD_MEDIA_DAILY_QUOTA_MB", Default: "1024", Help: "MB a channel may upload per 24 hours, 0 for no quota",
			Set: options.Int(&c.MediaDailyQuota, 0)},
		{Flag: "media-upload-timeout", Env: "HERALD_MEDIA_UPLOAD_TIMEOUT", Default: "10m", Help: "time a client has to send one upload (instead of --read-timeout)",
			Set: options.Duration(&c.MediaUploadTime, 1)},
		{Flag: "media-erase-period", Env: "HERALD_MEDIA_ERASE_PERIOD", Default: "15s", Help: "how often files of deleted or expired media are removed",
			Set: options.Duration(&c.MediaErasePeriod, 1)},
		{Flag: "link-previews", Env: "HERALD_LINK_PREVIEWS", Default: "true", Bool: true, Help: "fetch a card (title, description, image) for the first link of each update, from the server, so readers never contact the linked site; false: no fetch at all",
			Set: options.Bool(&c.LinkPreviews)},
		{Flag: "preview-allow-hosts", Env: "HERALD_PREVIEW_ALLOW_HOSTS", Help: "hosts link previews may fetch even at private, loopback or link-local addresses (an intranet site), names, IPs or *.domain, comma-separated; every other host must resolve to a public address",
			Set: options.List(&c.PreviewAllowHosts)},
		{Flag: "retention", Env: "HERALD_RETENTION", Default: herald.DefaultRetention.String(), Help: "how long updates live",
			Set: options.Duration(&c.Retention, 1)},
		{Flag: "public-url", Env: "HERALD_PUBLIC_URL", Help: "URL users reach the server at; https makes cookies Secure",
			Set: func(v string) error {
				if v != "" {
					u, err := url.Parse(v)
					if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
						return errors.New("want an http or https URL such as https://herald.example")
					}
				}
				c.PublicURL = v
				return nil
			}},
		{Flag: "allowed-origins", Env: "HERALD_ALLOWED_ORIGINS", Help: "other origins allowed to make cookie requests and open WebSockets, comma-separated",
			Set: options.List(&c.AllowedOrigins)},
		{Flag: "rate-limit-signup", Env: "HERALD_RATE_LIMIT_SIGNUP", Default: d.Signup.String(), Help: "account creations per client address, N/DURATION or off",
			Set: limit(&c.RateLimits.Signup)},
		{Flag: "rate-limit-login", Env: "HERALD_RATE_LIMIT_LOGIN", Default: d.Login.String(), Help: "login attempts per client address and per (address, username)",
			Set: limit(&c.RateLimits.Login)},
		{Flag: "rate-limit-login-global", Env: "HERALD_RATE_LIMIT_LOGIN_GLOBAL", Default: d.LoginGlobal.String(), Help: "login attempts over the whole server",
			Set: limit(&c.RateLimits.LoginGlobal)},
		{Flag: "rate-limit-post", Env: "HERALD_RATE_LIMIT_POST", Default: d.Post.String(), Help: "updates posted per client address and per account",
			Set: limit(&c.RateLimits.Post)},
		{Flag: "rate-limit-qr", Env: "HERALD_RATE_LIMIT_QR", Default: d.QR.String(), Help: "invite QR images rendered per client address (cached images are free)",
			Set: limit(&c.RateLimits.QR)},
		{Flag: "rate-limit-report", Env: "HERALD_RATE_LIMIT_REPORT", Default: d.Report.String(), Help: "reports filed per client address and per account",
			Set: limit(&c.RateLimits.Report)},
		{Flag: "rate-limit-write", Env: "HERALD_RATE_LIMIT_WRITE", Default: d.Write.String(), Help: "every other write (channels, follows, reactions, votes, invites, account changes) per account; four times as many per client address",
			Set: limit(&c.RateLimits.Write)},
		{Flag: "rate-limit-views", Env: "HERALD_RATE_LIMIT_VIEWS", Default: d.Views.String(), Help: "view reports per account (each names up to 100 updates)",
			Set: limit(&c.RateLimits.Views)},
		{Flag: "rate-limit-exempt", Env: "HERALD_RATE_LIMIT_EXEMPT", Help: "client networks never rate limited nor bounded in streams or connections, CIDR[,CIDR...]",
			Set: options.Prefixes(&c.RateLimitExempt)},
		{Flag: "trusted-proxy", Env: "HERALD_TRUSTED_PROXY", Help: "proxies whose X-Forwarded-For is believed (and whose connections are not bounded per address), CIDR[,CIDR...]",
			Set: options.Prefixes(&c.TrustedProxies)},
		{Flag: "page-cache-mb", Env: "HERALD_PAGE_CACHE_MB", Default: "64", Help: "MiB of encoded update pages kept for repeated reads, 0 disables; single node on SQLite only",
			Set: options.Int(&c.PageCacheMB, 0)},
		{Flag: "sync-commits", Env: "HERALD_SYNC_COMMITS", Default: "false", Bool: true, Help: "fsync the embedded database on every commit, so acknowledged writes survive a power loss too (kill -9 is survived either way); slower writes",
			Set: options.Bool(&c.SyncCommits)},
		{Flag: "insights-threshold", Env: "HERALD_INSIGHTS_THRESHOLD", Default: strconv.Itoa(herald.DefaultInsightsThreshold), Help: "k: insights figures and view counts computed from fewer people are not shown",
			Set: func(v string) error {
				var k int
				if err := options.Int(&k, 2)(v); err != nil {
					return err
				}
				c.InsightsThreshold = int64(k)
				return nil
			}},
		{Flag: "insights-secret-file", Env: "HERALD_INSIGHTS_SECRET_FILE", Help: "file holding the secret that keys view hashes (created if missing; give every node the same one); empty: insights.key in --data, or a per-process secret with --postgres",
			Set: options.String(&c.InsightsSecretFile)},
		{Flag: "log-level", Env: "HERALD_LOG_LEVEL", Default: "info", Help: "debug, info, warn or error",
			Set: func(v string) error {
				if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
					return errors.New("want debug, info, warn or error")
				}
				return nil
			}},
		{Flag: "log-format", Env: "HERALD_LOG_FORMAT", Default: "text", Help: "text or json",
			Set: options.OneOf(&c.LogFormat, "text", "json")},
		{Flag: "postgres", Env: "HERALD_POSTGRES", Help: "PostgreSQL URL of the shared store; requires --nats",
			Set: options.String(&c.Postgres)},
		{Flag: "nats", Env: "HERALD_NATS", Help: "NATS URL(s) of the event bus between nodes, comma-separated; requires --postgres",
			Set: options.String(&c.NATS)},
		{Flag: "nats-head-check", Env: "HERALD_NATS_HEAD_CHECK", Default: realtime.DefaultHeadCheck.String(), Help: "how often a node checks its channels' heads for events committed but never published; 0 disables",
			Set: options.Duration(&c.NATSHeadCheck, 0)},
		{Flag: "stream-linger", Env: "HERALD_STREAM_LINGER", Help: "how long a stream's first queued event waits for others to share its write; 0 none, empty the default (2ms)",
			Set: func(v string) error {
				if v == "" {
					c.StreamLinger = 0
					return nil
				}
				if err := options.Duration(&c.StreamLinger, 0)(v); err != nil {
					return err
				}
				if c.StreamLinger == 0 {
					c.StreamLinger = -1 // the hub's "none"
				}
				return nil
			}},
		{Flag: "read-header-timeout", Env: "HERALD_READ_HEADER_TIMEOUT", Default: "10s", Help: "time a client has to send a request's headers",
			Set: options.Duration(&c.ReadHeaderTimeout, 1)},
		{Flag: "read-timeout", Env: "HERALD_READ_TIMEOUT", Default: "30s", Help: "time a client has to send a whole request, body included (streams are not bound by it)",
			Set: options.Duration(&c.ReadTimeout, 1)},
		{Flag: "idle-timeout", Env: "HERALD_IDLE_TIMEOUT", Default: "2m", Help: "how long an idle keep-alive connection stays open",
			Set: options.Duration(&c.IdleTimeout, 1)},
		{Flag: "max-header-bytes", Env: "HERALD_MAX_HEADER_BYTES", Default: strconv.Itoa(64 << 10), Help: "largest request head accepted, in bytes",
			Set: options.Int(&c.MaxHeaderBytes, 4096)},
		{Flag: "max-conns-per-addr", Env: "HERALD_MAX_CONNS_PER_ADDR", Default: "512", Help: "connections open at once from one client address (streams included), 0 for no bound; --rate-limit-exempt and --trusted-proxy networks are not counted",
			Set: options.Int(&c.MaxConnsPerAddr, 0)},
		{Flag: "shutdown-timeout", Env: "HERALD_SHUTDOWN_TIMEOUT", Default: "10s", Help: "how long a stopping server waits for requests in flight",
			Set: options.Duration(&c.ShutdownTimeout, 1)},
		{Flag: "push-content", Env: "HERALD_PUSH_CONTENT", Default: "preview", Help: "what a Web Push notification carries, encrypted to the device: preview (channel name and the first 200 characters) or minimal (only ids; the app fetches the text)",
			Set: options.OneOf(&c.PushContent, "preview", "minimal")},
		{Flag: "push-allow-hosts", Env: "HERALD_PUSH_ALLOW_HOSTS", Help: "push endpoint hosts accepted besides the well-known push services (e.g. a self-hosted UnifiedPush distributor), names, IPs or *.domain, comma-separated; they may be private addresses",
			Set: options.List(&c.PushAllowHosts)},
		{Flag: "push-ca-roots", Env: "HERALD_PUSH_CA_ROOTS", Help: "PEM file of extra roots trusted for push services' HTTPS (a distributor with a private CA)",
			Set: options.String(&c.PushCARoots)},
		{Flag: "webhook-allow-hosts", Env: "HERALD_WEBHOOK_ALLOW_HOSTS", Help: "webhook hosts that may be at private, loopback or link-local addresses (names, IPs or *.domain, comma-separated); others must resolve to public addresses",
			Set: options.List(&c.WebhookAllowHosts)},
		{Flag: "webhook-ca-roots", Env: "HERALD_WEBHOOK_CA_ROOTS", Help: "PEM file of extra roots trusted for webhook receivers' HTTPS (a receiver with a private CA)",
			Set: options.String(&c.WebhookCARoots)},
		{Flag: "push-subject", Env: "HERALD_PUSH_SUBJECT", Help: "contact sent to push services in VAPID tokens, a mailto: or https: URI; empty uses --public-url when https, else mailto:postmaster@localhost",
			Set: func(v string) error {
				if v != "" && !strings.HasPrefix(v, "mailto:") && !strings.HasPrefix(v, "https://") {
					return errors.New("want a mailto: or https:// URI")
				}
				c.PushSubject = v
				return nil
			}},
		{Flag: "push-concurrency", Env: "HERALD_PUSH_CONCURRENCY", Default: "128", Help: "Web Push requests in flight at once per node",
			Set: options.Int(&c.PushConcurrency, 1)},
		{Flag: "push-lease", Env: "HERALD_PUSH_LEASE", Default: "15s", Help: "how long a node holds a push job without progress (renewed while it works): after a crash, another node or the restarted one resumes the job this long after the last progress",
			Set: options.Duration(&c.PushLease, time.Second)},
		{Flag: "webhook-timeout", Env: "HERALD_WEBHOOK_TIMEOUT", Default: "10s", Help: "how long one webhook delivery may take, connection included, before it counts as failed",
			Set: options.Duration(&c.WebhookTimeout, time.Second)},
		{Flag: "webhook-lease", Env: "HERALD_WEBHOOK_LEASE", Default: "20s", Help: "how long a node holds a webhook's deliveries without progress, more than --webhook-timeout: after a crash, another node or the restarted one resumes this long after the last delivery",
			Set: options.Duration(&c.WebhookLease, time.Second)},
		{Flag: "tls-cert", Env: "HERALD_TLS_CERT", Help: "PEM certificate chain file: serve HTTPS (with --tls-key)",
			Set: options.String(&c.TLSCert)},
		{Flag: "tls-key", Env: "HERALD_TLS_KEY", Help: "PEM private key file of --tls-cert",
			Set: options.String(&c.TLSKey)},
		{Flag: "acme-domain", Env: "HERALD_ACME_DOMAIN", Help: "serve HTTPS with certificates obtained automatically through ACME for these domains, comma-separated",
			Set: options.List(&c.ACMEDomains)},
		{Flag: "acme-email", Env: "HERALD_ACME_EMAIL", Help: "contact address given to the ACME certificate authority",
			Set: options.String(&c.ACMEEmail)},
		{Flag: "acme-directory", Env: "HERALD_ACME_DIRECTORY", Default: DefaultACMEDirectory, Help: "ACME directory URL of the certificate authority",
			Set: options.String(&c.ACMEDirectory)},
		{Flag: "acme-ca-roots", Env: "HERALD_ACME_CA_ROOTS", Help: "PEM file of the roots the ACME directory's own HTTPS certificate chains to (a private ACME server); empty trusts the system's",
			Set: options.String(&c.ACMECARoots)},
		{Flag: "acme-http-addr", Env: "HERALD_ACME_HTTP_ADDR", Help: "also listen here (e.g. :80) for ACME HTTP-01 challenges, redirecting other requests to https; empty uses TLS-ALPN-01 on --addr only",
			Set: options.String(&c.ACMEHTTPAddr)},
		{Flag: "metrics-addr", Env: "HERALD_METRICS_ADDR", Help: "serve /metrics on this address only (e.g. 127.0.0.1:9090), not on --addr",
			Set: options.String(&c.MetricsAddr)},
		{Flag: "metrics-token", Env: "HERALD_METRICS_TOKEN", Help: "require Authorization: Bearer TOKEN on /metrics (with neither this nor --metrics-addr, /metrics answers this machine only)",
			Set: options.String(&c.MetricsToken)},
	}
}

// Parse reads args and env into a Config (from Defaults) and validates it.
func Parse(args []string, env options.Env, out io.Writer) (Config, error) {
	c := Config{PasswordParams: password.DefaultParams, Stdout: os.Stdout, Stderr: os.Stderr}
	rest, err := options.Parse("herald serve", Options(&c), args, env, out)
	if err != nil {
		return c, err
	}
	if len(rest) > 0 {
		return c, fmt.Errorf("unexpected argument %q", rest[0])
	}
	return c, c.Validate()
}

// Validate checks what no single option can: options that go together.
func (c *Config) Validate() error {
	switch {
	case c.Postgres != "" && c.NATS == "":
		return errors.New("--postgres needs --nats: every node must hear the events posted on the others (set both, or neither for a single SQLite node)")
	case c.NATS != "" && c.Postgres == "":
		return errors.New("--nats needs --postgres: nodes on separate SQLite files can't share streams (set both, or neither for a single SQLite node)")
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return errors.New("--tls-cert and --tls-key go together")
	case c.TLSCert != "" && len(c.ACMEDomains) > 0:
		return errors.New("--tls-cert and --acme-domain are two ways to get certificates: choose one")
	case c.ACMEHTTPAddr != "" && len(c.ACMEDomains) == 0:
		return errors.New("--acme-http-addr needs --acme-domain")
	case len(c.ACMEDomains) > 0 && c.ACMEDirectory == "":
		return errors.New("--acme-directory is empty")
	case (c.S3Endpoint == "") != (c.S3Bucket == ""):
		return errors.New("--s3-endpoint and --s3-bucket go together")
	case c.S3Endpoint != "" && c.MediaDir != "":
		return errors.New("--media-dir and --s3-endpoint are two places for media: choose one")
	case c.S3SecretKey != "" && c.S3SecretKeyFile != "":
		return errors.New("--s3-secret-key and --s3-secret-key-file: give one")
	case (c.S3AccessKey == "") != (c.S3SecretKey == "" && c.S3SecretKeyFile == ""):
		return errors.New("--s3-access-key and a secret key (--s3-secret-key or --s3-secret-key-file) go together")
	case c.WebhookLease != 0 && c.WebhookLease <= c.WebhookTimeout:
		return errors.New("--webhook-lease must be longer than --webhook-timeout: a delivery still running would lose its webhook to another node")
	}
	return nil
}
