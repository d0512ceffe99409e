package http_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/insights"
	"github.com/heraldhq/herald/internal/hll"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/sqlite"
)

// newViewsEnv is a server whose view reports go to a real Counter over its
// store; flush merges what was gathered.
func newViewsEnv(t *testing.T) (*env, *insights.Counter) {
	t.Helper()
	var counter *insights.Counter
	keys, err := insights.NewKeyring([]byte(strings.Repeat("k", insights.SecretSize)))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *hhttp.Config) {
		counter = insights.NewCounter(c.Store, keys, c.Clock)
		c.Views = counter
	})
	return e, counter
}

func TestViewsCountedOncePerAccount(t *testing.T) {
	e, counter := newViewsEnv(t)
	ctx := context.Background()
	owner := e.signup("meteo")
	ch := e.channel(owner, "Météo")
	u := e.post(owner, ch.ID, "Ciel clair")
	other := e.post(owner, ch.ID, "Pluie")
	const n = 80
	for i := range n {
		f := e.signup(fmt.Sprintf("reader%d", i))
		if _, err := f.Follow(ctx, ch.ID); err != nil {
			t.Fatal(err)
		}
		// Each reader reports the update twice (two screens, a reload);
		// half report the other one too, in French.
		for range 2 {
			ids := []string{u.ID}
			if i%2 == 0 {
				ids = append(ids, other.ID, u.ID)
			}
			if err := f.ReportViews(ctx, ids, "fr-FR"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := counter.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := owner.GetUpdate(ctx, ch.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Each account once: at this size the sketch's linear counting is
	// within a count or two (the hashes are keyed by random account ids).
	near := func(p *int64) bool { return p != nil && math.Abs(float64(*p-n)) <= 5 }
	if !near(got.Views) {
		t.Fatalf("views = %v, want %d", deref(got.Views), n)
	}
	in, err := owner.ChannelInsights(ctx, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]herald.UpdateInsight{}
	for _, x := range in.Updates {
		byID[x.UpdateID] = x
	}
	if v := byID[other.ID].Views; v != nil {
		t.Fatalf("40 views are under k=50 and must be hidden, got %d", *v)
	}
	if x := byID[u.ID]; !near(x.Views) || *x.Views != *got.Views || x.Reach == nil || math.Abs(*x.Reach-float64(*x.Views)/n) > 1e-9 {
		t.Fatalf("insights of the update: %+v", x)
	}
	if len(in.Languages) != 1 || !near(in.Languages[0].Viewers["fr"]) {
		t.Fatalf("languages: %+v (fr %v)", in.Languages, deref(in.Languages[0].Viewers["fr"]))
	}
	today := in.Days[len(in.Days)-1]
	if today.Follows != n || today.Followers != n || in.Followers != n {
		t.Fatalf("today: %+v (followers %d)", today, in.Followers)
	}
}

func TestInsightsAccess(t *testing.T) {
	e, _ := newViewsEnv(t)
	ctx := context.Background()
	owner := e.signup("owner")
	ch := e.channel(owner, "News")
	follower := e.signup("follower")
	if _, err := follower.Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	_, err := follower.ChannelInsights(ctx, ch.ID)
	wantProblem(t, err, http.StatusForbidden, "not-admin")
	_, err = e.anon.ChannelInsights(ctx, ch.ID)
	wantProblem(t, err, http.StatusUnauthorized, "unauthenticated")
	r := e.do("GET", "/api/v1/channels/"+ch.ID+"/insights", owner.Token(), nil)
	if r.status != 200 || !strings.Contains(r.header.Get("Cache-Control"), "no-store") {
		t.Fatalf("admin: %d %s", r.status, r.header)
	}
}

func TestViewReportsBadInput(t *testing.T) {
	e, _ := newViewsEnv(t)
	u := e.signup("reader")
	tok := u.Token()
	if r := e.do("POST", "/api/v1/views", "", []byte(`{"updates":["x"]}`)); r.status != 401 {
		t.Fatalf("anonymous: %d", r.status)
	}
	many := make([]string, herald.MaxViewBatch+1)
	for i := range many {
		many[i] = fmt.Sprintf("%q", fmt.Sprint("u", i))
	}
	for _, body := range []string{
		`{}`, `{"updates":[]}`, `{"updates":[""]}`, `{"updates":"x"}`, `{"updates":["x"],"who":"me"}`,
		`{"updates":[` + strings.Join(many, ",") + `]}`, `{"updates":["` + strings.Repeat("a", 200) + `"]}`, `[`,
	} {
		r := e.do("POST", "/api/v1/views", tok, []byte(body))
		if r.status != 400 {
			t.Fatalf("%s: %d %s", body, r.status, r.body)
		}
		r.problem(t)
	}
	// Unknown ids are counted as nothing, and the answer says nothing of them.
	if r := e.do("POST", "/api/v1/views", tok, []byte(`{"updates":["no-such-update"]}`)); r.status != 204 {
		t.Fatalf("unknown id: %d", r.status)
	}
}

// TestViewsLeaveNoAccountUpdatePair reports views, flushes, and then checks
// every table of the database: no row written by view counting holds an
// account id, and no table's rows naming the viewer changed.
func TestViewsLeaveNoAccountUpdatePair(t *testing.T) {
	e, counter := newViewsEnv(t)
	ctx := context.Background()
	owner := e.signup("owner")
	ch := e.channel(owner, "News")
	u := e.post(owner, ch.ID, "hello")
	viewer := e.signup("viewer")
	if _, err := viewer.Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+e.path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := rowsNaming(t, db, viewer.account.ID)
	if err := viewer.ReportViews(ctx, []string{u.ID}, "en"); err != nil {
		t.Fatal(err)
	}
	if err := counter.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	after := rowsNaming(t, db, viewer.account.ID)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("rows naming the viewer changed: before %v, after %v", before, after)
	}
	// The view is there, as registers only.
	var sketch []byte
	if err := db.QueryRow(`SELECT v.sketch FROM update_views v JOIN updates u ON u.pk = v.update_pk WHERE u.id = ?`, u.ID).Scan(&sketch); err != nil {
		t.Fatal(err)
	}
	if hll.Sketch(sketch).Estimate() != 1 {
		t.Fatal("the view was not counted")
	}
	for _, table := range []string{"update_views", "view_languages", "follow_days"} {
		rows, err := db.Query(`SELECT name FROM pragma_table_info(?)`, table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var col string
			rows.Scan(&col)
			if strings.Contains(col, "account") {
				t.Fatalf("%s has a column %s", table, col)
			}
		}
		rows.Close()
	}
}

// rowsNaming counts, per table, the rows whose text holds id.
func rowsNaming(t *testing.T, db *sql.DB, id string) map[string]int {
	t.Helper()
	tables, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		tables.Scan(&n)
		names = append(names, n)
	}
	tables.Close()
	out := map[string]int{}
	for _, n := range names {
		rows, err := db.Query(`SELECT * FROM "` + n + `"`)
		if err != nil {
			continue // FTS shadow tables and the like
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				var s string
				switch v := v.(type) {
				case string:
					s = v
				case []byte:
					s = string(v)
				}
				if strings.Contains(s, id) {
					out[n]++
					break
				}
			}
		}
		rows.Close()
	}
	return out
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// BenchmarkReportViews posts view reports of 100 updates each, from 50
// followers at once, to a server on SQLite with a real Counter that merges
// every 100 ms: views/s is what the whole path absorbs (authentication, the
// visibility check in the store, hashing, merging).
func BenchmarkReportViews(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "herald.db"), herald.StoreConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	keys, _ := insights.NewKeyring(make([]byte, insights.SecretSize))
	counter := insights.NewCounter(db, keys, nil)
	ts := httptest.NewServer(hhttp.NewServer(hhttp.Config{Store: db, Hasher: password.NewHasher(password.TestParams), Views: counter}))
	defer ts.Close()
	anon := client.New(ts.URL, "")
	signup := func(name string) *client.Client {
		s, err := anon.CreateAccount(ctx, name, "a long enough password", "")
		if err != nil {
			b.Fatal(err)
		}
		return anon.WithToken(s.Token)
	}
	owner := signup("owner")
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Bench", Category: "news"})
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for range herald.MaxViewBatch {
		u, err := owner.PostUpdate(ctx, ch.ID, "Storm warning.", nil)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	readers := make([]*client.Client, 50)
	for i := range readers {
		readers[i] = signup(fmt.Sprintf("reader%d", i))
		if _, err := readers[i].Follow(ctx, ch.ID); err != nil {
			b.Fatal(err)
		}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				_ = counter.Flush(ctx)
			}
		}
	}()
	var next atomic.Int64
	b.SetParallelism(25) // 50 concurrent clients on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := readers[int(next.Add(1))%len(readers)]
		for pb.Next() {
			if err := r.ReportViews(ctx, ids, "fr"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	close(stop)
	<-done
	b.ReportMetric(float64(b.N*len(ids))/b.Elapsed().Seconds(), "views/s")
}
