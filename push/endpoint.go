package push

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/outbound"
)

// WellKnownHosts are the push services accepted without configuration: a
// host equal to an entry, or under an entry starting with "*.".
var WellKnownHosts = []string{
	"fcm.googleapis.com",
	"*.push.services.mozilla.com",
	"*.push.apple.com",
	"*.notify.windows.com",
}

// Policy says which push endpoints may be reached. The zero Policy accepts
// https endpoints on WellKnownHosts that resolve to public addresses.
type Policy struct {
	// AllowedHosts are operator-allowed hosts (--push-allow-hosts): exact
	// names or IP literals, or "*.example.org" for the names under it. An
	// allowed host may be any address (a self-hosted distributor on the LAN,
	// 127.0.0.1 in tests); all other hosts must resolve to public addresses.
	AllowedHosts []string

	// RootCAs, if set, replaces the system's roots for the TLS connections
	// (tests trust their push service's certificate with it).
	RootCAs *x509.CertPool

	// ConnsPerHost bounds the connections to one push service and keeps
	// them alive: the sender's concurrency (an HTTP/1.1 service needs one
	// per request in flight; HTTP/2 multiplexes them on one). 0: no bound.
	ConnsPerHost int

	// lookup replaces DNS in tests (a well-known name resolving to 127.0.0.1).
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

func endpointRefused(msg string) error {
	return herald.KindErrorf(herald.EINVALID, "push-endpoint-refused", "%s", msg)
}

// ValidateEndpoint checks a push endpoint with the default Policy.
func ValidateEndpoint(raw string) error { return Policy{}.ValidateEndpoint(raw) }

// ValidateEndpoint refuses, with an invalid herald.Error of kind
// push-endpoint-refused, an endpoint that is not an https URL on a well-known
// push service or an allowed host, or whose host is an IP literal of a
// private, loopback, link-local, unspecified or multicast address (unless
// allowed). Names are checked again, after DNS, when the client dials.
func (p Policy) ValidateEndpoint(raw string) error {
	if len(raw) > 2048 {
		return endpointRefused("The push endpoint is longer than 2048 characters.")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return endpointRefused("The push endpoint is not an absolute URL.")
	}
	if u.Scheme != "https" {
		return endpointRefused("The push endpoint must use https.")
	}
	if u.User != nil {
		return endpointRefused("The push endpoint must not carry credentials.")
	}
	if u.Fragment != "" {
		return endpointRefused("The push endpoint must not have a fragment.")
	}
	host := strings.ToLower(u.Hostname())
	if p.allowed(host) {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return endpointRefused("The push endpoint's host is an IP address, not a known push service.")
	}
	if !outbound.MatchHost(WellKnownHosts, host) {
		return endpointRefused("The push endpoint is not on a known push service.")
	}
	return nil
}

func (p Policy) allowed(host string) bool { return outbound.MatchHost(p.AllowedHosts, host) }

// NewClient returns an HTTP client that only reaches push services allowed by
// p: it never follows redirects (a push service answers directly), uses no
// proxy, speaks HTTP/2 where the service does, and refuses to connect to a
// host that is neither well known nor allowed, or to a private, loopback,
// link-local, unspecified or multicast address after DNS resolution (unless
// the host is allowed). The rules are internal/outbound's.
func NewClient(p Policy) *http.Client {
	return outbound.NewClient(outbound.Policy{
		AllowedHosts: p.AllowedHosts,
		KnownHosts:   WellKnownHosts,
		RootCAs:      p.RootCAs,
		Lookup:       p.lookup,
		ConnsPerHost: p.ConnsPerHost,
	})
}
