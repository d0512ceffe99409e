package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/cmd/internal/options"
)

// cliFlags is the option table of a CLI command: the connection options
// every command shares, then the command's own.
type cliFlags struct {
	a             *app
	name          string
	table         []options.Option
	server, token string
	json          bool
	args          []string // after Parse: what follows the flags
	raw           *rawJSON // the last JSON answer, for --json
}

func (a *app) newCLIFlags(name string) *cliFlags {
	f := &cliFlags{a: a, name: "herald " + name}
	f.table = []options.Option{
		{Flag: "server", Env: "HERALD_SERVER", Default: "http://127.0.0.1:8080", Help: "server URL", Set: options.String(&f.server)},
		{Flag: "token", Env: "HERALD_TOKEN", Help: "bearer token", Set: options.String(&f.token)},
		{Flag: "json", Bool: true, Help: "print the full JSON answer", Set: options.Bool(&f.json)},
	}
	return f
}

// String adds a string option.
func (f *cliFlags) String(name, help string) *string {
	p := new(string)
	f.table = append(f.table, options.Option{Flag: name, Help: help, Set: options.String(p)})
	return p
}

// StringVar adds a string option stored in p.
func (f *cliFlags) StringVar(p *string, name, help string) {
	f.table = append(f.table, options.Option{Flag: name, Help: help, Set: options.String(p)})
}

// Bool adds a flag given without a value.
func (f *cliFlags) Bool(name, help string) *bool {
	p := new(bool)
	f.table = append(f.table, options.Option{Flag: name, Bool: true, Help: help, Set: options.Bool(p)})
	return p
}

// Int adds a whole-number option.
func (f *cliFlags) Int(name string, def, min int, help string) *int {
	p := new(int)
	f.table = append(f.table, options.Option{Flag: name, Default: strconv.Itoa(def), Help: help, Set: options.Int(p, min)})
	return p
}

// Repeated adds an option that may be given several times.
func (f *cliFlags) Repeated(name, help string) *[]string {
	p := new([]string)
	f.table = append(f.table, options.Option{Flag: name, Help: help, Set: func(v string) error {
		if v != "" {
			*p = append(*p, v)
		}
		return nil
	}})
	return p
}

// Password adds --password, also read from HERALD_PASSWORD.
func (f *cliFlags) Password() *string {
	p := new(string)
	f.table = append(f.table, options.Option{Flag: "password", Env: "HERALD_PASSWORD", Help: "password (else the first line of stdin)", Set: options.String(p)})
	return p
}

// Parse reads the table from args and the environment.
func (f *cliFlags) Parse(args []string) error {
	rest, err := options.Parse(f.name, f.table, args, f.a.env, f.a.stderr)
	f.args = rest
	return err
}

func (f *cliFlags) NArg() int        { return len(f.args) }
func (f *cliFlags) Arg(i int) string { return f.args[i] }

func (f *cliFlags) client() *client.Client {
	if f.raw == nil {
		f.raw = &rawJSON{base: client.NewTransport()}
	}
	hc := &http.Client{Transport: f.raw, Timeout: time.Minute}
	if f.name == "herald listen" {
		hc.Timeout = 0 // a stream lasts
	}
	return client.New(f.server, f.token, client.WithUserAgent("herald-cli/1"), client.WithHTTPClient(hc))
}

// rawJSON keeps the body of the last successful JSON answer, so that
// --json prints exactly what the API said (not a re-encoding of what the
// client understood). Event streams pass through untouched.
type rawJSON struct {
	base http.RoundTripper
	mu   sync.Mutex
	last []byte
}

func (t *rawJSON) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode/100 != 2 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return resp, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.last = b
	t.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

func (t *rawJSON) body() []byte {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

func (f *cliFlags) authed() (*client.Client, error) {
	if f.token == "" {
		return nil, errors.New("no token: pass --token or set HERALD_TOKEN (see herald login)")
	}
	return f.client(), nil
}

// print writes, with --json, the API's JSON answer (v indented when the
// command made no JSON request), else short.
func (f *cliFlags) print(v any, short string) error {
	if f.json {
		if raw := f.raw.body(); raw != nil {
			// Exactly the API's answer.
			raw = bytes.TrimRight(raw, "\n")
			_, err := fmt.Fprintf(f.a.stdout, "%s\n", raw)
			return err
		}
		enc := json.NewEncoder(f.a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprintln(f.a.stdout, short)
	return err
}

// readPassword is --password (or HERALD_PASSWORD), else the first line of
// stdin (so it stays out of shell history and ps).
func (f *cliFlags) readPassword(p string) (string, error) {
	if p != "" {
		return p, nil
	}
	line, err := bufio.NewReader(f.a.stdin).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", errors.New("no password: pass --password, set HERALD_PASSWORD or write it on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func accountCommand(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: herald account create --username NAME [--display-name NAME] [--password P]")
	}
	f := a.newCLIFlags("account create")
	username := f.String("username", "username: 3-32 of a-z 0-9 _ .")
	display := f.String("display-name", "display name")
	pw := f.Password()
	if err := f.Parse(args[1:]); err != nil {
		return err
	}
	password, err := f.readPassword(*pw)
	if err != nil {
		return err
	}
	s, err := f.client().CreateAccount(ctx, *username, password, *display)
	if err != nil {
		return err
	}
	return f.print(s, s.Token)
}

func loginCommand(ctx context.Context, a *app, args []string) error {
	f := a.newCLIFlags("login")
	username := f.String("username", "username")
	pw := f.Password()
	if err := f.Parse(args); err != nil {
		return err
	}
	if *username == "" && f.NArg() == 1 {
		*username = f.Arg(0)
	}
	password, err := f.readPassword(*pw)
	if err != nil {
		return err
	}
	s, err := f.client().Login(ctx, *username, password)
	if err != nil {
		return err
	}
	return f.print(s, s.Token)
}

func logoutCommand(ctx context.Context, a *app, args []string) error {
	f := a.newCLIFlags("logout")
	if err := f.Parse(args); err != nil {
		return err
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	return c.Logout(ctx)
}

func channelCommand(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: herald channel create|show|edit|delete|avatar [flags] [ID]")
	}
	switch args[0] {
	case "edit":
		return channelEdit(ctx, a, args[1:])
	case "avatar":
		return channelAvatar(ctx, a, args[1:])
	case "create":
		f := a.newCLIFlags("channel create")
		var in client.ChannelInput
		f.StringVar(&in.Name, "name", "channel name (1-100 characters)")
		f.StringVar(&in.Description, "description", "description")
		f.StringVar(&in.Handle, "handle", "handle (optional)")
		f.StringVar(&in.Category, "category", "category id, e.g. weather, news, traffic")
		f.StringVar(&in.Country, "country", "ISO 3166-1 alpha-2 country code")
		f.StringVar(&in.Language, "language", "BCP 47 language tag")
		f.StringVar(&in.Reactions, "reactions", "any, default or none")
		unlisted := f.Bool("unlisted", "keep the channel out of the directory")
		if err := f.Parse(args[1:]); err != nil {
			return err
		}
		if *unlisted {
			in.Listed = client.Ptr(false)
		}
		c, err := f.authed()
		if err != nil {
			return err
		}
		ch, err := c.CreateChannel(ctx, in)
		if err != nil {
			return err
		}
		return f.print(ch, ch.ID)
	case "show":
		f := a.newCLIFlags("channel show")
		if err := f.Parse(args[1:]); err != nil {
			return err
		}
		if f.NArg() != 1 {
			return errors.New("usage: herald channel show ID")
		}
		ch, err := f.client().GetChannel(ctx, f.Arg(0))
		if err != nil {
			return err
		}
		f.json = true
		return f.print(ch, "")
	case "delete":
		f := a.newCLIFlags("channel delete")
		if err := f.Parse(args[1:]); err != nil {
			return err
		}
		if f.NArg() != 1 {
			return errors.New("usage: herald channel delete ID")
		}
		c, err := f.authed()
		if err != nil {
			return err
		}
		return c.DeleteChannel(ctx, f.Arg(0))
	}
	return fmt.Errorf("usage: herald channel create|show|edit|delete|avatar [flags] [ID] (unknown subcommand %q)", args[0])
}

func postCommand(ctx context.Context, a *app, args []string) error {
	f := a.newCLIFlags("post")
	channel := f.String("channel", "channel id")
	question := f.String("poll-question", "attach a poll with this question")
	pollOptions := f.Repeated("poll-option", "a poll option (repeat 2-12 times)")
	multiple := f.Bool("poll-multiple", "allow several answers")
	images := f.Repeated("image", "attach a photo (JPEG, PNG, WebP, GIF; repeatable)")
	videos := f.Repeated("video", "attach a video (MP4, WebM; repeatable)")
	audios := f.Repeated("audio", "attach audio or a voice note (Opus, AAC, MP3; repeatable)")
	docs := f.Repeated("file", "attach a document, offered as a download (repeatable)")
	alts := f.Repeated("alt", "alt text of the attachments in order: images, videos, audio, files (repeatable)")
	at := f.String("at", "schedule for this time (RFC 3339, e.g. 2026-03-01T18:00:00+01:00) instead of posting now")
	idem := f.String("idempotency-key", "Idempotency-Key of the post (default: a random one; reuse it to retry safely)")
	if err := f.Parse(args); err != nil {
		return err
	}
	type attachment struct{ path, want string }
	var atts []attachment
	for _, l := range []struct {
		paths []string
		want  string
	}{{*images, herald.MediaImage}, {*videos, herald.MediaVideo}, {*audios, herald.MediaAudio}, {*docs, ""}} {
		for _, p := range l.paths {
			atts = append(atts, attachment{p, l.want})
		}
	}
	if *channel == "" || f.NArg() > 1 || f.NArg() == 0 && len(atts) == 0 {
		return errors.New("usage: herald post --channel ID [--image F --alt TEXT ...] [TEXT] (TEXT - reads stdin; optional with attachments)")
	}
	if len(*alts) > len(atts) {
		return errors.New("more --alt texts than attachments")
	}
	text := ""
	if f.NArg() == 1 {
		text = f.Arg(0)
	}
	var publishAt time.Time
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fmt.Errorf("--at: %w", err)
		}
		publishAt = t
	}
	if text == "-" {
		b, err := io.ReadAll(io.LimitReader(a.stdin, 1<<20))
		if err != nil {
			return err
		}
		text = string(b)
	}
	var poll *client.PollInput
	if *question != "" || len(*pollOptions) > 0 {
		poll = &client.PollInput{Question: *question, Options: *pollOptions, Multiple: *multiple}
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	if len(atts) == 0 {
		// A 429 is retried after its Retry-After with the same Idempotency-Key,
		// so a retry never posts twice.
		u, sched, err := c.Publish(ctx, *channel, client.Post{Text: text, Poll: poll, PublishAt: publishAt, IdempotencyKey: *idem, Retries: 5})
		if err != nil {
			return err
		}
		if sched != nil {
			return f.print(sched, sched.ID+" scheduled for "+sched.PublishAt.Local().Format(time.DateTime))
		}
		return f.print(u, u.ID)
	}
	if poll != nil {
		return errors.New("an update has either a poll or attachments")
	}
	var refs []herald.MediaRef
	for i, at := range atts {
		m, err := uploadFile(ctx, c, *channel, at.path)
		if err != nil {
			return fmt.Errorf("%s: %w", at.path, err)
		}
		if at.want != "" && m.Type != at.want {
			return fmt.Errorf("%s is not %s %s (the server read it as %s)", at.path, article(at.want), at.want, m.Type)
		}
		ref := herald.MediaRef{ID: m.ID}
		if i < len(*alts) {
			ref.Alt = (*alts)[i]
		}
		refs = append(refs, ref)
	}
	u, sched, err := c.Publish(ctx, *channel, client.Post{Text: text, Media: refs, PublishAt: publishAt, IdempotencyKey: *idem, Retries: 5})
	if err != nil {
		return err
	}
	if sched != nil {
		return f.print(sched, sched.ID+" scheduled for "+sched.PublishAt.Local().Format(time.DateTime))
	}
	return f.print(u, u.ID)
}

func article(w string) string {
	if strings.IndexByte("aeiou", w[0]) >= 0 {
		return "an"
	}
	return "a"
}

// uploadFile streams one file to a channel.
func uploadFile(ctx context.Context, c *client.Client, channelID, path string) (*herald.Media, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	return c.UploadMedia(ctx, channelID, fh, st.Size(), filepath.Base(path))
}

func followCommand(ctx context.Context, a *app, args []string) error {
	f := a.newCLIFlags("follow")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() != 1 {
		return errors.New("usage: herald follow CHANNEL_ID")
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	ch, err := c.Follow(ctx, f.Arg(0))
	if err != nil {
		return err
	}
	return f.print(ch, "following "+ch.Name)
}

func unfollowCommand(ctx context.Context, a *app, args []string) error {
	f := a.newCLIFlags("unfollow")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() != 1 {
		return errors.New("usage: herald unfollow CHANNEL_ID")
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	return c.Unfollow(ctx, f.Arg(0))
}

func updatesCommand(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "edit":
			return updateEdit(ctx, a, args[1:])
		case "delete":
			return updateDelete(ctx, a, args[1:])
		case "list":
			args = args[1:]
		}
	}
	f := a.newCLIFlags("updates")
	channel := f.String("channel", "channel id")
	limit := f.Int("limit", 0, 0, "how many (1-100, default 20)")
	before := f.Int("before", 0, 0, "only updates with seq below this")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *channel == "" {
		return errors.New("usage: herald updates --channel ID")
	}
	us, err := f.client().ListUpdates(ctx, *channel, client.ListOptions{Limit: *limit, Before: int64(*before)})
	if err != nil {
		return err
	}
	if f.json {
		return f.print(us, "")
	}
	for _, u := range us {
		edited := ""
		if u.EditedAt != nil {
			edited = " (edited)"
		}
		fmt.Fprintf(a.stdout, "#%d %s%s\n%s\n\n", u.Seq, u.CreatedAt.Local().Format(time.DateTime), edited, u.Text)
	}
	return nil
}
