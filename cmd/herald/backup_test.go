package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
