package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/media"
	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	jsonfeed "github.com/mmcdole/gofeed/json"
)

// feeds fetches and parses both feeds of a channel, checking the elements
// each spec requires (RFC 4287 4.1.1-4.1.2: feed id, title, updated,
// author; entry id, title, updated. JSON Feed 1.1: version, title, items,
// item id and content).
//
// canon is the channel's canonical path, which self links name.
func (e *env) feeds(t *testing.T, base, canon string) (*atom.Feed, *jsonfeed.Feed) {
	t.Helper()
	r := e.do("GET", base+"/feed.atom", "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Fatalf("GET %s/feed.atom: %d %s", base, r.status, r.header.Get("Content-Type"))
	}
	// The generic parser must recognise it as Atom, as a reader would.
	if g, err := gofeed.NewParser().Parse(bytes.NewReader(r.body)); err != nil || g.FeedType != "atom" {
		t.Fatalf("gofeed: %v, type %v", err, g)
	}
	af, err := (&atom.Parser{}).Parse(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("parse Atom: %v\n%s", err, r.body)
	}
	if af.ID == "" || af.Title == "" || af.UpdatedParsed == nil || len(af.Authors) == 0 || af.Authors[0].Name == "" {
		t.Fatalf("Atom feed lacks a required element: %s", af)
	}
	self := false
	for _, l := range af.Links {
		self = self || (l.Rel == "self" && l.Href == "https://herald.example"+canon+"/feed.atom")
	}
	if !self {
		t.Fatalf("Atom feed without its self link: %s", af)
	}
	for _, en := range af.Entries {
		if en.ID == "" || en.Title == "" || en.UpdatedParsed == nil || en.PublishedParsed == nil || en.Content == nil {
			t.Fatalf("Atom entry lacks a required element: %+v", en)
		}
	}
	r = e.do("GET", base+"/feed.json", "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/feed+json; charset=utf-8" {
		t.Fatalf("GET %s/feed.json: %d %s", base, r.status, r.header.Get("Content-Type"))
	}
	if g, err := gofeed.NewParser().Parse(bytes.NewReader(r.body)); err != nil || g.FeedType != "json" {
		t.Fatalf("gofeed: %v, type %v", err, g)
	}
	jf, err := (&jsonfeed.Parser{}).Parse(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("parse JSON Feed: %v\n%s", err, r.body)
	}
	if jf.Version != "https://jsonfeed.org/version/1.1" || jf.Title == "" || jf.Items == nil || jf.FeedURL != "https://herald.example"+canon+"/feed.json" {
		t.Fatalf("JSON Feed lacks a required element: %s", jf)
	}
	for _, it := range jf.Items {
		if it.ID == "" || (it.ContentText == "" && it.ContentHTML == "") || it.DatePublished == "" {
			t.Fatalf("JSON Feed item lacks a required element: %+v", it)
		}
	}
	if len(af.Entries) != len(jf.Items) {
		t.Fatalf("Atom has %d entries, JSON Feed %d items", len(af.Entries), len(jf.Items))
	}
	return af, jf
}

func TestFeedsFollowEditsDeletionsAndExpiry(t *testing.T) {
	e := newEnv(t, withApp)
	ctx := context.Background()
	owner := e.signup("owner")
	ch := e.publicChannel(owner, "feeds", true)
	t0 := e.clock.Now()
	a := e.post(owner, ch.ID, "First update\nwith two lines")
	e.clock.Advance(time.Hour)
	b := e.post(owner, ch.ID, "Second update")

	for _, base := range []string{"/@feeds", "/channels/" + ch.ID} {
		af, jf := e.feeds(t, base, "/@feeds")
		if len(af.Entries) != 2 || af.Entries[0].Title != "Second update" || af.Entries[1].Title != "First update" {
			t.Fatalf("%s: entries %v", base, af.Entries)
		}
		if af.Entries[1].Content.Value != "First update\nwith two lines" || jf.Items[1].ContentText != "First update\nwith two lines" {
			t.Fatalf("%s: content %q / %q", base, af.Entries[1].Content.Value, jf.Items[1].ContentText)
		}
		if want := "https://herald.example/channels/" + ch.ID + "/updates/" + strconv.FormatInt(a.Seq, 10); af.Entries[1].ID != want || jf.Items[1].URL != want {
			t.Fatalf("%s: permalink %q / %q, want %q", base, af.Entries[1].ID, jf.Items[1].URL, want)
		}
		if af.Language != "fr-FR" || jf.Language != "fr-FR" {
			t.Fatalf("%s: language %q / %q", base, af.Language, jf.Language)
		}
	}

	// An edit moves the entry's updated, not its published.
	e.clock.Advance(time.Hour)
	tEdit := e.clock.Now()
	if _, err := owner.EditUpdate(ctx, ch.ID, a.ID, "First update, corrected"); err != nil {
		t.Fatal(err)
	}
	af, jf := e.feeds(t, "/@feeds", "/@feeds")
	first := af.Entries[1]
	if first.Content.Value != "First update, corrected" || !first.UpdatedParsed.Equal(tEdit) || !first.PublishedParsed.Equal(t0) {
		t.Fatalf("edited entry: %q updated %v published %v", first.Content.Value, first.UpdatedParsed, first.PublishedParsed)
	}
	if !af.UpdatedParsed.Equal(tEdit) || jf.Items[1].DateModified != tEdit.Format(time.RFC3339) {
		t.Fatalf("feed updated %v, item modified %q, want %v", af.UpdatedParsed, jf.Items[1].DateModified, tEdit)
	}

	// A deletion removes the entry.
	if err := owner.DeleteUpdate(ctx, ch.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	af, _ = e.feeds(t, "/@feeds", "/@feeds")
	if len(af.Entries) != 1 || af.Entries[0].Content.Value != "First update, corrected" {
		t.Fatalf("after delete: %v", af.Entries)
	}

	// Expiry removes it without any write: a cached feed never outlives it.
	e.clock.Set(a.ExpiresAt.Add(-time.Second))
	c := e.post(owner, ch.ID, "Third update")
	if af, _ = e.feeds(t, "/@feeds", "/@feeds"); len(af.Entries) != 2 {
		t.Fatalf("before expiry: %d entries", len(af.Entries))
	}
	e.clock.Set(a.ExpiresAt)
	af, jf = e.feeds(t, "/@feeds", "/@feeds")
	if len(af.Entries) != 1 || af.Entries[0].Title != "Third update" || len(jf.Items) != 1 {
		t.Fatalf("after expiry: %v", af.Entries)
	}
	e.clock.Set(c.ExpiresAt)
	if af, jf = e.feeds(t, "/@feeds", "/@feeds"); len(af.Entries) != 0 || len(jf.Items) != 0 {
		t.Fatalf("all expired: %d / %d", len(af.Entries), len(jf.Items))
	}
}

func TestFeedConditionalRequests(t *testing.T) {
	e := newEnv(t, withApp)
	owner := e.signup("owner")
	ch := e.publicChannel(owner, "", true)
	e.post(owner, ch.ID, "One")
	for _, path := range []string{"/channels/" + ch.ID + "/feed.atom", "/channels/" + ch.ID + "/feed.json"} {
		r := e.do("GET", path, "", nil)
		etag, lm := r.header.Get("ETag"), r.header.Get("Last-Modified")
		if etag == "" || lm != e.clock.Now().UTC().Format(http.TimeFormat) {
			t.Fatalf("%s: ETag %q Last-Modified %q", path, etag, lm)
		}
		if r := e.do("GET", path, "", nil, "If-None-Match", etag); r.status != http.StatusNotModified || len(r.body) != 0 {
			t.Fatalf("%s If-None-Match: %d", path, r.status)
		}
		if r := e.do("GET", path, "", nil, "If-Modified-Since", lm); r.status != http.StatusNotModified {
			t.Fatalf("%s If-Modified-Since: %d", path, r.status)
		}
		if r := e.do("HEAD", path, "", nil); r.status != 200 || len(r.body) != 0 {
			t.Fatalf("%s HEAD: %d", path, r.status)
		}
	}
	e.clock.Advance(time.Minute)
	e.post(owner, ch.ID, "Two")
	path := "/channels/" + ch.ID + "/feed.atom"
	r := e.do("GET", path, "", nil)
	if r2 := e.do("GET", path, "", nil, "If-None-Match", `"stale"`); r2.status != 200 || !bytes.Contains(r2.body, []byte("Two")) {
		t.Fatalf("stale ETag: %d", r2.status)
	}
	if r.header.Get("Last-Modified") != e.clock.Now().UTC().Format(http.TimeFormat) {
		t.Fatalf("Last-Modified %q after a post", r.header.Get("Last-Modified"))
	}
}

// TestAtomEntriesSigned: each Atom entry carries Herald's namespaced
// extension (signature and key id, and the signed fields as JSON) that a
// maintained feed parser reads and that verifies against the channel's
// published keys, even for text XML can't carry as is (CR, controls).
func TestAtomEntriesSigned(t *testing.T) {
	e := newEnv(t, withApp)
	ctx := context.Background()
	owner := e.signup("owner")
	ch := e.publicChannel(owner, "signedatom", true)
	text := "Line one\r\nline two \x01 <b>&amp;</b> \"quoted\""
	u := e.post(owner, ch.ID, text)
	if _, err := owner.EditUpdate(ctx, ch.ID, u.ID, text+" (edited)"); err != nil {
		t.Fatal(err)
	}
	keys, err := e.anon.SigningKeys(ctx, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	af, _ := e.feeds(t, "/@signedatom", "/@signedatom")
	if len(af.Entries) != 1 {
		t.Fatalf("entries: %d", len(af.Entries))
	}
	ext := af.Entries[0].Extensions["herald"]["signed"]
	if len(ext) != 1 || ext[0].Attrs["signature"] == "" || ext[0].Attrs["key_id"] != keys[0].ID {
		t.Fatalf("Atom entry extension = %+v", af.Entries[0].Extensions)
	}
	var signed herald.Update
	if err := json.Unmarshal([]byte(ext[0].Value), &signed); err != nil {
		t.Fatalf("signed fields %q: %v", ext[0].Value, err)
	}
	signed.Signature, signed.KeyID = ext[0].Attrs["signature"], ext[0].Attrs["key_id"]
	if signed.Text != text+" (edited)" || signed.EditedAt == nil {
		t.Fatalf("signed fields = %+v", signed)
	}
	if v := herald.VerifyUpdate(&signed, keys); v != herald.SignatureValid {
		t.Fatalf("Atom entry's signature: %s", v)
	}
	signed.Text = strings.Replace(signed.Text, "two", "2", 1)
	if v := herald.VerifyUpdate(&signed, keys); v != herald.SignatureInvalid {
		t.Fatalf("tampered Atom entry: %s", v)
	}
}

// TestFeedsSignMedia: an update's attachments (id, alt text, type, size)
// are among the signed fields both feeds carry, so a saved entry with
// media verifies, and one whose attachment was swapped does not.
func TestFeedsSignMedia(t *testing.T) {
	blobs, err := media.NewDir(filepath.Join(t.TempDir(), "media"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, withApp, func(c *hhttp.Config) { c.Media = hhttp.MediaConfig{Blobs: blobs, TempDir: t.TempDir()} })
	owner := e.signup("owner")
	ch := e.publicChannel(owner, "signedmedia", true)
	a := upload(t, owner, ch.ID, testJPEG(t, 64, 48), "quay.jpg")
	b := upload(t, owner, ch.ID, testJPEG(t, 32, 32), "map.jpg")
	if _, _, err := owner.Publish(ctx, ch.ID, client.Post{Text: "Quays closed", Media: []herald.MediaRef{{ID: a.ID, Alt: "The north quay"}, {ID: b.ID}}}); err != nil {
		t.Fatal(err)
	}
	keys, err := e.anon.SigningKeys(ctx, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	af, jf := e.feeds(t, "/@signedmedia", "/@signedmedia")
	ext := af.Entries[0].Extensions["herald"]["signed"]
	var fromAtom herald.Update
	if len(ext) != 1 || json.Unmarshal([]byte(ext[0].Value), &fromAtom) != nil {
		t.Fatalf("Atom entry extension = %+v", af.Entries[0].Extensions)
	}
	fromAtom.Signature, fromAtom.KeyID = ext[0].Attrs["signature"], ext[0].Attrs["key_id"]
	if len(fromAtom.Media) != 2 || fromAtom.Media[0].Alt != "The north quay" {
		t.Fatalf("signed fields in Atom = %s", ext[0].Value)
	}
	if v := herald.VerifyUpdate(&fromAtom, keys); v != herald.SignatureValid {
		t.Fatalf("Atom entry with media: %s", v)
	}
	var fromJSON struct {
		Items []struct {
			Herald herald.Update `json:"_herald"`
		} `json:"items"`
	}
	raw := e.do("GET", "/@signedmedia/feed.json", "", nil)
	if err := json.Unmarshal(raw.body, &fromJSON); err != nil || len(fromJSON.Items) != 1 || len(jf.Items) != 1 {
		t.Fatalf("JSON Feed: %v %s", err, raw.body)
	}
	if v := herald.VerifyUpdate(&fromJSON.Items[0].Herald, keys); v != herald.SignatureValid {
		t.Fatalf("JSON Feed item with media: %s", v)
	}
	fromAtom.Media[1].ID = a.ID
	if v := herald.VerifyUpdate(&fromAtom, keys); v != herald.SignatureInvalid {
		t.Fatalf("swapped attachment: %s", v)
	}
}
