package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldhq/herald/client"
)

func TestVerifyCommand(t *testing.T) {
	ctx := context.Background()
	url := startInProcess(t, true).URL
	anon := client.New(url, "")
	owner, err := anon.CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	oc := anon.WithToken(owner.Token)
	ch, err := oc.CreateChannel(ctx, client.ChannelInput{Name: "Traffic", Category: "traffic"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := oc.CreateChannel(ctx, client.ChannelInput{Name: "Weather", Category: "weather"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := oc.PostUpdate(ctx, ch.ID, "A7 closed at Vienne", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The update as a reader saved it from the API.
	raw, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "update.json")
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	forged := filepath.Join(dir, "forged.json")
	if err := os.WriteFile(forged, []byte(strings.Replace(string(raw), "A7 closed", "A7 closes", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	reseq := filepath.Join(dir, "reseq.json")
	if err := os.WriteFile(reseq, []byte(strings.Replace(string(raw), `"seq":1,`, `"seq":2,`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	keys, err := anon.SigningKeys(ctx, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	otherKeys, err := anon.SigningKeys(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	otherFile := filepath.Join(dir, "other-keys.json")
	b, _ := json.Marshal(map[string]any{"keys": otherKeys})
	if err := os.WriteFile(otherFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	perma := url + "/channels/" + ch.ID + "/updates/" + strconv.FormatInt(u.Seq, 10)

	cases := []struct {
		args []string
		want string // the verdict's first word(s)
		seq  int
	}{
		{[]string{"verify", "--server", url, file}, "valid", 1},
		{[]string{"verify", "--key", keys[0].PublicKey, file}, "valid", 1}, // offline
		{[]string{"verify", url + "/api/v1/channels/" + ch.ID + "/updates/" + u.ID}, "valid", 1},
		{[]string{"verify", perma}, "valid", 1},
		{[]string{"verify", "--server", url, forged}, "invalid", 1},
		{[]string{"verify", "--server", url, reseq}, "invalid", 2},
		{[]string{"verify", "--key", otherKeys[0].PublicKey, file}, "invalid", 1},
		{[]string{"verify", "--keys", otherFile, file}, "unknown key", 1},
	}
	for _, c := range cases {
		out, err := runCLI(t, c.args...)
		if !strings.HasPrefix(out, c.want+": update "+strconv.Itoa(max(c.seq, 1))+" of channel "+ch.ID) {
			t.Fatalf("herald %s: %q (%v), want %s", strings.Join(c.args, " "), out, err, c.want)
		}
		if (err == nil) != (c.want == "valid") {
			t.Fatalf("herald %s: error %v for verdict %s", strings.Join(c.args, " "), err, c.want)
		}
	}

	// A whole JSON Feed, and one of its items, saved by a reader.
	feed := filepath.Join(dir, "feed.json")
	r, err := anon.HTTPClient().Get(url + "/channels/" + ch.ID + "/feed.json")
	if err != nil {
		t.Fatal(err)
	}
	fb, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil || os.WriteFile(feed, fb, 0o644) != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "verify", "--server", url, feed); err != nil || out != "valid: update 1 of channel "+ch.ID+", key "+u.KeyID+"\n" {
		t.Fatalf("feed: %q %v", out, err)
	}
	var doc struct{ Items []json.RawMessage }
	if err := json.Unmarshal(fb, &doc); err != nil || len(doc.Items) != 1 {
		t.Fatalf("feed items: %v", err)
	}
	item := filepath.Join(dir, "item.json")
	tampered := strings.Replace(string(doc.Items[0]), "A7 closed at Vienne", "A7 open at Vienne", -1)
	if err := os.WriteFile(item, []byte(tampered), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "verify", "--server", url, item); err == nil || !strings.HasPrefix(out, "invalid") {
		t.Fatalf("tampered feed item: %q %v", out, err)
	}

	// Atom: the feed by URL, the feed saved, one entry saved alone, tampered.
	atomURL := url + "/channels/" + ch.ID + "/feed.atom"
	if out, err := runCLI(t, "verify", atomURL); err != nil || out != "valid: update 1 of channel "+ch.ID+", key "+u.KeyID+"\n" {
		t.Fatalf("Atom feed by URL: %q %v", out, err)
	}
	r, err = anon.HTTPClient().Get(atomURL)
	if err != nil {
		t.Fatal(err)
	}
	ab, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	start, end := strings.Index(string(ab), "<entry>"), strings.Index(string(ab), "</entry>")
	if start < 0 || end < start {
		t.Fatalf("no entry in %s", ab)
	}
	entry := string(ab[start : end+len("</entry>")])
	for name, content := range map[string]string{"feed.atom": string(ab), "entry.xml": entry} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := runCLI(t, "verify", "--key", keys[0].PublicKey, p); err != nil || !strings.HasPrefix(out, "valid: update 1 of channel "+ch.ID) {
			t.Fatalf("%s: %q %v", name, out, err)
		}
	}
	tamperedEntry := filepath.Join(dir, "tampered.xml")
	if err := os.WriteFile(tamperedEntry, []byte(strings.Replace(entry, "A7 closed at Vienne", "A7 open at Vienne", -1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "verify", "--key", keys[0].PublicKey, tamperedEntry); err == nil || !strings.HasPrefix(out, "invalid") {
		t.Fatalf("tampered Atom entry: %q %v", out, err)
	}
	if err := os.WriteFile(tamperedEntry, []byte("<feed><entry><title>x</title></entry></feed>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "verify", "--key", keys[0].PublicKey, tamperedEntry); err == nil {
		t.Fatalf("Atom without Herald's element: %q", out)
	}

	// After a rotation the old update still verifies with the published keys.
	if _, err := oc.RotateSigningKey(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "verify", "--server", url, file); err != nil || !strings.HasPrefix(out, "valid") {
		t.Fatalf("after rotation: %q %v", out, err)
	}
	if out, err := runCLI(t, "verify", "--server", url, filepath.Join(dir, "missing.json")); err == nil {
		t.Fatalf("missing file: %q", out)
	}
	if err := os.WriteFile(file, []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "verify", "--server", url, file); err == nil {
		t.Fatalf("not JSON: %q", out)
	}
}
