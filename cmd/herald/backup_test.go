package main

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
)

// herald backup copies a running server's database; a server started on
// the copy serves the same channel and updates.
func TestBackupCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	p := startServer(t, dir)
	token := p.cli(t, "", "", "account", "create", "--username", "backup_owner", "--password", "a long enough password")
	chID := p.cli(t, token, "", "channel", "create", "--name", "Trafic Lyon", "--category", "traffic")
	for _, text := range []string{"A7 fermée", "Bouchon sur le périphérique"} {
		p.cli(t, token, "", "post", "--channel", chID, text)
	}

	out := filepath.Join(t.TempDir(), "snapshot", "herald.db")
	if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
		t.Fatal(err)
	}
	msg := p.cli(t, "", "", "backup", "--data", dir, out)
	if !strings.Contains(msg, out) {
		t.Fatalf("backup printed %q", msg)
	}
	// The server is still up and writing.
	p.cli(t, token, "", "post", "--channel", chID, "after the backup")

	// Refused: an existing file is never overwritten.
	cmd := exec.Command(heraldBinary(t), "backup", "--data", dir, out)
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "already exists") {
		t.Fatalf("second backup to the same file: err %v, output %s", err, b)
	}

	restored := startServer(t, filepath.Dir(out))
	c := client.New(restored.url, token)
	us, err := c.ListUpdates(context.Background(), chID, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 2 || us[0].Text != "Bouchon sur le périphérique" || us[1].Text != "A7 fermée" {
		t.Fatalf("restored server's updates: %+v", us)
	}
}

// herald backup --media copies the files of the media live in the database
// copy, and no others: a deleted update's photo, still on disk because the
// erase loop has not run, is left out. A server restored from both serves
// the live photo.
func TestBackupMedia(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	p := startServer(t, dir, "--media-erase-period", "1h")
	ctx := context.Background()
	s, err := client.New(p.url, "").CreateAccount(ctx, "keeper", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(p.url, s.Token)
	ch, err := c.CreateChannel(ctx, client.ChannelInput{Name: "Album", Category: "news"})
	if err != nil {
		t.Fatal(err)
	}
	jpg := func(shade byte) []byte {
		img := image.NewGray(image.Rect(0, 0, 64, 48))
		for i := range img.Pix {
			img.Pix[i] = shade + byte(i%7)
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, nil); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	up := func(shade byte) *herald.Media {
		data := jpg(shade)
		m, err := c.UploadMedia(ctx, ch.ID, bytes.NewReader(data), int64(len(data)), "")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	kept, gone, loose := up(10), up(90), up(170)
	if _, err := c.PostMedia(ctx, ch.ID, "kept", []herald.MediaRef{{ID: kept.ID}}); err != nil {
		t.Fatal(err)
	}
	u, err := c.PostMedia(ctx, ch.ID, "gone", []herald.MediaRef{{ID: gone.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUpdate(ctx, ch.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "media", gone.ID, "original")); err != nil {
		t.Fatalf("the deleted update's file should still be on disk for this test: %v", err)
	}

	snap := filepath.Join(t.TempDir(), "snap")
	if err := os.Mkdir(snap, 0o700); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(snap, "media")
	msg := p.cli(t, "", "", "backup", "--data", dir, "--media", out, filepath.Join(snap, "herald.db"))
	if !strings.Contains(msg, "media of 2 live uploads") {
		t.Fatalf("backup printed %q", msg)
	}
	list := func(root string, ids ...string) []string {
		t.Helper()
		var got []string
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(root, path)
				rel = filepath.ToSlash(rel)
				if id, _, _ := strings.Cut(rel, "/"); len(ids) == 0 || slices.Contains(ids, id) {
					got = append(got, rel)
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return got
	}
	got := list(out)
	want := list(filepath.Join(dir, "media"), kept.ID, loose.ID)
	slices.Sort(want)
	if !slices.Equal(got, want) || len(want) < 4 {
		t.Fatalf("backed-up media files %v, want %v", got, want)
	}
	// An existing media directory is never written into.
	cmd := exec.Command(heraldBinary(t), "backup", "--data", dir, "--media", out, filepath.Join(t.TempDir(), "again.db"))
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "already exists") {
		t.Fatalf("second backup into the same media directory: err %v, output %s", err, b)
	}

	restored := startServer(t, snap)
	resp, err := http.Get(restored.url + kept.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("restored server serving the kept photo: %d", resp.StatusCode)
	}
}
