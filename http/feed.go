package http

import (
	"cmp"
	"encoding/json"
	"encoding/xml"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// Feeds of a listed channel: Atom 1.0 (RFC 4287) and JSON Feed 1.1, its
// newest live updates. Expired and deleted updates are absent; an edit
// moves the entry's updated / date_modified. An update's media are
// enclosures (Atom link rel="enclosure", JSON Feed attachments) at their
// public URLs (a listed channel's media is served to anyone).

// feedEntries is how many of the newest updates a feed carries (one store page).
const feedEntries = 50

type atomFeed struct {
	XMLName   xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang      string      `xml:"xml:lang,attr,omitempty"`
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Subtitle  string      `xml:"subtitle,omitempty"`
	Updated   string      `xml:"updated"`
	Links     []atomLink  `xml:"link"`
	Author    atomPerson  `xml:"author"`
	Generator string      `xml:"generator"`
	Entries   []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel    string `xml:"rel,attr,omitempty"`
	Type   string `xml:"type,attr,omitempty"`
	Href   string `xml:"href,attr"`
	Title  string `xml:"title,attr,omitempty"`
	Length int64  `xml:"length,attr,omitempty"`
}

// feedMedia is an update's media a feed lists: the ready ones (a video
// still processing has no file yet).
func feedMedia(u *herald.Update) []herald.Media {
	var out []herald.Media
	for _, m := range u.Media {
		if m.State == herald.MediaReady && m.URL != "" {
			out = append(out, m)
		}
	}
	return out
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Links     []atomLink  `xml:"link"`
	Published string      `xml:"published"`
	Updated   string      `xml:"updated"`
	Content   atomText    `xml:"content"`
	Signed    *atomSigned `xml:"herald:signed,omitempty"`
}

// SignedNamespace is the XML namespace of Herald's Atom extension
// (docs/signatures.md).
const SignedNamespace = "https://github.com/heraldhq/herald/blob/main/docs/signatures.md#atom"

// atomSigned is Herald's Atom extension element: the update's signature
// and key id as attributes, and the fields they sign as JSON (the same
// object as a JSON Feed item's _herald, without signature and key_id).
// JSON, because XML 1.0 can't carry every character an update's text may
// hold (most control characters) and parsers rewrite line ends; JSON
// escapes them, so the signed text comes back byte for byte. The element
// declares its own namespace, so an entry saved alone still parses.
type atomSigned struct {
	NS        string `xml:"xmlns:herald,attr"`
	KeyID     string `xml:"key_id,attr"`
	Signature string `xml:"signature,attr"`
	Fields    string `xml:",chardata"`
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// feedText is an update's text with its poll, if any, as plain text; a
// media-only update's is its media's alt texts.
func feedText(u *herald.Update) string {
	if u.Text == "" && u.Poll == nil && len(u.Media) > 0 {
		// Media only: its alt texts (JSON Feed needs content).
		var alts []string
		for _, m := range u.Media {
			alts = append(alts, cmp.Or(m.Alt, m.Type))
		}
		return strings.Join(alts, "\n")
	}
	if u.Poll == nil {
		return u.Text
	}
	var b strings.Builder
	b.WriteString(u.Text)
	b.WriteString("\n\n")
	b.WriteString(u.Poll.Question)
	for _, o := range u.Poll.Options {
		b.WriteString("\n- ")
		b.WriteString(o.Text)
	}
	return b.String()
}

// updateTitle is an entry's title: the text's first line, else the first
// media's alt text or type (Atom requires a non-empty title).
func updateTitle(u *herald.Update) string {
	if t := firstLine(u.Text, 100); t != "" {
		return t
	}
	if u.Poll != nil {
		return firstLine(u.Poll.Question, 100)
	}
	for _, m := range u.Media {
		if m.Alt != "" {
			return firstLine(m.Alt, 100)
		}
	}
	if len(u.Media) > 0 {
		return u.Media[0].Type
	}
	return ""
}

// firstImage is the absolute URL of the update's first ready image ("" for none).
func firstImage(u *herald.Update, base string) string {
	for _, m := range feedMedia(u) {
		if m.Type == herald.MediaImage {
			return base + m.URL
		}
	}
	return ""
}

func renderAtom(ch *herald.Channel, list []*herald.Update, base string) ([]byte, error) {
	page := base + channelPath(ch)
	f := atomFeed{
		Lang:      ch.Language,
		ID:        base + "/channels/" + ch.ID, // stable across handle changes
		Title:     ch.Name,
		Subtitle:  ch.Description,
		Updated:   atomTime(ch.CreatedAt),
		Links:     []atomLink{{Rel: "self", Type: "application/atom+xml", Href: page + "/feed.atom"}, {Rel: "alternate", Type: "text/html", Href: page}},
		Author:    atomPerson{Name: ch.Name, URI: page},
		Generator: "Herald",
	}
	for _, u := range list {
		if t := atomTime(updatedAt(u)); t > f.Updated {
			f.Updated = t
		}
		link := base + permalinkPath(ch, u.Seq)
		links := []atomLink{{Rel: "alternate", Type: "text/html", Href: link}}
		for _, m := range feedMedia(u) {
			links = append(links, atomLink{Rel: "enclosure", Type: m.MIME, Href: base + m.URL, Title: m.Alt, Length: m.Size})
		}
		entry := atomEntry{
			ID:        link,
			Title:     updateTitle(u),
			Links:     links,
			Published: atomTime(u.CreatedAt),
			Updated:   atomTime(updatedAt(u)),
			Content:   atomText{Type: "text", Body: feedText(u)},
		}
		if u.Signature != "" {
			fields, err := json.Marshal(signedFields(u))
			if err != nil {
				return nil, err
			}
			entry.Signed = &atomSigned{NS: SignedNamespace, KeyID: u.KeyID, Signature: u.Signature, Fields: string(fields)}
		}
		f.Entries = append(f.Entries, entry)
	}
	out, err := xml.MarshalIndent(f, "", " ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

type jsonFeed struct {
	Version     string         `json:"version"`
	Title       string         `json:"title"`
	HomePageURL string         `json:"home_page_url"`
	FeedURL     string         `json:"feed_url"`
	Description string         `json:"description,omitempty"`
	Language    string         `json:"language,omitempty"`
	Authors     []jsonAuthor   `json:"authors"`
	Items       []jsonFeedItem `json:"items"`
}

type jsonAuthor struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

type jsonFeedItem struct {
	ID            string `json:"id"`
	URL           string `json:"url"`
	Title         string `json:"title,omitempty"`
	ContentText   string `json:"content_text"`
	DatePublished string `json:"date_published"`
	DateModified  string `json:"date_modified"`
	Image         string `json:"image,omitempty"`
	// Attachments are the update's media (JSON Feed 1.1 "attachments").
	Attachments []jsonAttachment `json:"attachments,omitempty"`
	// Herald is a JSON Feed extension (members starting with "_"): the
	// signed fields of the update with its signature, so a saved feed
	// item can be checked with herald verify (docs/signatures.md).
	Herald *signedUpdate `json:"_herald,omitempty"`
}

type jsonAttachment struct {
	URL      string `json:"url"`
	MIMEType string `json:"mime_type"`
	// No title: equal titles would make attachments alternates of one
	// another (JSON Feed 1.1), and two images may share an alt text.
	Size     int64 `json:"size_in_bytes,omitempty"`
	Duration int64 `json:"duration_in_seconds,omitempty"`
}

// signedUpdate is what a signature covers, with the signature.
type signedUpdate struct {
	ChannelID string        `json:"channel_id"`
	Seq       int64         `json:"seq"`
	Text      string        `json:"text"`
	Poll      *herald.Poll  `json:"poll,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
	EditedAt  *time.Time    `json:"edited_at"`
	Media     []signedMedia `json:"media,omitempty"`
	Signature string        `json:"signature,omitempty"`
	KeyID     string        `json:"key_id,omitempty"`
}

// signedMedia is what the signature covers of an attachment (its id, alt
// text, type and size); herald verify reads it as herald.Media.
type signedMedia struct {
	ID   string `json:"id"`
	Alt  string `json:"alt,omitempty"`
	MIME string `json:"mime"`
	Size int64  `json:"size"`
}

func signedFields(u *herald.Update) *signedUpdate {
	s := &signedUpdate{ChannelID: u.ChannelID, Seq: u.Seq, Text: u.Text, Poll: u.Poll, CreatedAt: u.CreatedAt, EditedAt: u.EditedAt}
	for _, m := range u.Media {
		s.Media = append(s.Media, signedMedia{ID: m.ID, Alt: m.Alt, MIME: m.MIME, Size: m.Size})
	}
	return s
}

func withSignature(s *signedUpdate, u *herald.Update) *signedUpdate {
	s.Signature, s.KeyID = u.Signature, u.KeyID
	return s
}

func renderJSONFeed(ch *herald.Channel, list []*herald.Update, base string) ([]byte, error) {
	page := base + channelPath(ch)
	f := jsonFeed{
		Version:     "https://jsonfeed.org/version/1.1",
		Title:       ch.Name,
		HomePageURL: page,
		FeedURL:     page + "/feed.json",
		Description: ch.Description,
		Language:    ch.Language,
		Authors:     []jsonAuthor{{Name: ch.Name, URL: page}},
		Items:       []jsonFeedItem{},
	}
	for _, u := range list {
		link := base + permalinkPath(ch, u.Seq)
		var atts []jsonAttachment
		for _, m := range feedMedia(u) {
			atts = append(atts, jsonAttachment{URL: base + m.URL, MIMEType: m.MIME, Size: m.Size, Duration: int64(m.Duration + 0.5)})
		}
		f.Items = append(f.Items, jsonFeedItem{
			ID:            link,
			URL:           link,
			Title:         updateTitle(u),
			Image:         firstImage(u, base),
			Attachments:   atts,
			ContentText:   feedText(u),
			DatePublished: atomTime(u.CreatedAt),
			DateModified:  atomTime(updatedAt(u)),
			Herald:        withSignature(signedFields(u), u),
		})
	}
	return json.MarshalIndent(f, "", " ")
}
