package sqlite_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/sqlite"
	"github.com/heraldhq/herald/sqlite/sqlitetest"
	"github.com/heraldhq/herald/storetest"
)

// openDB opens a fresh store in a temp directory, closed when tb ends.
func openDB(tb testing.TB, cfg herald.StoreConfig) *sqlite.DB {
	tb.Helper()
	return openAt(tb, sqlitetest.Path(tb), cfg)
}

func openAt(tb testing.TB, path string, cfg herald.StoreConfig) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path, cfg)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB, cfg herald.StoreConfig) herald.Store { return openDB(t, cfg) })
}

// fixture is one account owning one channel, followed by a second account.
type fixture struct {
	owner, follower *herald.Account
	ch              *herald.Channel
}

func newFixture(tb testing.TB, db herald.Store) fixture {
	tb.Helper()
	ctx := context.Background()
	f := fixture{owner: &herald.Account{Username: "owner", DisplayName: "Owner"}, follower: &herald.Account{Username: "follower", DisplayName: "F"}}
	must(tb, db.CreateAccount(ctx, f.owner, "hash"))
	must(tb, db.CreateAccount(ctx, f.follower, "hash"))
	f.ch = &herald.Channel{Name: "Bench", Category: "news", Listed: true}
	must(tb, db.CreateChannel(ctx, f.owner.ID, f.ch))
	_, err := db.Follow(ctx, f.follower.ID, f.ch.ID)
	must(tb, err)
	return f
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// marker returns a unique string that can only be in the files if we wrote it.
func marker(tb testing.TB, what string) string {
	var b [8]byte
	_, err := rand.Read(b[:])
	must(tb, err)
	return what + "-" + hex.EncodeToString(b[:]) + "-marker"
}

// filesContaining returns the names of files in dir whose bytes contain s.
func filesContaining(tb testing.TB, dir, s string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	must(tb, err)
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		must(tb, err)
		if bytes.Contains(b, []byte(s)) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestErasureLeavesNoTrace posts unique texts, erases them by every route
// (delete, edit, prune, channel deletion), checkpoints, and scans every file
// of the data directory for them. The same scan before erasure is the control
// that proves the scan can see them.
func TestErasureLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := herald.NewFakeClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	db := openAt(t, filepath.Join(dir, "herald.db"), herald.StoreConfig{Clock: clock})
	f := newFixture(t, db)

	post := func(ch *herald.Channel, text string, poll bool) *herald.Update {
		u := &herald.Update{Text: text}
		if poll {
			u.Poll = &herald.Poll{Question: text + "?", Options: []herald.PollOption{{Text: text + "-a"}, {Text: "b"}}}
		}
		must(t, db.CreateUpdate(ctx, f.owner.ID, ch.ID, u))
		return u
	}
	deleted := marker(t, "deleted")
	edited := marker(t, "edited")
	pruned := marker(t, "pruned")
	inChannel := marker(t, "inchannel")
	kept := marker(t, "kept")

	uDel := post(f.ch, deleted, true)
	_, err := db.SetReaction(ctx, f.follower.ID, f.ch.ID, uDel.ID, "🎉")
	must(t, err)
	_, err = db.Vote(ctx, f.follower.ID, f.ch.ID, uDel.ID, []int{0})
	must(t, err)
	uEdit := post(f.ch, edited, false)
	uPrune := post(f.ch, pruned, true)
	other := &herald.Channel{Name: "Doomed", Category: "news", Listed: true}
	must(t, db.CreateChannel(ctx, f.owner.ID, other))
	post(other, inChannel, false)
	clock.Advance(48 * time.Hour)
	post(f.ch, kept, false)

	// Control: everything is findable, in the WAL and after a checkpoint.
	for _, m := range []string{deleted, edited, pruned, inChannel, kept} {
		if len(filesContaining(t, dir, m)) == 0 {
			t.Fatalf("control: %q not found in any file before erasure", m)
		}
	}
	must(t, db.Checkpoint(ctx))
	for _, m := range []string{deleted, edited, pruned, inChannel, kept} {
		if got := filesContaining(t, dir, m); len(got) == 0 {
			t.Fatalf("control: %q not found after checkpoint", m)
		}
	}

	must(t, db.DeleteUpdate(ctx, f.owner.ID, f.ch.ID, uDel.ID))
	_, err = db.EditUpdate(ctx, f.owner.ID, f.ch.ID, uEdit.ID, "replacement text")
	must(t, err)
	must(t, db.DeleteChannel(ctx, f.owner.ID, other.ID))
	clock.Set(uPrune.ExpiresAt.Add(time.Second))
	n, err := db.PruneExpired(ctx)
	must(t, err)
	if n != 2 { // uPrune and the edited update, both posted 48 h before "kept"
		t.Fatalf("PruneExpired erased %d, want 2", n)
	}
	must(t, db.Checkpoint(ctx))

	for _, m := range []string{deleted, deleted + "-a", edited, pruned, pruned + "-a", inChannel} {
		if got := filesContaining(t, dir, m); len(got) != 0 {
			t.Errorf("erased text %q still readable in %v", m, got)
		}
	}
	if len(filesContaining(t, dir, kept)) == 0 {
		t.Fatal("the live update's text vanished too: the scan proves nothing")
	}
}

// TestEditErasesOldText checks an edit alone overwrites the old text.
func TestEditErasesOldText(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openAt(t, filepath.Join(dir, "herald.db"), herald.StoreConfig{})
	f := newFixture(t, db)
	old := marker(t, "typo")
	u := &herald.Update{Text: old}
	must(t, db.CreateUpdate(ctx, f.owner.ID, f.ch.ID, u))
	must(t, db.Checkpoint(ctx))
	if len(filesContaining(t, dir, old)) == 0 {
		t.Fatal("control: text not in the files")
	}
	_, err := db.EditUpdate(ctx, f.owner.ID, f.ch.ID, u.ID, "fixed")
	must(t, err)
	must(t, db.Checkpoint(ctx))
	if got := filesContaining(t, dir, old); len(got) != 0 {
		t.Fatalf("edited-away text still in %v", got)
	}
}

// TestReopenKeepsData closes and reopens the file: data, sequences and the
// migration record survive, and migrations don't run twice.
func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "herald.db")
	db, err := sqlite.Open(context.Background(), path, herald.StoreConfig{})
	must(t, err)
	f := newFixture(t, db)
	u := &herald.Update{Text: "survives"}
	must(t, db.CreateUpdate(ctx, f.owner.ID, f.ch.ID, u))
	_, err = db.SetReaction(ctx, f.follower.ID, f.ch.ID, u.ID, "👍")
	must(t, err)
	must(t, db.Close())

	db2 := openAt(t, path, herald.StoreConfig{})
	got, err := db2.FindUpdate(ctx, f.follower.ID, f.ch.ID, u.ID)
	must(t, err)
	if got.Text != "survives" || got.Reactions["👍"] != 1 || got.Viewer.Reaction == nil {
		t.Fatalf("after reopen: %+v", got)
	}
	u2 := &herald.Update{Text: "next"}
	must(t, db2.CreateUpdate(ctx, f.owner.ID, f.ch.ID, u2))
	if u2.Seq != 2 {
		t.Fatalf("seq after reopen = %d, want 2", u2.Seq)
	}
	heads, err := db2.StreamHeads(ctx, []string{f.ch.ID})
	must(t, err)
	if heads[f.ch.ID] != 2 {
		t.Fatalf("stream head after reopen = %d, want 2", heads[f.ch.ID])
	}
	c, err := db2.FindChannel(ctx, f.follower.ID, f.ch.ID)
	must(t, err)
	if c.FollowerCount != 1 || !c.Viewer.Following {
		t.Fatalf("channel after reopen: %+v", c)
	}
}

// TestConcurrentWritersNeverLocked runs writers and readers on two handles
// of one file (as two processes would) and on one handle from many
// goroutines: every call must succeed, none may see "database is locked".
func TestConcurrentWritersNeverLocked(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "herald.db")
	db1 := openAt(t, path, herald.StoreConfig{})
	db2 := openAt(t, path, herald.StoreConfig{})
	f := newFixture(t, db1)
	const workers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*3)
	for w := 0; w < workers; w++ {
		db := db1
		if w%2 == 1 {
			db = db2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				u := &herald.Update{Text: fmt.Sprintf("w%d-%d", w, i)}
				if err := db.CreateUpdate(ctx, f.owner.ID, f.ch.ID, u); err != nil {
					errs <- err
					continue
				}
				if _, err := db.SetReaction(ctx, f.follower.ID, f.ch.ID, u.ID, "👍"); err != nil {
					errs <- err
				}
				if _, err := db.ListUpdates(ctx, f.follower.ID, f.ch.ID, 0, 20); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent call failed: %v", err)
	}
	list, err := db2.ListUpdates(ctx, "", f.ch.ID, 0, 100)
	must(t, err)
	if len(list) != 100 || list[0].Seq != workers*each {
		t.Fatalf("newest seq %d (%d listed), want %d", list[0].Seq, len(list), workers*each)
	}
}

// TestDurableAfterKill starts a child process that posts updates and prints
// each id once CreateUpdate returned, SIGKILLs it mid-stream, and checks that
// every acknowledged update is in the database.
func TestDurableAfterKill(t *testing.T) {
	if path := os.Getenv("HERALD_SQLITE_KILL_CHILD"); path != "" {
		durableChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "herald.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurableAfterKill$")
	cmd.Env = append(os.Environ(), "HERALD_SQLITE_KILL_CHILD="+path)
	out, err := cmd.StdoutPipe()
	must(t, err)
	cmd.Stderr = os.Stderr
	must(t, cmd.Start())
	sc := bufio.NewScanner(out)
	var follower, channel string
	var acked []string
	for sc.Scan() && len(acked) < 300 {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 4 && fields[0] == "SETUP":
			follower, channel = fields[2], fields[3]
		case len(fields) == 2 && fields[0] == "ACK":
			acked = append(acked, fields[1])
		}
	}
	must(t, cmd.Process.Kill()) // SIGKILL: no deferred Close, no checkpoint
	_ = cmd.Wait()
	if len(acked) < 300 || channel == "" {
		t.Fatalf("child acknowledged %d updates (channel %q)", len(acked), channel)
	}
	db := openAt(t, path, herald.StoreConfig{})
	for _, id := range acked {
		u, err := db.FindUpdate(context.Background(), follower, channel, id)
		if err != nil {
			t.Fatalf("acknowledged update %s lost after kill -9: %v", id, err)
		}
		if !strings.HasPrefix(u.Text, "durable ") {
			t.Fatalf("update %s text %q", id, u.Text)
		}
	}
}

func durableChild(path string) {
	ctx := context.Background()
	db, err := sqlite.Open(context.Background(), path, herald.StoreConfig{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	owner := &herald.Account{Username: "owner", DisplayName: "O"}
	follower := &herald.Account{Username: "follower", DisplayName: "F"}
	ch := &herald.Channel{Name: "Durable", Category: "news", Listed: true}
	if err := errors.Join(db.CreateAccount(ctx, owner, "h"), db.CreateAccount(ctx, follower, "h"), db.CreateChannel(ctx, owner.ID, ch)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("SETUP %s %s %s\n", owner.ID, follower.ID, ch.ID)
	for i := 0; ; i++ {
		u := &herald.Update{Text: fmt.Sprintf("durable %d", i)}
		if err := db.CreateUpdate(ctx, owner.ID, ch.ID, u); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("ACK %s\n", u.ID)
	}
}

// TestErasureCheckpointsByItself checks that the store checkpoints on its
// own after an erasure, without anyone calling Checkpoint: the text must
// leave the files well within the minute the product promises.
func TestErasureCheckpointsByItself(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openAt(t, filepath.Join(dir, "herald.db"), herald.StoreConfig{})
	f := newFixture(t, db)
	m := marker(t, "auto")
	u := &herald.Update{Text: m}
	must(t, db.CreateUpdate(ctx, f.owner.ID, f.ch.ID, u))
	if len(filesContaining(t, dir, m)) == 0 {
		t.Fatal("control: text not in the files")
	}
	must(t, db.DeleteUpdate(ctx, f.owner.ID, f.ch.ID, u.ID))
	deadline := time.Now().Add(30 * time.Second)
	for len(filesContaining(t, dir, m)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("deleted text still in %v 30 s after deletion", filesContaining(t, dir, m))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestGroupCommitIsolatesFailures mixes, at once, writes that fail after
// writing something (a channel insert whose owner doesn't exist) with writes
// that succeed: concurrent writes share transactions, and a failure must
// undo exactly its own work.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, herald.StoreConfig{})
	f := newFixture(t, db)
	const n = 40
	var wg sync.WaitGroup
	start := make(chan struct{}) // release everyone at once, so batches form
	errs := make(chan error, 2*n)
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			ghost := &herald.Channel{Name: "Ghost", Category: "news", Handle: fmt.Sprintf("ghost_%d", i)}
			if err := db.CreateChannel(ctx, "no-such-account", ghost); herald.ErrorCode(err) != herald.ENOTFOUND {
				errs <- fmt.Errorf("ghost channel %d: %v, want not_found", i, err)
			}
		}()
		go func() {
			defer wg.Done()
			<-start
			if err := db.CreateUpdate(ctx, f.owner.ID, f.ch.ID, &herald.Update{Text: fmt.Sprintf("real %d", i)}); err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	list, err := db.ListUpdates(ctx, "", f.ch.ID, 0, 100)
	must(t, err)
	if len(list) != n || list[0].Seq != n {
		t.Fatalf("%d updates, newest seq %d: want %d", len(list), list[0].Seq, n)
	}
	// Every ghost channel was rolled back: its handle is free.
	for i := 0; i < n; i++ {
		ch := &herald.Channel{Name: "Real", Category: "news", Listed: true, Handle: fmt.Sprintf("ghost_%d", i)}
		if err := db.CreateChannel(ctx, f.owner.ID, ch); err != nil {
			t.Fatalf("handle ghost_%d still taken: %v", i, err)
		}
	}
}

// TestUnfollowLeavesNoLink checks the follow-history promise at the level
// of the bytes: once herald.UnfollowTrail has passed and the pruner ran, no
// file of the data directory holds a record linking the account to the
// channel (an account-stream event "@account, seq, channel.followed,
// channel" or its index entry "channel, @account, seq"), without anyone
// calling Checkpoint. The same scan before is the control that proves it
// can see the link.
func TestUnfollowLeavesNoLink(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := herald.NewFakeClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	db := openAt(t, filepath.Join(dir, "herald.db"), herald.StoreConfig{Clock: clock})
	f := newFixture(t, db)
	leaver := &herald.Account{Username: "leaver", DisplayName: "L"}
	must(t, db.CreateAccount(ctx, leaver, "hash"))
	_, err := db.Follow(ctx, leaver.ID, f.ch.ID)
	must(t, err)
	must(t, db.Unfollow(ctx, leaver.ID, f.ch.ID))
	linked := func(accountID string) []string { return filesLinking(t, dir, herald.AccountStream(accountID), f.ch.ID) }
	must(t, db.Checkpoint(ctx))
	if len(linked(leaver.ID)) == 0 {
		t.Fatal("control: no file links the account to the channel")
	}

	clock.Advance(herald.UnfollowTrail + time.Second)
	_, err = db.PruneExpired(ctx)
	must(t, err)
	deadline := time.Now().Add(60 * time.Second)
	for got := linked(leaver.ID); len(got) != 0; got = linked(leaver.ID) {
		if time.Now().After(deadline) {
			t.Fatalf("60 s after the pruner, the account is still linked to the channel in %v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The follower that stayed is still linked: the scan proves something.
	if len(linked(f.follower.ID)) == 0 {
		t.Fatal("the remaining follower's link vanished too: the scan proves nothing")
	}
}

// filesLinking returns the files of dir holding an event record of stream
// naming channelID (stream, a one- or two-byte seq, the type, the channel
// id) or an index entry of one (channel id, stream).
func filesLinking(tb testing.TB, dir, stream, channelID string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	must(tb, err)
	var out []string
	near := func(data []byte, at int, what string, within int) bool {
		end := min(len(data), at+within+len(what))
		return at <= len(data) && bytes.Contains(data[at:end], []byte(what))
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		must(tb, err)
		found := false
		for off := 0; !found; {
			i := bytes.Index(data[off:], []byte(stream))
			if i < 0 {
				break
			}
			i += off
			after := i + len(stream)
			found = near(data, after, "channel.", 2) && near(data, after, channelID, 2+len("channel.unfollowed"))
			off = i + 1
		}
		for off := 0; !found; {
			i := bytes.Index(data[off:], []byte(channelID))
			if i < 0 {
				break
			}
			i += off
			found = near(data, i+len(channelID), stream, 4)
			off = i + 1
		}
		if found {
			out = append(out, e.Name())
		}
	}
	return out
}
