package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	hhttp "github.com/heraldhq/herald/http"
)

// maxVerifyInput bounds what herald verify reads (an update is a few KiB).
const maxVerifyInput = 1 << 20

// permalinkPath is a public update page, /channels/{id}/updates/{seq}.
var permalinkPath = regexp.MustCompile(`^/channels/([^/]+)/updates/([0-9]+)$`)

// verifyCommand checks an update's signature: herald verify FILE|URL|-.
// The update is JSON as the API gives it (a file, stdin, an API URL, or a
// public permalink, read through the API). Keys come from --key (offline:
// the channel's public key you trust), --keys (a saved answer of GET
// .../keys/signing), or the server.
func verifyCommand(ctx context.Context, a *app, args []string) error {
	f := a.newCLIFlags("verify")
	key := f.String("key", "the channel's Ed25519 public key (base64url), checked offline")
	keysFile := f.String("keys", "a file holding the channel's keys (the JSON of GET /api/v1/channels/{id}/keys/signing)")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() != 1 {
		return errors.New("usage: herald verify [--key KEY | --keys FILE | --server URL] FILE|URL|-")
	}
	src := f.Arg(0)
	raw, origin, err := readUpdateSource(ctx, a, src)
	if err != nil {
		return err
	}
	updates, err := parseUpdates(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	failed, last := 0, ""
	fetched := map[string][]herald.SigningKey{} // each channel's keys, fetched once
	for _, u := range updates {
		verdict, err := verifyOne(ctx, f, u, *key, *keysFile, origin, fetched)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s: update %d of channel %s, key %s\n", verdict, u.Seq, u.ChannelID, orNone(u.KeyID))
		if verdict != herald.SignatureValid {
			failed, last = failed+1, verdict
		}
	}
	switch {
	case failed == 0:
		return nil
	case len(updates) == 1:
		return errors.New("signature " + last)
	default:
		return fmt.Errorf("%d of %d signatures not valid", failed, len(updates))
	}
}

// parseUpdates reads one update (as the API gives it), a JSON Feed item
// with Herald's "_herald" extension, a whole JSON Feed (every item), or
// Atom: a feed or one saved entry, through Herald's herald:signed element.
func parseUpdates(raw []byte) ([]*herald.Update, error) {
	if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 && trimmed[0] == '<' {
		return parseAtom(trimmed)
	}
	var probe struct {
		Herald *herald.Update    `json:"_herald"`
		Items  []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("not an update's JSON: %w", err)
	}
	var out []*herald.Update
	switch {
	case probe.Items != nil:
		for _, it := range probe.Items {
			var item struct {
				Herald *herald.Update `json:"_herald"`
			}
			if json.Unmarshal(it, &item) == nil && item.Herald != nil {
				out = append(out, item.Herald)
			}
		}
		if len(out) == 0 {
			return nil, errors.New("a feed without Herald's signed items (_herald)")
		}
	case probe.Herald != nil:
		out = append(out, probe.Herald)
	default:
		var u herald.Update
		if err := json.Unmarshal(raw, &u); err != nil {
			return nil, err
		}
		out = append(out, &u)
	}
	for _, u := range out {
		if u.ChannelID == "" || u.Seq < 1 || u.CreatedAt.IsZero() {
			return nil, errors.New("not an update's JSON (channel_id, seq and created_at are required)")
		}
	}
	return out, nil
}

// parseAtom reads every herald:signed element of an Atom document (a feed
// or a lone entry): its attributes give the signature and key id, its text
// the signed fields as JSON (docs/signatures.md). An entry saved without
// the element's namespace declaration still counts by its prefix.
func parseAtom(raw []byte) ([]*herald.Update, error) {
	d := xml.NewDecoder(bytes.NewReader(raw))
	var out []*herald.Update
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("not an Atom document: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "signed" || (se.Name.Space != hhttp.SignedNamespace && se.Name.Space != "herald") {
			continue
		}
		var el struct {
			KeyID     string `xml:"key_id,attr"`
			Signature string `xml:"signature,attr"`
			Fields    string `xml:",chardata"`
		}
		if err := d.DecodeElement(&el, &se); err != nil {
			return nil, fmt.Errorf("the herald:signed element of an Atom entry: %w", err)
		}
		var u herald.Update
		if err := json.Unmarshal([]byte(el.Fields), &u); err != nil {
			return nil, fmt.Errorf("the herald:signed element of an Atom entry: %w", err)
		}
		u.Signature, u.KeyID = el.Signature, el.KeyID
		if u.ChannelID == "" || u.Seq < 1 || u.CreatedAt.IsZero() {
			return nil, errors.New("the herald:signed element of an Atom entry lacks channel_id, seq or created_at")
		}
		out = append(out, &u)
	}
	if len(out) == 0 {
		return nil, errors.New("an XML document without Herald's signed entries (herald:signed)")
	}
	return out, nil
}

// verifyOne checks one update against the key given, the keys file, or
// its channel's keys fetched from the server.
func verifyOne(ctx context.Context, f *cliFlags, u *herald.Update, key, keysFile, origin string, fetched map[string][]herald.SigningKey) (string, error) {
	var keys []herald.SigningKey
	switch {
	case key != "":
		keys = []herald.SigningKey{{ID: u.KeyID, Algorithm: herald.SignatureAlgorithm, PublicKey: strings.TrimSpace(key)}}
	case keysFile != "":
		b, err := os.ReadFile(keysFile)
		if err != nil {
			return "", err
		}
		var doc struct {
			ChannelID string              `json:"channel_id"`
			Keys      []herald.SigningKey `json:"keys"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return "", fmt.Errorf("%s: %w", keysFile, err)
		}
		if doc.ChannelID != "" && doc.ChannelID != u.ChannelID {
			doc.Keys = nil // another channel's keys: the update's key is unknown here
		}
		keys = doc.Keys
	default:
		server := f.server
		if origin != "" {
			server = origin
		}
		cached, ok := fetched[u.ChannelID]
		if !ok {
			var err error
			cached, err = client.New(server, "", client.WithUserAgent("herald-cli/1")).SigningKeys(ctx, u.ChannelID)
			if err != nil {
				return "", fmt.Errorf("fetching the channel's keys from %s: %w", server, err)
			}
			fetched[u.ChannelID] = cached
		}
		keys = cached
	}
	return herald.VerifyUpdate(u, keys), nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// readUpdateSource reads an update's JSON from a file, stdin or a URL, and
// returns the URL's origin (where its keys are) for a URL.
func readUpdateSource(ctx context.Context, a *app, src string) ([]byte, string, error) {
	if src == "-" {
		b, err := io.ReadAll(io.LimitReader(a.stdin, maxVerifyInput))
		return b, "", err
	}
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		f, err := os.Open(src)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxVerifyInput))
		return b, "", err
	}
	u, err := url.Parse(src)
	if err != nil {
		return nil, "", err
	}
	origin := u.Scheme + "://" + u.Host
	if m := permalinkPath.FindStringSubmatch(u.Path); m != nil {
		// A public page: read the same update through the API.
		u.Path, u.RawQuery = "/api/v1/channels/"+m[1]+"/updates", "limit=1&before="+fmt.Sprint(atoi64(m[2])+1)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("User-Agent", "herald-cli/1")
	req.Header.Set("Accept", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxVerifyInput))
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if m := permalinkPath.FindStringSubmatch(strings.TrimPrefix(src, origin)); m != nil {
		var page struct {
			Updates []json.RawMessage `json:"updates"`
		}
		var first struct {
			Seq int64 `json:"seq"`
		}
		if err := json.Unmarshal(b, &page); err != nil || len(page.Updates) != 1 ||
			json.Unmarshal(page.Updates[0], &first) != nil || first.Seq != atoi64(m[2]) {
			return nil, "", fmt.Errorf("%s: no such update", src)
		}
		b = page.Updates[0]
	}
	return b, origin, nil
}

func atoi64(s string) int64 {
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
		if n > 1<<53 {
			return 1 << 53
		}
	}
	return n
}
