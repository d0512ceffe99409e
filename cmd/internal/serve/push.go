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
	if cfg.PushCARoots != "" {
		pem, err := os.ReadFile(cfg.PushCARoots)
		if err != nil {
			return nil, policy, fmt.Errorf("--push-ca-roots: %w", err)
		}
		roots := policy.RootCAs
		if roots == nil {
			if roots, err = x509.SystemCertPool(); err != nil {
				roots = x509.NewCertPool()
			}
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, policy, fmt.Errorf("--push-ca-roots: no certificate in %s", cfg.PushCARoots)
		}
		policy.RootCAs = roots
	}
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

// bothPublishers hands the store's committed events to the real-time hub,
// then to the push dispatcher (which only looks for new updates).
type bothPublishers [2]herald.EventPublisher

func (b bothPublishers) Publish(ctx context.Context, events []herald.Event) {
	b[0].Publish(ctx, events)
	b[1].Publish(ctx, events)
}
