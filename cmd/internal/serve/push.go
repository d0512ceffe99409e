package serve

import (
	"cmp"
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/push"
	"github.com/heraldhq/herald/push/dispatch"
)

// pushSetup reads (on the very first start: generates and stores) the VAPID
// key every node signs with, and builds the push policy and signer.
func (s *Server) pushSetup(ctx context.Context, clock herald.Clock) (*push.Signer, push.Policy, error) {
	cfg := s.Config
	policy := push.Policy{AllowedHosts: cfg.PushAllowHosts, RootCAs: cfg.PushRootCAs, ConnsPerHost: cmp.Or(cfg.PushConcurrency, dispatch.DefaultConcurrency)}
	roots, err := addRoots(policy.RootCAs, cfg.PushCARoots, "--push-ca-roots")
	if err != nil {
		return nil, policy, err
	}
	policy.RootCAs = roots
	raw, err := s.Store.PushVAPIDKey(ctx, push.GenerateVAPIDKey)
	if err != nil {
		return nil, policy, fmt.Errorf("push: VAPID key: %w", err)
	}
	key, err := push.ParseVAPIDKey(raw)
	if err != nil {
		return nil, policy, fmt.Errorf("push: stored VAPID key: %w", err)
	}
	subject := cfg.PushSubject
	if subject == "" {
		subject = "mailto:postmaster@localhost"
		if strings.HasPrefix(cfg.PublicURL, "https://") {
			subject = cfg.PublicURL
		}
	}
	signer, err := push.NewSigner(key, subject, clock)
	if err != nil {
		return nil, policy, fmt.Errorf("--push-subject: %w", err)
	}
	return signer, policy, nil
}

// addRoots returns roots (nil: the system's) with the certificates of the
// PEM file added; roots itself when file is "".
func addRoots(roots *x509.CertPool, file, flag string) (*x509.CertPool, error) {
	if file == "" {
		return roots, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if roots == nil {
		if roots, err = x509.SystemCertPool(); err != nil {
			roots = x509.NewCertPool()
		}
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no certificate in %s", flag, file)
	}
	return roots, nil
}

// publishers hands the store's committed events to the real-time hub,
// then to the push dispatcher (which only looks for new updates) and the
// webhook worker (which only wakes up).
type publishers []herald.EventPublisher

func (ps publishers) Publish(ctx context.Context, events []herald.Event) {
	for _, p := range ps {
		p.Publish(ctx, events)
	}
}
