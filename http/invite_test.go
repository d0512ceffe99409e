package http_test

import (
	"bytes"
	"encoding/json"
	"image/png"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldhq/herald/client"
	hhttp "github.com/heraldhq/herald/http"
	qrcode "github.com/skip2/go-qrcode"
)

func TestInvites(t *testing.T) {
	const public = "https://herald.example.org/"
	e := newEnv(t, func(c *hhttp.Config) { c.PublicURL = public })
	owner := e.signup("inv_owner")
	fan := e.signup("inv_fan")
	stranger := e.signup("inv_stranger")
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Club privé", Description: "Members only", Category: "organizations", Listed: client.Ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	code := ch.InviteCode
	if len(code) < 8 || strings.Contains(code, ch.ID) {
		t.Fatalf("invite code %q", code)
	}

	// Anyone previews, without an account; no admin shows, no code echoes.
	r := e.do("GET", "/api/v1/invites/"+code, "", nil)
	if r.status != 200 {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
	for _, leak := range []string{owner.account.ID, owner.account.Username, code, `"role":"`} {
		if bytes.Contains(r.body, []byte(leak)) {
			t.Errorf("preview leaks %q: %s", leak, r.body)
		}
	}
	prev, err := e.anon.Invite(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if prev.Name != "Club privé" || prev.Description != "Members only" || prev.Category != "organizations" || prev.FollowerCount != 0 {
		t.Errorf("preview = %+v", prev)
	}
	// The unlisted channel is closed to a plain follow, open through the invite.
	_, err = fan.Follow(ctx, ch.ID)
	wantProblem(t, err, 404, "")
	_, err = e.anon.FollowInvite(ctx, code)
	wantProblem(t, err, 401, "")
	got, err := fan.FollowInvite(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Viewer.Following || got.FollowerCount != 1 || got.InviteCode != "" {
		t.Errorf("followed = %+v", got)
	}
	if _, err := fan.FollowInvite(ctx, code); err != nil { // idempotent
		t.Fatal(err)
	}
	if c, err := fan.GetChannel(ctx, ch.ID); err != nil || !c.Viewer.Following {
		t.Fatalf("follower's view: %+v, %v", c, err)
	}

	// Only admins rotate; the old code dies at once, everywhere.
	_, err = fan.RotateInvite(ctx, ch.ID)
	wantProblem(t, err, 403, "")
	_, err = stranger.RotateInvite(ctx, ch.ID)
	wantProblem(t, err, 404, "")
	_, err = e.anon.RotateInvite(ctx, ch.ID)
	wantProblem(t, err, 401, "")
	link, err := owner.RotateInvite(ctx, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if link.Code == code || len(link.Code) < 8 || link.URL != "https://herald.example.org/c/"+link.Code {
		t.Errorf("rotated = %+v", link)
	}
	for _, path := range []string{"", "/qr.svg", "/qr.png"} {
		if r := e.do("GET", "/api/v1/invites/"+code+path, "", nil); r.status != 404 {
			t.Errorf("old code %s: status %d", path, r.status)
		}
	}
	_, err = stranger.FollowInvite(ctx, code)
	wantProblem(t, err, 404, "invite-not-found")
	if _, err := stranger.FollowInvite(ctx, link.Code); err != nil {
		t.Errorf("new code: %v", err)
	}
	if c, err := owner.GetChannel(ctx, ch.ID); err != nil || c.InviteCode != link.Code || c.FollowerCount != 2 {
		t.Errorf("owner's view after rotation: %+v, %v", c, err)
	}
	for _, bad := range []string{"nope", strings.Repeat("a", 100), "%00", "..%2F..%2Fetc"} {
		if r := e.do("GET", "/api/v1/invites/"+bad, "", nil); r.status != 404 {
			t.Errorf("GET invite %q: %d", bad, r.status)
		}
	}
}

func TestInviteQR(t *testing.T) {
	e := newEnv(t, func(c *hhttp.Config) { c.PublicURL = "https://herald.example.org" })
	owner := e.signup("qr_owner")
	ch := e.channel(owner, "Météo Lyon")
	want, err := qrcode.New("https://herald.example.org/c/"+ch.InviteCode, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	bits := want.Bitmap()

	svg, ctype, err := e.anon.InviteQR(ctx, ch.InviteCode, "svg")
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "image/svg+xml" || !bytes.HasPrefix(svg, []byte("<svg ")) || bytes.Contains(svg, []byte("<script")) {
		t.Fatalf("svg %s: %.200s", ctype, svg)
	}
	// Redraw the SVG's dark runs and compare with the link's QR modules.
	n := len(bits)
	got := make([][]bool, n)
	for i := range got {
		got[i] = make([]bool, n)
	}
	runs := regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`).FindAllSubmatch(svg, -1)
	if len(runs) == 0 {
		t.Fatal("no modules drawn")
	}
	for _, m := range runs {
		x, _ := strconv.Atoi(string(m[1]))
		y, _ := strconv.Atoi(string(m[2]))
		w, _ := strconv.Atoi(string(m[3]))
		for i := x; i < x+w; i++ {
			got[y][i] = true
		}
	}
	for y := range bits {
		for x := range bits[y] {
			if got[y][x] != bits[y][x] {
				t.Fatalf("module (%d,%d) = %v, want %v", x, y, got[y][x], bits[y][x])
			}
		}
	}
	if !bytes.Contains(svg, []byte(`viewBox="0 0 `+strconv.Itoa(n)+" "+strconv.Itoa(n)+`"`)) {
		t.Errorf("viewBox does not match %d modules", n)
	}

	for size, wantSize := range map[string]int{"": 256, "?size=512": 512} {
		r := e.do("GET", "/api/v1/invites/"+ch.InviteCode+"/qr.png"+size, "", nil)
		if r.status != 200 || r.header.Get("Content-Type") != "image/png" {
			t.Fatalf("png%s: %d %s", size, r.status, r.header.Get("Content-Type"))
		}
		img, err := png.Decode(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != wantSize || b.Dy() != wantSize {
			t.Errorf("png%s is %v, want %d square", size, b, wantSize)
		}
		// The quiet zone's corner is light; the finder pattern's corner is dark.
		scale := float64(wantSize) / float64(n)
		lum := func(x, y int) uint32 {
			r, _, _, _ := img.At(int(float64(x)*scale+scale/2), int(float64(y)*scale+scale/2)).RGBA()
			return r
		}
		if lum(0, 0) < 0x8000 || lum(4, 4) > 0x8000 {
			t.Errorf("png%s: modules not where the QR puts them", size)
		}
	}
	for _, size := range []string{"10", "99999", "big"} {
		r := e.do("GET", "/api/v1/invites/"+ch.InviteCode+"/qr.png?size="+size, "", nil)
		if r.status != 400 {
			t.Errorf("size=%s: status %d", size, r.status)
		}
	}
	if r := e.do("GET", "/api/v1/invites/unknown1234/qr.svg", "", nil); r.status != 404 {
		t.Errorf("unknown code: %d", r.status)
	}
}

// Without --public-url, an invite link names the address the server was
// reached at, never an arbitrary Host header.
func TestInviteURLHost(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("owner")
	ch := e.channel(owner, "A")
	rotate := func(host string) string {
		t.Helper()
		r := e.do("POST", "/api/v1/channels/"+ch.ID+"/invite", owner.Token(), nil, "Host", host)
		var out struct {
			URL string `json:"invite_url"`
		}
		if err := json.Unmarshal(r.body, &out); err != nil || r.status != 200 {
			t.Fatalf("rotate: %d %s", r.status, r.body)
		}
		return out.URL
	}
	self := strings.TrimPrefix(e.ts.URL, "http://")
	if u := rotate(self); !strings.HasPrefix(u, e.ts.URL+"/c/") {
		t.Fatalf("own host: %s", u)
	}
	if u := rotate("evil.example"); strings.Contains(u, "evil") || !strings.HasPrefix(u, e.ts.URL+"/c/") {
		t.Fatalf("arbitrary host: %s, want %s/c/...", u, e.ts.URL)
	}
}
