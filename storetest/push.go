package storetest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Push/SaveUpdateList", testPushSaveUpdateList)
	register("Push/MoveBetweenAccounts", testPushMove)
	register("Push/Delete", testPushDelete)
	register("Push/Cap", testPushCap)
	register("Push/Validation", testPushValidation)
	register("Push/VAPIDKeyOnce", testPushVAPIDKeyOnce)
	register("Push/Targets", testPushTargets)
	register("Push/TargetsPaging", testPushTargetsPaging)
	register("Push/Privacy", testPushPrivacy)
	register("Push/Concurrent", testPushConcurrent)
}

// PushSub returns a valid subscription for endpoint n, with keys derived
// from seed (so a test can tell key versions apart).
func PushSub(n int, seed byte) herald.PushSubscription {
	p := bytes.Repeat([]byte{seed}, herald.PushP256DHLen)
	p[0] = 0x04
	return herald.PushSubscription{
		Endpoint: fmt.Sprintf("https://push.example.net/send/device-%d", n),
		P256DH:   p,
		Auth:     bytes.Repeat([]byte{seed ^ 0x5a}, herald.PushAuthLen),
	}
}

func (h *Harness) savePush(a *herald.Account, s herald.PushSubscription) herald.PushSubscription {
	h.T.Helper()
	out, _, err := h.Store.SavePushSubscription(h.Ctx, a.ID, s)
	if err != nil {
		h.T.Fatalf("SavePushSubscription(%s): %v", s.Endpoint, err)
	}
	return out
}

func testPushSaveUpdateList(t *testing.T, h *Harness) {
	s := h.Store
	a := h.Account("alice")
	list, err := s.PushSubscriptions(h.Ctx, a.ID)
	NoErr(t, err, "PushSubscriptions(empty)")
	if list == nil || len(list) != 0 {
		t.Fatalf("PushSubscriptions(empty) = %#v, want an empty non-nil list", list)
	}

	first, created, err := s.SavePushSubscription(h.Ctx, a.ID, PushSub(1, 1))
	NoErr(t, err, "Save")
	if !created || first.ID == "" || first.AccountID != a.ID || !first.CreatedAt.Equal(Start) || !first.UpdatedAt.Equal(Start) {
		t.Fatalf("Save = %+v created=%v", first, created)
	}
	h.Clock.Advance(time.Minute)
	second := h.savePush(a, PushSub(2, 2))

	// Re-subscribing the same endpoint updates its keys in place.
	h.Clock.Advance(time.Hour)
	again, created, err := s.SavePushSubscription(h.Ctx, a.ID, PushSub(1, 9))
	NoErr(t, err, "Save(same endpoint)")
	if created || again.ID != first.ID || !again.CreatedAt.Equal(Start) || !again.UpdatedAt.Equal(Start.Add(time.Hour+time.Minute)) {
		t.Fatalf("re-Save = %+v created=%v, want same id %s, created_at kept, updated_at moved", again, created, first.ID)
	}

	list, err = s.PushSubscriptions(h.Ctx, a.ID)
	NoErr(t, err, "PushSubscriptions")
	if len(list) != 2 || list[0].ID != first.ID || list[1].ID != second.ID {
		t.Fatalf("PushSubscriptions = %+v, want [%s %s]", list, first.ID, second.ID)
	}
	want := PushSub(1, 9)
	if !bytes.Equal(list[0].P256DH, want.P256DH) || !bytes.Equal(list[0].Auth, want.Auth) || list[0].Endpoint != want.Endpoint {
		t.Fatalf("updated keys not stored: %+v", list[0])
	}
	if !list[0].UpdatedAt.Equal(again.UpdatedAt) || !list[1].CreatedAt.Equal(Start.Add(time.Minute)) {
		t.Fatalf("times read back = %+v", list)
	}

	// The JSON form is the owner's device list: no keys, no account id.
	doc := JSON(t, list)
	for _, secret := range []string{a.ID, "p256dh", "auth", "account"} {
		if strings.Contains(strings.ToLower(doc), strings.ToLower(secret)) {
			t.Fatalf("device list JSON contains %q: %s", secret, doc)
		}
	}
	if !strings.Contains(doc, `"endpoint":"https://push.example.net/send/device-1"`) || !strings.Contains(doc, `"id":"`+first.ID+`"`) {
		t.Fatalf("device list JSON = %s", doc)
	}

	// Another account sees nothing of alice's devices.
	b := h.Account("bob")
	list, err = s.PushSubscriptions(h.Ctx, b.ID)
	NoErr(t, err, "PushSubscriptions(bob)")
	if len(list) != 0 {
		t.Fatalf("bob sees %+v", list)
	}

	_, _, err = s.SavePushSubscription(h.Ctx, "", PushSub(3, 3))
	WantCode(t, err, herald.EUNAUTHORIZED, "Save(anonymous)")
	_, _, err = s.SavePushSubscription(h.Ctx, herald.NewID(), PushSub(3, 3))
	WantCode(t, err, herald.ENOTFOUND, "Save(unknown account)")
}

func testPushMove(t *testing.T, h *Harness) {
	s := h.Store
	a, b := h.Account("alice"), h.Account("bob")
	old := h.savePush(a, PushSub(1, 1))
	h.Clock.Advance(time.Minute)
	moved, created, err := s.SavePushSubscription(h.Ctx, b.ID, PushSub(1, 2))
	NoErr(t, err, "Save(bob, alice's endpoint)")
	if !created || moved.ID == old.ID || moved.AccountID != b.ID || !moved.CreatedAt.Equal(Start.Add(time.Minute)) {
		t.Fatalf("moved = %+v created=%v (old id %s)", moved, created, old.ID)
	}
	la, err := s.PushSubscriptions(h.Ctx, a.ID)
	NoErr(t, err, "list alice")
	lb, err := s.PushSubscriptions(h.Ctx, b.ID)
	NoErr(t, err, "list bob")
	if len(la) != 0 || len(lb) != 1 || lb[0].ID != moved.ID || lb[0].P256DH[1] != 2 {
		t.Fatalf("after move: alice %+v, bob %+v", la, lb)
	}
	// Alice's old id is dead for her, and bob's device is not hers to delete.
	WantCode(t, s.DeletePushSubscription(h.Ctx, a.ID, old.ID), herald.ENOTFOUND, "alice deletes old id")
	WantCode(t, s.DeletePushSubscription(h.Ctx, a.ID, moved.ID), herald.ENOTFOUND, "alice deletes bob's device")
}

func testPushDelete(t *testing.T, h *Harness) {
	s := h.Store
	a, b := h.Account("alice"), h.Account("bob")
	d1 := h.savePush(a, PushSub(1, 1))
	d2 := h.savePush(a, PushSub(2, 2))

	err := s.DeletePushSubscription(h.Ctx, b.ID, d1.ID)
	WantKind(t, err, herald.ENOTFOUND, "push-subscription-not-found", "bob deletes alice's device")
	unknown := s.DeletePushSubscription(h.Ctx, b.ID, herald.NewID())
	if err.Error() != unknown.Error() {
		t.Fatalf("someone else's device (%v) and an unknown one (%v) are told apart", err, unknown)
	}
	NoErr(t, s.DeletePushSubscription(h.Ctx, a.ID, d1.ID), "alice deletes d1")
	WantCode(t, s.DeletePushSubscription(h.Ctx, a.ID, d1.ID), herald.ENOTFOUND, "delete twice")

	NoErr(t, s.DeletePushSubscriptionByEndpoint(h.Ctx, d2.Endpoint), "DeleteByEndpoint")
	NoErr(t, s.DeletePushSubscriptionByEndpoint(h.Ctx, d2.Endpoint), "DeleteByEndpoint(again)")
	NoErr(t, s.DeletePushSubscriptionByEndpoint(h.Ctx, "https://nowhere.example/x"), "DeleteByEndpoint(unknown)")
	list, err := s.PushSubscriptions(h.Ctx, a.ID)
	NoErr(t, err, "list")
	if len(list) != 0 {
		t.Fatalf("after deletes: %+v", list)
	}
	// A deleted endpoint can subscribe again, as a new device.
	again, created, err := s.SavePushSubscription(h.Ctx, a.ID, PushSub(2, 3))
	NoErr(t, err, "re-Save")
	if !created || again.ID == d2.ID {
		t.Fatalf("re-Save = %+v created=%v", again, created)
	}
}

func testPushCap(t *testing.T, h *Harness) {
	s := h.Store
	a, b := h.Account("alice"), h.Account("bob")
	for i := range herald.MaxPushSubscriptions {
		h.savePush(a, PushSub(i, 1))
	}
	_, _, err := s.SavePushSubscription(h.Ctx, a.ID, PushSub(herald.MaxPushSubscriptions, 1))
	WantKind(t, err, herald.ECONFLICT, "too-many-devices", "Save past the cap")
	// Updating a device already counted is no new device.
	_, created, err := s.SavePushSubscription(h.Ctx, a.ID, PushSub(0, 7))
	NoErr(t, err, "re-Save at the cap")
	if created {
		t.Fatal("re-Save at the cap created a device")
	}
	// Moving a browser into a full account is refused and leaves it where it was.
	bd := h.savePush(b, PushSub(1000, 1))
	_, _, err = s.SavePushSubscription(h.Ctx, a.ID, PushSub(1000, 2))
	WantKind(t, err, herald.ECONFLICT, "too-many-devices", "move into a full account")
	lb, err := s.PushSubscriptions(h.Ctx, b.ID)
	NoErr(t, err, "list bob")
	if len(lb) != 1 || lb[0].ID != bd.ID {
		t.Fatalf("bob's device after a refused move: %+v", lb)
	}
	// Deleting one makes room.
	la, err := s.PushSubscriptions(h.Ctx, a.ID)
	NoErr(t, err, "list alice")
	if len(la) != herald.MaxPushSubscriptions {
		t.Fatalf("alice has %d devices", len(la))
	}
	NoErr(t, s.DeletePushSubscription(h.Ctx, a.ID, la[3].ID), "delete one")
	h.savePush(a, PushSub(herald.MaxPushSubscriptions, 1))
}

func testPushValidation(t *testing.T, h *Harness) {
	a := h.Account("alice")
	good := PushSub(1, 1)
	mod := func(f func(*herald.PushSubscription)) herald.PushSubscription {
		s := PushSub(1, 1)
		f(&s)
		return s
	}
	long := "https://push.example.net/" + strings.Repeat("a", herald.MaxPushEndpointLen-len("https://push.example.net/"))
	cases := []struct {
		name string
		sub  herald.PushSubscription
		kind string
	}{
		{"empty endpoint", mod(func(s *herald.PushSubscription) { s.Endpoint = "" }), "push-endpoint-invalid"},
		{"http endpoint", mod(func(s *herald.PushSubscription) { s.Endpoint = "http://push.example.net/x" }), "push-endpoint-invalid"},
		{"no host", mod(func(s *herald.PushSubscription) { s.Endpoint = "https:///x" }), "push-endpoint-invalid"},
		{"relative", mod(func(s *herald.PushSubscription) { s.Endpoint = "/send/x" }), "push-endpoint-invalid"},
		{"credentials", mod(func(s *herald.PushSubscription) { s.Endpoint = "https://u:p@push.example.net/x" }), "push-endpoint-invalid"},
		{"space", mod(func(s *herald.PushSubscription) { s.Endpoint = "https://push.example.net/a b" }), "push-endpoint-invalid"},
		{"control", mod(func(s *herald.PushSubscription) { s.Endpoint = "https://push.example.net/a\nb" }), "push-endpoint-invalid"},
		{"javascript", mod(func(s *herald.PushSubscription) { s.Endpoint = "javascript:alert(1)" }), "push-endpoint-invalid"},
		{"too long", mod(func(s *herald.PushSubscription) { s.Endpoint = long + "a" }), "push-endpoint-invalid"},
		{"no key", mod(func(s *herald.PushSubscription) { s.P256DH = nil }), "push-key-invalid"},
		{"short key", mod(func(s *herald.PushSubscription) { s.P256DH = s.P256DH[:64] }), "push-key-invalid"},
		{"long key", mod(func(s *herald.PushSubscription) { s.P256DH = append(s.P256DH, 1) }), "push-key-invalid"},
		{"compressed key", mod(func(s *herald.PushSubscription) { s.P256DH[0] = 0x02 }), "push-key-invalid"},
		{"no auth", mod(func(s *herald.PushSubscription) { s.Auth = nil }), "push-auth-invalid"},
		{"short auth", mod(func(s *herald.PushSubscription) { s.Auth = s.Auth[:15] }), "push-auth-invalid"},
		{"long auth", mod(func(s *herald.PushSubscription) { s.Auth = append(s.Auth, 1) }), "push-auth-invalid"},
	}
	for _, c := range cases {
		_, _, err := h.Store.SavePushSubscription(h.Ctx, a.ID, c.sub)
		WantKind(t, err, herald.EINVALID, c.kind, c.name)
	}
	list, err := h.Store.PushSubscriptions(h.Ctx, a.ID)
	NoErr(t, err, "list")
	if len(list) != 0 {
		t.Fatalf("invalid subscriptions stored: %+v", list)
	}
	// The bounds themselves are accepted.
	good.Endpoint = long
	h.savePush(a, good)
	h.savePush(a, mod(func(s *herald.PushSubscription) { s.Endpoint = "https://push.example.net:8443/x?y=z" }))
}

func testPushVAPIDKeyOnce(t *testing.T, h *Harness) {
	s := h.Store
	const callers = 8
	// Generators wait for each other (up to a second, for a store that
	// generates under a lock), so that callers who found no key race to
	// store theirs.
	var calls atomic.Int32
	all := make(chan struct{})
	gen := func() ([]byte, error) {
		n := calls.Add(1)
		if n == callers {
			close(all)
		}
		select {
		case <-all:
		case <-time.After(time.Second):
		}
		return []byte(fmt.Sprintf("key-%d", n)), nil
	}
	keys := make([][]byte, callers)
	errs := make([]error, callers)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			keys[i], errs[i] = s.PushVAPIDKey(h.Ctx, gen)
		}()
	}
	start.Done()
	wg.Wait()
	for i := range callers {
		NoErr(t, errs[i], "PushVAPIDKey")
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("caller %d got %q, caller 0 got %q", i, keys[i], keys[0])
		}
	}
	if !bytes.HasPrefix(keys[0], []byte("key-")) || calls.Load() < 1 {
		t.Fatalf("key %q after %d generations", keys[0], calls.Load())
	}
	// Once stored, the key is read, never generated again.
	before := calls.Load()
	again, err := s.PushVAPIDKey(h.Ctx, func() ([]byte, error) {
		t.Fatal("generate called with a key stored")
		return nil, nil
	})
	NoErr(t, err, "PushVAPIDKey(again)")
	if !bytes.Equal(again, keys[0]) || calls.Load() != before {
		t.Fatalf("second read = %q, want %q", again, keys[0])
	}
}

// pushIDs returns the ids of targets, failing on a repeat.
func pushIDs(t *testing.T, got []herald.PushSubscription) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, p := range got {
		if ids[p.ID] {
			t.Fatalf("device %s listed twice", p.ID)
		}
		ids[p.ID] = true
	}
	return ids
}

func testPushTargets(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	other := h.Channel(owner)
	h.savePush(owner, PushSub(100, 1)) // an admin who doesn't follow gets nothing

	loud := h.Follower(ch)
	l1, l2 := h.savePush(loud, PushSub(1, 1)), h.savePush(loud, PushSub(2, 1))
	muted := h.Follower(ch)
	h.savePush(muted, PushSub(3, 1))
	_, err := s.SetMuted(h.Ctx, muted.ID, ch.ID, true)
	NoErr(t, err, "SetMuted")
	gone := h.Follower(ch)
	h.savePush(gone, PushSub(4, 1))
	NoErr(t, s.Unfollow(h.Ctx, gone.ID, ch.ID), "Unfollow")
	elsewhere := h.Follower(other) // follows another channel only
	h.savePush(elsewhere, PushSub(5, 1))
	h.Follower(ch) // follows, no device

	got, next, err := s.PushTargets(h.Ctx, ch.ID, "", 0)
	NoErr(t, err, "PushTargets")
	ids := pushIDs(t, got)
	if next != "" || len(ids) != 2 || !ids[l1.ID] || !ids[l2.ID] {
		t.Fatalf("PushTargets = %+v next=%q, want loud's two devices", got, next)
	}
	for _, p := range got {
		if p.AccountID != loud.ID || len(p.P256DH) != herald.PushP256DHLen || len(p.Auth) != herald.PushAuthLen || p.Endpoint == "" {
			t.Fatalf("target %+v lacks what a sender needs", p)
		}
	}

	// Unmuting brings a follower back; muting the loud one drops them.
	_, err = s.SetMuted(h.Ctx, muted.ID, ch.ID, false)
	NoErr(t, err, "unmute")
	_, err = s.SetMuted(h.Ctx, loud.ID, ch.ID, true)
	NoErr(t, err, "mute loud")
	got, _, err = s.PushTargets(h.Ctx, ch.ID, "", 10)
	NoErr(t, err, "PushTargets after mute changes")
	if len(got) != 1 || got[0].AccountID != muted.ID {
		t.Fatalf("PushTargets = %+v, want the unmuted follower's device", got)
	}

	got, next, err = s.PushTargets(h.Ctx, herald.NewID(), "", 10)
	NoErr(t, err, "PushTargets(unknown channel)")
	if len(got) != 0 || next != "" {
		t.Fatalf("unknown channel has targets %+v", got)
	}
	for _, bad := range []string{"nodot", ".x", "x.", "a.b.c", strings.Repeat("a", 300) + ".b"} {
		_, _, err = s.PushTargets(h.Ctx, ch.ID, bad, 10)
		WantKind(t, err, herald.EINVALID, "invalid-cursor", "PushTargets(cursor "+bad[:min(len(bad), 10)]+")")
	}
}

func testPushTargetsPaging(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	want := map[string]bool{}
	n := 0
	for i := 0; len(want) < 1050; i++ {
		f := h.Follower(ch)
		devices := 1 + i%5 // 1..5 devices per follower, so pages split accounts
		for range devices {
			if len(want) == 1050 {
				break
			}
			p := h.savePush(f, PushSub(n, byte(i)))
			n++
			want[p.ID] = true
		}
		if i%7 == 0 { // muted followers' devices are skipped in every page
			m := h.Follower(ch)
			h.savePush(m, PushSub(n, 1))
			n++
			_, err := s.SetMuted(h.Ctx, m.ID, ch.ID, true)
			NoErr(t, err, "SetMuted")
		}
	}
	seen := map[string]bool{}
	after, pages := "", 0
	for {
		got, next, err := s.PushTargets(h.Ctx, ch.ID, after, 100)
		NoErr(t, err, "PushTargets page")
		pages++
		if len(got) > 100 {
			t.Fatalf("page of %d", len(got))
		}
		for _, p := range got {
			if seen[p.ID] {
				t.Fatalf("device %s in two pages", p.ID)
			}
			if !want[p.ID] {
				t.Fatalf("device %s is not a target", p.ID)
			}
			seen[p.ID] = true
		}
		if next == "" {
			break
		}
		if len(got) != 100 {
			t.Fatalf("short page (%d) with a next cursor", len(got))
		}
		after = next
		if pages > 20 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 1050 || pages != 11 {
		t.Fatalf("walk saw %d devices in %d pages, want 1050 in 11", len(seen), pages)
	}
}

// testPushPrivacy checks that no error of the push methods names a
// follower, and that the cursor's error does not echo it.
func testPushPrivacy(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	f := h.Follower(ch)
	d := h.savePush(f, PushSub(1, 1))
	for i := range herald.MaxPushSubscriptions - 1 {
		h.savePush(f, PushSub(2+i, 1))
	}
	stranger := h.Account("stranger")
	var errs []error
	errs = append(errs, s.DeletePushSubscription(h.Ctx, stranger.ID, d.ID))
	_, _, err := s.PushTargets(h.Ctx, ch.ID, f.ID+".."+d.ID, 10)
	errs = append(errs, err)
	_, _, err = s.PushTargets(h.Ctx, ch.ID, f.Username+"."+f.ID+"."+d.ID, 10)
	errs = append(errs, err)
	_, _, err = s.SavePushSubscription(h.Ctx, f.ID, PushSub(99999, 1)) // past the cap
	errs = append(errs, err)
	_, _, err = s.SavePushSubscription(h.Ctx, f.ID, herald.PushSubscription{Endpoint: "http://" + f.Username})
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
		for _, secret := range []string{f.ID, f.Username, d.ID, d.Endpoint} {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("case %d: error %q names %q", i, err, secret)
			}
		}
	}
}

// testPushConcurrent races saves: for one account near its cap (the cap
// holds exactly), and of one endpoint by several accounts (one row remains,
// owned by one of them, and nobody gets an error).
func testPushConcurrent(t *testing.T, h *Harness) {
	s := h.Store
	a := h.Account("alice")
	for i := range herald.MaxPushSubscriptions - 3 {
		h.savePush(a, PushSub(i, 1))
	}
	const racers = 8
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = s.SavePushSubscription(h.Ctx, a.ID, PushSub(1000+i, 1))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			WantKind(t, err, herald.ECONFLICT, "too-many-devices", "racing save")
		}
	}
	list, err := s.PushSubscriptions(h.Ctx, a.ID)
	NoErr(t, err, "list")
	if ok != 3 || len(list) != herald.MaxPushSubscriptions {
		t.Fatalf("%d racing saves succeeded, %d devices; want 3 and %d", ok, len(list), herald.MaxPushSubscriptions)
	}

	accounts := make([]*herald.Account, racers)
	for i := range accounts {
		accounts[i] = h.Account("racer")
	}
	shared := PushSub(5000, 3)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = s.SavePushSubscription(h.Ctx, accounts[i].ID, shared)
		}()
	}
	wg.Wait()
	owners := 0
	for i, acc := range accounts {
		NoErr(t, errs[i], "racing save of one endpoint")
		l, err := s.PushSubscriptions(h.Ctx, acc.ID)
		NoErr(t, err, "list racer")
		owners += len(l)
	}
	if owners != 1 {
		t.Fatalf("endpoint saved by %d accounts at once ends up on %d of them, want 1", racers, owners)
	}
}
