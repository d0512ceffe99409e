package push

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/heraldhq/herald"
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
	if !matchHost(WellKnownHosts, host) {
		return endpointRefused("The push endpoint is not on a known push service.")
	}
	return nil
}

func (p Policy) allowed(host string) bool { return matchHost(p.AllowedHosts, host) }

// matchHost reports whether host (lower case, no port, no brackets) equals a
// pattern or lies under a "*." pattern.
func matchHost(patterns []string, host string) bool {
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return false
	}
	for _, p := range patterns {
		p = strings.ToLower(strings.Trim(p, "[]"))
		if suffix, ok := strings.CutPrefix(p, "*."); ok {
			if strings.HasSuffix(host, "."+suffix) {
				return true
			}
		} else if host == p {
			return true
		}
	}
	return false
}

// publicAddr reports whether a is an address push traffic may go to.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// reserved are further ranges that are never a public push service.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64 can reach any IPv4 address
}

// What a dial refused by the policy returns: a host that is neither well
// known nor allowed, or an address that is not public (after DNS).
var (
	errHostRefused = errors.New("push: host is not a known push service nor allowed")
	errAddrRefused = errors.New("push: address is private, loopback, link-local, unspecified or multicast")
)

// NewClient returns an HTTP client that only reaches push services allowed by
// p: it never follows redirects (a push service answers directly), uses no
// proxy, speaks HTTP/2 where the service does, and refuses to connect to a
// host that is neither well known nor allowed, or to a private, loopback,
// link-local, unspecified or multicast address after DNS resolution (unless
// the host is allowed).
func NewClient(p Policy) *http.Client {
	guard := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !publicAddr(ap.Addr()) {
				return errAddrRefused
			}
			return nil
		},
	}
	open := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	lookup := p.lookup
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		host = strings.ToLower(host)
		d := guard
		if p.allowed(host) {
			d = open
		} else if !matchHost(WellKnownHosts, host) {
			return nil, errHostRefused
		}
		var ips []netip.Addr
		if ip, err := netip.ParseAddr(host); err == nil {
			ips = []netip.Addr{ip}
		} else if ips, err = lookup(ctx, host); err != nil {
			return nil, err
		}
		var firstErr error
		for _, ip := range ips {
			c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
			if err == nil {
				return c, nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("push: %s resolves to no address", host)
		}
		return nil, firstErr
	}
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           dial,
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: p.RootCAs},
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	return &http.Client{
		Transport: t,
		Timeout:   60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
