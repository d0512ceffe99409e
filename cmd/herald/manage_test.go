package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/cmd/internal/options"
)

// The admin's commands end to end against a real server: channel edit and
// avatar, updates edit/delete, admins, the invite link, directory search;
// --json prints exactly the API's answer.
func TestManageCommands(t *testing.T) {
	s := startInProcess(t, true)
	ctx := context.Background()
	anon := client.New(s.URL, "")
	sess, err := anon.CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.CreateAccount(ctx, "bob", "a long enough password", ""); err != nil {
		t.Fatal(err)
	}
	owner := anon.WithToken(sess.Token)
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Station", Description: "old", Category: "weather", Country: "FR", Language: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	// run runs a command: its words (up to the first flag or the third),
	// the connection flags, then its flags and arguments.
	run := func(args ...string) string {
		t.Helper()
		words := 1
		for words < len(args) && words < 3 && !strings.HasPrefix(args[words], "-") && strings.ToLower(args[words]) == args[words] &&
			strings.Contains(" edit avatar set remove list add show rotate delete ", " "+args[words]+" ") {
			words++
		}
		full := append(append([]string{}, args[:words]...), "--server", s.URL, "--token", sess.Token)
		out, err := runCLI(t, append(full, args[words:]...)...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}
	// apiJSON is what the API answers to a GET, byte for byte.
	apiJSON := func(path string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+sess.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.TrimRight(string(b), "\n") + "\n"
	}

	// channel edit: only the flags given change; "" clears.
	run("channel", "edit", "--name", "Station Lyon", "--description", "", "--handle", "station_lyon", ch.ID)
	got, err := owner.GetChannel(ctx, ch.ID)
	if err != nil || got.Name != "Station Lyon" || got.Description != "" || got.Handle != "station_lyon" || got.Category != "weather" || !got.Listed {
		t.Fatalf("after edit: %+v, %v", got, err)
	}
	run("channel", "edit", "--unlisted", "@station_lyon")
	if got, _ := owner.GetChannel(ctx, ch.ID); got.Listed {
		t.Fatal("--unlisted kept the channel listed")
	}
	run("channel", "edit", "--listed", ch.ID)
	if _, err := runCLI(t, "channel", "edit", "--server", s.URL, "--token", sess.Token, ch.ID); err == nil || !strings.Contains(err.Error(), "nothing to change") {
		t.Fatal("channel edit without a change succeeded")
	}

	// channel avatar set/remove.
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	avatar := filepath.Join(t.TempDir(), "avatar.png")
	if err := os.WriteFile(avatar, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	run("channel", "avatar", "set", ch.ID, avatar)
	if got, _ := owner.GetChannel(ctx, ch.ID); got.AvatarURL == "" {
		t.Fatal("avatar not set")
	}
	run("channel", "avatar", "remove", ch.ID)
	if got, _ := owner.GetChannel(ctx, ch.ID); got.AvatarURL != "" {
		t.Fatal("avatar not removed")
	}

	// updates edit/delete; updates --json is the API's page.
	u, err := owner.PostUpdate(ctx, ch.ID, "Ciel clair", nil)
	if err != nil {
		t.Fatal(err)
	}
	run("updates", "edit", "--channel", ch.ID, u.ID, "Ciel voilé")
	if got, err := owner.GetUpdate(ctx, ch.ID, u.ID); err != nil || got.Text != "Ciel voilé" || got.EditedAt == nil {
		t.Fatalf("after edit: %+v, %v", got, err)
	}
	if out, want := run("updates", "--channel", ch.ID, "--json"), apiJSON("/api/v1/channels/"+ch.ID+"/updates"); out != want {
		t.Fatalf("updates --json:\n%s\nAPI:\n%s", out, want)
	}
	run("updates", "delete", "--channel", ch.ID, u.ID)
	if _, err := owner.GetUpdate(ctx, ch.ID, u.ID); err == nil {
		t.Fatal("update not deleted")
	}

	// admins add/list/remove, by username.
	run("admins", "add", "--channel", ch.ID, "bob")
	if out := run("admins", "list", "--channel", ch.ID); !strings.Contains(out, "owner  owner") || !strings.Contains(out, "bob  admin") {
		t.Fatalf("admins list:\n%s", out)
	}
	if out, want := run("admins", "list", "--channel", ch.ID, "--json"), apiJSON("/api/v1/channels/"+ch.ID+"/admins"); out != want {
		t.Fatalf("admins list --json:\n%s\nAPI:\n%s", out, want)
	}
	run("admins", "remove", "--channel", ch.ID, "bob")
	if admins, err := owner.ListAdmins(ctx, ch.ID); err != nil || len(admins) != 1 {
		t.Fatalf("after remove: %+v, %v", admins, err)
	}

	// invite show/rotate: rotating revokes the old link.
	old := strings.TrimSpace(run("invite", "show", "--channel", ch.ID))
	oldCode := old[strings.LastIndex(old, "/")+1:]
	if !strings.Contains(old, "/c/") {
		t.Fatalf("invite show printed %q", old)
	}
	if _, err := anon.Invite(ctx, oldCode); err != nil {
		t.Fatalf("the shown invite does not work: %v", err)
	}
	var link client.InviteLink
	if err := json.Unmarshal([]byte(run("invite", "rotate", "--channel", ch.ID, "--json")), &link); err != nil || link.Code == "" || link.Code == oldCode {
		t.Fatalf("invite rotate: %+v, %v", link, err)
	}
	if _, err := anon.Invite(ctx, oldCode); err == nil {
		t.Fatal("the old invite still works after rotate")
	}

	// directory search.
	if out := run("directory", "--category", "weather", "Lyon"); !strings.Contains(out, ch.ID) || !strings.Contains(out, "@station_lyon") {
		t.Fatalf("directory printed:\n%s", out)
	}
	if out := run("directory", "nothing matches this"); strings.Contains(out, ch.ID) {
		t.Fatalf("directory found the channel for another text:\n%s", out)
	}
}

// --help on every command and subcommand prints its usage on stdout and
// succeeds.
func TestEveryCommandHelp(t *testing.T) {
	subs := map[string][]string{
		"channel": {"create", "show", "edit", "delete"}, "keys": {"create", "list", "revoke"},
		"schedule": {"list", "edit", "cancel", "publish"}, "updates": {"list", "edit", "delete"},
		"admins": {"list", "add", "remove"}, "invite": {"show", "rotate"}, "operator": {"verify", "grant", "revoke"},
	}
	for _, c := range commands {
		lines := [][]string{{c.name, "--help"}}
		for _, sub := range subs[c.name] {
			lines = append(lines, []string{c.name, sub, "--help"})
		}
		if c.name == "channel" {
			lines = append(lines, []string{"channel", "avatar", "--help"}, []string{"channel", "avatar", "set", "--help"})
		}
		for _, args := range lines {
			var out, errOut bytes.Buffer
			a := &app{env: options.NoEnv, stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
			if err := a.run(context.Background(), args); err != nil {
				t.Fatalf("%v: %v", args, err)
			}
			if out.Len() == 0 || errOut.Len() != 0 || !strings.Contains(strings.ToLower(out.String()), "usage") {
				t.Fatalf("%v printed stdout %q, stderr %q", args, out.String(), errOut.String())
			}
		}
	}
}

// Exit status 2 for a command line that can't work, 1 for a failure.
func TestExitCodes(t *testing.T) {
	s := startInProcess(t, true)
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"nosuchcommand"}, exitUsage},
		{[]string{"admins"}, exitUsage},
		{[]string{"admins", "list", "--bogus"}, exitUsage},
		{[]string{"admins", "list", "--token", "x"}, exitUsage}, // no --channel
		{[]string{"updates", "--limit", "many", "--channel", "x"}, exitUsage},
		{[]string{"channel", "show", "--server", s.URL, "nosuchchannel"}, exitFailure},
		{[]string{"admins", "list", "--server", s.URL, "--token", "tok_bad", "--channel", "x"}, exitFailure},
	} {
		_, err := runCLI(t, c.args...)
		if err == nil {
			t.Fatalf("%v succeeded", c.args)
		}
		if got := exitCode(err); got != c.want {
			t.Fatalf("%v: exit %d (%v), want %d", c.args, got, err, c.want)
		}
	}
}
