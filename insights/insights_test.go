package insights

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/hll"
)

// sink is an InsightsStore keeping what MergeViews receives.
type sink struct {
	herald.InsightsStore
	mu    sync.Mutex
	views map[string]hll.Sketch
	langs map[string]hll.Sketch
}

func (s *sink) MergeViews(_ context.Context, views []herald.ViewDelta, langs []herald.LanguageDelta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range views {
		if s.views[v.UpdateID] == nil {
			s.views[v.UpdateID] = hll.New()
		}
		s.views[v.UpdateID].Merge(v.Sketch)
	}
	for _, l := range langs {
		k := l.ChannelID + "/" + l.Day.Format(time.DateOnly) + "/" + l.Lang
		if s.langs[k] == nil {
			s.langs[k] = hll.New()
		}
		s.langs[k].Merge(l.Sketch)
	}
	return nil
}

func newTestCounter(t *testing.T) (*Counter, *sink, *herald.FakeClock) {
	keys, err := NewKeyring(make([]byte, SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{views: map[string]hll.Sketch{}, langs: map[string]hll.Sketch{}}
	clock := herald.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	return NewCounter(s, keys, clock), s, clock
}

func TestCounterCountsEachAccountOnce(t *testing.T) {
	c, s, clock := newTestCounter(t)
	ctx := context.Background()
	u := herald.ViewTarget{UpdateID: "u1", ChannelID: "c1", CreatedAt: clock.Now()}
	const n = 5000
	for round := range 3 { // every account views three times, across flushes and days
		for i := range n {
			c.Record("account-"+string(rune('a'+i%26))+itoa(i), []herald.ViewTarget{u}, "fr")
		}
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		got := s.views["u1"].Estimate()
		if d := float64(got - n); d > 4*0.0163*n || d < -4*0.0163*n {
			t.Fatalf("round %d: %d views, want about %d", round, got, n)
		}
		clock.Advance(24 * time.Hour) // the update's key is its creation day's: views on later days still dedupe
	}
	if len(s.langs) != 3 {
		t.Fatalf("one language sketch per day: %v", len(s.langs))
	}
}

func TestCounterAnonymous(t *testing.T) {
	c, s, _ := newTestCounter(t)
	for range 3 {
		c.RecordAnonymous([]string{"u1", "u2"})
	}
	c.RecordAnonymous([]string{"u1"})
	var got []herald.ViewDelta
	s2 := &recording{sink: s, got: &got}
	c.store = s2
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"u1": 4, "u2": 3}
	if len(got) != 2 {
		t.Fatalf("deltas %+v", got)
	}
	for _, d := range got {
		if d.Anonymous != want[d.UpdateID] || d.Sketch != nil {
			t.Fatalf("delta %+v", d)
		}
	}
}

type recording struct {
	*sink
	got *[]herald.ViewDelta
}

func (r *recording) MergeViews(ctx context.Context, views []herald.ViewDelta, langs []herald.LanguageDelta) error {
	*r.got = append(*r.got, views...)
	return nil
}

func TestKeysDifferByDayAndSecret(t *testing.T) {
	a, _ := NewKeyring(make([]byte, SecretSize))
	other := make([]byte, SecretSize)
	other[0] = 1
	b, _ := NewKeyring(other)
	if a.hash(1, "view", "x", "u") == a.hash(2, "view", "x", "u") {
		t.Fatal("the same account hashes alike on two days")
	}
	if a.hash(1, "view", "x", "u") == b.hash(1, "view", "x", "u") {
		t.Fatal("two secrets hash alike")
	}
	if a.hash(1, "view", "xu", "") == a.hash(1, "view", "x", "u") {
		t.Fatal("fields are not separated")
	}
	if _, err := NewKeyring(make([]byte, 8)); err == nil {
		t.Fatal("a short secret was accepted")
	}
}

func TestCounterBoundsPending(t *testing.T) {
	c, _, clock := newTestCounter(t)
	c.maxPending = 10_000
	targets := make([]herald.ViewTarget, herald.MaxViewBatch)
	for i := range targets {
		targets[i] = herald.ViewTarget{UpdateID: "u" + itoa(i), ChannelID: "c", CreatedAt: clock.Now()}
	}
	kicked := false
	for i := 0; i < 2*c.maxPending/len(targets)+10; i++ {
		c.Record("a"+itoa(i), targets, "")
		select {
		case <-c.Kick():
			kicked = true
		default:
		}
	}
	if !kicked || c.Dropped() == 0 || c.pending > 2*c.maxPending {
		t.Fatalf("kicked %v, dropped %d, pending %d", kicked, c.Dropped(), c.pending)
	}
}

func TestLanguage(t *testing.T) {
	for in, want := range map[string]string{
		"fr-FR": "fr", "FR": "fr", "en-US,en;q=0.9": "en", "pt_BR": "pt", "tlh": "other", "": "", "*": "", " de ": "de", "zh-Hant-TW": "zh",
	} {
		if got := Language(in); got != want {
			t.Errorf("Language(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoadOrCreateSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "insights.key")
	a, err := LoadOrCreateSecret(path)
	if err != nil || len(a) != SecretSize {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", st.Mode(), err)
	}
	b, err := LoadOrCreateSecret(path)
	if err != nil || string(a) != string(b) {
		t.Fatal("the secret changed on the second load")
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateSecret(path); err == nil {
		t.Fatal("a short secret file was accepted")
	}
}

func itoa(i int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
		if i == 0 {
			return string(b)
		}
	}
}

func BenchmarkRecord(b *testing.B) {
	keys, _ := NewKeyring(make([]byte, SecretSize))
	c := NewCounter(&sink{views: map[string]hll.Sketch{}, langs: map[string]hll.Sketch{}}, keys, nil)
	targets := make([]herald.ViewTarget, herald.MaxViewBatch)
	now := time.Now()
	for i := range targets {
		targets[i] = herald.ViewTarget{UpdateID: "update-" + itoa(i), ChannelID: "c", CreatedAt: now}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Record("account-"+itoa(i), targets, "fr")
		if i%1000 == 999 {
			_ = c.Flush(context.Background())
		}
	}
	b.ReportMetric(float64(b.N*len(targets))/b.Elapsed().Seconds(), "views/s")
}
