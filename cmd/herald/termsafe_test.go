package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
)

func TestNeutralise(t *testing.T) {
	for in, want := range map[string]string{
		"plain é 🌧\n\ttab":         "plain é 🌧\n\ttab",
		"\x1b[31mred\x1b[0m":       `\u001b[31mred\u001b[0m`,
		"\x1b]0;title\x07":         `\u001b]0;title\u0007`,
		"over\rwrite\x7f":          `over\u000dwrite\u007f`,
		"c1 \u009b31m":             `c1 \u009b31m`,
		"bidi \u202egnp.exe\u2066": `bidi \u202egnp.exe\u2066`,
		"bad \xff utf8":            "bad \uFFFD utf8",
	} {
		if got := string(neutralise([]byte(in))); got != want {
			t.Errorf("neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}

// An update's text can't reach a reader's terminal as escape sequences,
// in the short output or with --json (which stays the API's JSON).
func TestCLINeutralisesServerText(t *testing.T) {
	s := startInProcess(t, true)
	ctx := context.Background()
	sess, err := client.New(s.URL, "").CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	owner := client.New(s.URL, sess.Token)
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Evil", Category: "news", Country: "FR", Language: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	evil := "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\u009b1m \u202etxt.exe\r"
	if _, err := owner.PostUpdate(ctx, ch.ID, "ok "+evil, nil); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"updates", "--server", s.URL, "--channel", ch.ID},
		{"updates", "--server", s.URL, "--channel", ch.ID, "--json"},
	} {
		out, err := runCLI(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(out, "\x1b\x07\r\u009b\u202e") {
			t.Fatalf("%v printed control characters: %q", args, out)
		}
		if !strings.Contains(out, `\u001b]0;pwned\u0007`) {
			t.Fatalf("%v: escapes not shown: %q", args, out)
		}
		if args[len(args)-1] == "--json" {
			var page struct{ Updates []herald.Update }
			err := json.Unmarshal([]byte(out), &page)
			if us := page.Updates; err != nil || len(us) != 1 || us[0].Text != "ok "+strings.TrimSpace(evil) {
				t.Fatalf("--json output is not the API's JSON: %v %q", err, out)
			}
		}
	}
}
