// Package outbound is the one way Herald's server reaches URLs it did not
// choose (push endpoints, webhooks, link previews): every such URL is an SSRF
// surface. A Policy says which hosts may be reached; NewClient's connections
// are checked after DNS resolution, on every dial (so on every redirect too),
// and refuse private, loopback, link-local, unspecified, multicast and other
// non-public addresses unless the operator allowed the host.
package outbound

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
)

// Policy says which hosts an outgoing request may reach.
type Policy struct {
	// AllowedHosts are operator-allowed hosts: exact names or IP literals,
	// or "*.example.org" for the names under it. An allowed host may be at
	// any address (a service on the LAN, 127.0.0.1 in tests).
	AllowedHosts []string

	// KnownHosts, when not nil, limits every other host to this list (same
	// patterns); nil admits any host that resolves to public addresses.
	KnownHosts []string

	// RootCAs, if set, replaces the system's roots for TLS connections.
	RootCAs *x509.CertPool

	// Lookup replaces DNS (tests point a public-looking name at loopback).
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)

	// MaxRedirects is how many redirects the client follows (0: none, the
	// redirect response is returned as is). Each hop is dialled under the
	// same rules.
	MaxRedirects int

	// Timeout bounds a whole request, body included (default 60 s).
	Timeout time.Duration

	// ConnsPerHost, if above 0, bounds the connections to one host and
	// keeps that many alive when idle (default: no bound, 64 kept). A
	// client making n requests at once to an HTTP/1.1 host needs n, or
	// every burst closes and dials connections (a TLS handshake each).
	ConnsPerHost int
}

// What a dial refused by the policy returns.
var (
	ErrHostRefused = errors.New("outbound: host is neither known nor allowed")
	ErrAddrRefused = errors.New("outbound: address is private, loopback, link-local, unspecified or multicast")
)

// Refusal is why CheckURL refuses a URL, in a sentence that can be shown to
// the person who gave it.
type Refusal string

func (r Refusal) Error() string { return string(r) }

// Allowed reports whether the operator allowed host (lower case, no port).
func (p Policy) Allowed(host string) bool { return MatchHost(p.AllowedHosts, host) }

// Known reports whether host may be reached at a public address: it is on
// KnownHosts, or KnownHosts is nil.
func (p Policy) Known(host string) bool { return p.KnownHosts == nil || MatchHost(p.KnownHosts, host) }

// CheckURL refuses, with an error whose text can be shown to the person who
// gave the URL, a URL that is not absolute, whose scheme is not one of
// schemes, that carries credentials or a fragment, is longer than 2048
// bytes, or whose host is neither allowed nor known, or is an IP literal of
// a non-public address. Names are checked again after DNS, when dialling.
func (p Policy) CheckURL(raw string, schemes ...string) error {
	if len(raw) > 2048 {
		return Refusal("The URL is longer than 2048 characters.")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return Refusal("The URL is not absolute.")
	}
	schemeOK := false
	for _, s := range schemes {
		schemeOK = schemeOK || u.Scheme == s
	}
	if !schemeOK {
		return Refusal("The URL must use " + strings.Join(schemes, " or ") + ".")
	}
	if u.User != nil {
		return Refusal("The URL must not carry credentials.")
	}
	if u.Fragment != "" {
		return Refusal("The URL must not have a fragment.")
	}
	host := strings.ToLower(u.Hostname())
	if p.Allowed(host) {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if p.KnownHosts != nil || !PublicAddr(ip) {
			return Refusal("The URL's host is an address that may not be reached.")
		}
		return nil
	}
	if !p.Known(host) {
		return Refusal("The URL's host is not one that may be reached.")
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return Refusal("The URL's host is an address that may not be reached.")
	}
	return nil
}

// MatchHost reports whether host (no port, no brackets) equals a pattern or
// lies under a "*." pattern; case and a trailing dot are ignored.
func MatchHost(patterns []string, host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
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

// PublicAddr reports whether a is a public unicast address.
func PublicAddr(a netip.Addr) bool {
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

// reserved are further ranges that never hold a public service.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64 can reach any IPv4 address
}

// NewClient returns an HTTP client that only reaches what p allows: no
// proxy, HTTP/2 where the server speaks it, at most p.MaxRedirects
// redirects (http and https only), and every connection refused unless its
// host is allowed, or known and at a public address after DNS resolution
// (the address is checked on the socket itself, so a name that resolves
// differently between check and use gains nothing).
func NewClient(p Policy) *http.Client {
	guard := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !PublicAddr(ap.Addr()) {
				return ErrAddrRefused
			}
			return nil
		},
	}
	open := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	lookup := p.Lookup
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
		if p.Allowed(host) {
			d = open
		} else if !p.Known(host) {
			return nil, ErrHostRefused
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
			firstErr = fmt.Errorf("outbound: %s resolves to no address", host)
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
	if p.ConnsPerHost > 0 {
		t.MaxConnsPerHost = p.ConnsPerHost
		t.MaxIdleConnsPerHost = p.ConnsPerHost
		t.MaxIdleConns = max(t.MaxIdleConns, p.ConnsPerHost)
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	return &http.Client{
		Transport: t,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > p.MaxRedirects {
				return http.ErrUseLastResponse
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("outbound: redirect to a %s URL refused", req.URL.Scheme)
			}
			return nil
		},
	}
}
