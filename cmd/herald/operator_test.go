package main

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/heraldhq/herald/client"
)

// An operator verifies a channel of a running single-node server from the
// command line; readers see the flag; unknown channels and a wrong data
// directory are refused without creating anything.
func TestOperatorVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	p := startServer(t, dir)
	token := p.cli(t, "", "", "account", "create", "--username", "city_hall", "--password", "a long enough password")
	chID := p.cli(t, token, "", "channel", "create", "--name", "Ville de Lyon", "--category", "government")

	out := p.cli(t, "", "", "operator", "verify", "--data", dir, chID)
	if !strings.Contains(out, "Ville de Lyon") || !strings.Contains(out, "is verified") {
		t.Fatalf("operator verify printed %q", out)
	}
	c := client.New(p.url, "")
	ch, err := c.GetChannel(context.Background(), chID)
	if err != nil || !ch.Verified {
		t.Fatalf("channel after verify: %+v, %v", ch, err)
	}
	if out := p.cli(t, "", "", "operator", "verify", "--data", dir, "--off", chID); !strings.Contains(out, "not verified") {
		t.Fatalf("operator verify --off printed %q", out)
	}
	if ch, err := c.GetChannel(context.Background(), chID); err != nil || ch.Verified {
		t.Fatalf("channel after verify --off: %+v, %v", ch, err)
	}

	for _, args := range [][]string{
		{"operator", "verify", "--data", dir, "no-such-channel"},
		{"operator", "verify", "--data", t.TempDir(), chID},
	} {
		cmd := exec.Command(heraldBinary(t), args...)
		if b, err := cmd.CombinedOutput(); err == nil {
			t.Fatalf("herald %s succeeded: %s", strings.Join(args, " "), b)
		}
	}
}

// herald operator grant makes an account an operator (the admin API then
// answers it), revoke takes it back; unknown usernames are refused.
func TestOperatorGrant(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	p := startServer(t, dir)
	token := p.cli(t, "", "", "account", "create", "--username", "olivia", "--password", "a long enough password")
	c := client.New(p.url, token)
	audit := func() error {
		return c.Do(context.Background(), "GET", "/api/v1/admin/audit", nil, nil)
	}
	var pr *client.Problem
	if err := audit(); !errors.As(err, &pr) || pr.Status != 404 {
		t.Fatalf("audit log before the grant: %v, want 404", err)
	}
	if out := p.cli(t, "", "", "operator", "grant", "--data", dir, "olivia"); !strings.Contains(out, "olivia is an operator") {
		t.Fatalf("operator grant printed %q", out)
	}
	if err := audit(); err != nil {
		t.Fatalf("audit log after the grant: %v", err)
	}
	if out := p.cli(t, "", "", "operator", "revoke", "--data", dir, "olivia"); !strings.Contains(out, "not an operator") {
		t.Fatalf("operator revoke printed %q", out)
	}
	if err := audit(); !errors.As(err, &pr) || pr.Status != 404 {
		t.Fatalf("audit log after the revocation: %v, want 404", err)
	}
	cmd := exec.Command(heraldBinary(t), "operator", "grant", "--data", dir, "nobody_here")
	if b, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("granting an unknown account succeeded: %s", b)
	}
}
