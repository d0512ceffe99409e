package http_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
)

func TestDirectorySearch(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("dir_owner")
	for _, in := range []client.ChannelInput{
		{Name: "Météo Lyon", Category: "weather", Country: "FR", Language: "fr"},
		{Name: "Trafic Île-de-France", Category: "traffic", Country: "FR", Language: "fr"},
		{Name: "Cuisine du Sud", Category: "cooking", Country: "FR", Language: "fr"},
		{Name: "Météo Secrète", Category: "weather", Listed: client.Ptr(false)},
	} {
		if _, err := owner.CreateChannel(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	for q, want := range map[string]string{"meteo": "Météo Lyon", "METEO": "Météo Lyon", "ile de france": "Trafic Île-de-France", "cuis": "Cuisine du Sud"} {
		p, err := e.anon.Directory(ctx, client.DirectoryQuery{Text: q}) // no account needed
		if err != nil {
			t.Fatalf("q=%q: %v", q, err)
		}
		if len(p.Channels) != 1 || p.Channels[0].Name != want || p.NextCursor != "" {
			t.Errorf("q=%q: %+v, want only %q", q, p, want)
		}
	}
	// The wire shape: channels and next_cursor always present.
	r := e.do("GET", "/api/v1/directory?q=nothing+matches", "", nil)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	if string(raw["channels"]) != "[]" || string(raw["next_cursor"]) != `""` {
		t.Errorf("empty result body = %s", r.body)
	}

	// Walking with limit 1 visits the three listed channels once.
	seen := map[string]bool{}
	q := client.DirectoryQuery{Country: "fr", Limit: 1}
	for i := 0; ; i++ {
		p, err := e.anon.Directory(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Channels {
			if seen[c.Name] || c.Name == "Météo Secrète" || c.InviteCode != "" {
				t.Errorf("walk: unexpected %+v", c)
			}
			seen[c.Name] = true
		}
		if p.NextCursor == "" || i > 10 {
			break
		}
		q.Cursor = p.NextCursor
	}
	if len(seen) != 3 {
		t.Errorf("walk saw %v", seen)
	}
}

func TestDirectoryBadInput(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("dir_owner")
	e.channel(owner, "Météo Lyon")

	// Any q is a search, never an error.
	for _, q := range []string{`"`, `*`, `NEAR(a b)`, `name:x`, `{name}:x`, `'; DROP TABLE channels; --`, "\xff\xfe",
		strings.Repeat("é", 5000), strings.Repeat(`"*(`, 2000)} {
		r := e.do("GET", "/api/v1/directory?q="+url.QueryEscape(q), "", nil)
		if r.status != 200 {
			t.Errorf("q=%.30q: status %d %s", q, r.status, r.body)
		}
	}
	for query, kind := range map[string]string{
		"sort=best":             "invalid-sort",
		"category=gossip":       "invalid-category",
		"country=ZZ":            "invalid-country",
		"language=%3Cscript%3E": "invalid-language",
		"cursor=nope":           "invalid-cursor",
		"limit=0":               "invalid-limit",
		"limit=101":             "invalid-limit",
		"limit=ten":             "invalid-limit",
	} {
		r := e.do("GET", "/api/v1/directory?"+query, "", nil)
		if r.status != 400 {
			t.Errorf("%s: status %d, want 400", query, r.status)
			continue
		}
		if p := r.problem(t); !strings.HasSuffix(p.Type, "/"+kind) {
			t.Errorf("%s: problem type %q, want kind %s", query, p.Type, kind)
		}
	}
	_, err := e.anon.Directory(ctx, client.DirectoryQuery{Sort: "best"})
	wantProblem(t, err, 400, "invalid-sort")
}

func TestCategories(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		accept, lang, weather string
	}{
		{"", "en", "Weather"},
		{"en-US,en;q=0.9", "en", "Weather"},
		{"fr-FR,fr;q=0.9,en;q=0.8", "fr", "Météo"},
		{"fr-CA", "fr", "Météo"},
		{"de-DE", "en", "Weather"},
		{"de-DE, fr;q=0.5", "fr", "Météo"},
		{"*", "en", "Weather"},
		{"garbage;;q=x", "en", "Weather"},
	} {
		cats, err := e.anon.Categories(ctx, c.accept)
		if err != nil {
			t.Fatalf("%q: %v", c.accept, err)
		}
		if len(cats) != len(herald.Categories) {
			t.Fatalf("%q: %d categories, want %d", c.accept, len(cats), len(herald.Categories))
		}
		for i, cat := range cats {
			if cat.ID != herald.Categories[i].ID || cat.Name == "" {
				t.Errorf("%q: category %d = %+v", c.accept, i, cat)
			}
		}
		if cats[1].ID != "weather" || cats[1].Name != c.weather {
			t.Errorf("Accept-Language %q: weather named %q, want %q", c.accept, cats[1].Name, c.weather)
		}
		r := e.do("GET", "/api/v1/categories", "", nil, "Accept-Language", c.accept)
		if got := r.header.Get("Content-Language"); got != c.lang {
			t.Errorf("Accept-Language %q: Content-Language %q, want %q", c.accept, got, c.lang)
		}
		if !strings.Contains(r.header.Get("Vary"), "Accept-Language") {
			t.Errorf("no Vary: Accept-Language")
		}
	}
}
