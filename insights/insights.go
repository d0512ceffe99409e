// Package insights counts views without recording who viewed what.
//
// An account's view of an update becomes one 64-bit hash, keyed:
// HMAC-SHA256(K_d, account, update), where K_d is the key of the day d the
// update was created on, derived from a server secret that is never in the
// database. The hash goes into the update's HyperLogLog sketch (package
// internal/hll): the same account viewing again sets the same register, so
// it counts once; the registers hold only maxima of hash ranks, from which
// nobody without the secret can tell whose hashes they are. Nothing else is
// kept: the Counter holds hashes, not accounts, between flushes, and no
// table, log line or metric pairs an account with an update.
//
// The languages of viewers' apps are counted the same way, per channel and
// day, with the key of that day. docs/insights.md has the design, its error
// bound and what a stolen database does and does not reveal.
package insights

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/hll"
)

// SecretSize is the size of a server secret.
const SecretSize = 32

// Keyring derives the day keys from the server secret.
type Keyring struct {
	secret []byte
	mu     sync.Mutex
	days   map[int64]*sync.Pool // of HMACs keyed with the day's key
}

// NewKeyring returns a keyring over secret (at least SecretSize bytes).
func NewKeyring(secret []byte) (*Keyring, error) {
	if len(secret) < SecretSize {
		return nil, fmt.Errorf("insights: the secret must be at least %d bytes", SecretSize)
	}
	return &Keyring{secret: append([]byte(nil), secret...), days: map[int64]*sync.Pool{}}, nil
}

// LoadOrCreateSecret reads the secret at path, creating it (mode 0600, 32
// random bytes) if it does not exist yet.
func LoadOrCreateSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) < SecretSize {
			return nil, fmt.Errorf("insights: %s holds %d bytes, want at least %d", path, len(b), SecretSize)
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	b = make([]byte, SecretSize)
	rand.Read(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process just made it
			return LoadOrCreateSecret(path)
		}
		return nil, err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return b, f.Close()
}

// dayMACs returns a pool of HMACs keyed with K_d (a few dozen days are live
// at once; reusing them saves two allocations per view).
func (k *Keyring) dayMACs(day int64) *sync.Pool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if p, ok := k.days[day]; ok {
		return p
	}
	if len(k.days) > 2*herald.InsightsDays+8 {
		clear(k.days)
	}
	m := hmac.New(sha256.New, k.secret)
	fmt.Fprintf(m, "herald insights day key v1 %d", day)
	key := m.Sum(nil)
	p := &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
	k.days[day] = p
	return p
}

func (k *Keyring) hash(day int64, kind, a, b string) uint64 {
	pool := k.dayMACs(day)
	m := pool.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(a))
	m.Write([]byte{0})
	m.Write([]byte(b))
	var sum [sha256.Size]byte
	h := binary.BigEndian.Uint64(m.Sum(sum[:0]))
	pool.Put(m)
	return h
}

func dayNumber(t time.Time) int64 { return t.UTC().Unix() / 86400 }

// Language returns the coarse bucket of a BCP 47 tag or Accept-Language
// value ("" when none is given).
func Language(tag string) string {
	tag = strings.TrimSpace(tag)
	if i := strings.IndexAny(tag, ",;"); i >= 0 {
		tag = tag[:i]
	}
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	tag = strings.ToLower(strings.TrimSpace(tag))
	if tag == "" || tag == "*" {
		return ""
	}
	for _, b := range herald.LanguageBuckets {
		if b == tag {
			return b
		}
	}
	return "other"
}

type langKey struct {
	channelID string
	day       int64
	lang      string
}

// MaxPending bounds the hashes a Counter holds between flushes (8 bytes
// each); past it Record asks for an early flush and, at twice it, drops
// views rather than grow without bound.
const MaxPending = 1 << 20

// Counter gathers view hashes in memory and merges them into the store's
// sketches on Flush (every second in herald serve).
type Counter struct {
	store herald.InsightsStore
	keys  *Keyring
	clock herald.Clock

	mu         sync.Mutex
	views      map[string][]uint64
	anonymous  map[string]int64
	langs      map[langKey][]uint64
	pending    int
	maxPending int
	dropped    int64
	kick       chan struct{}
}

// NewCounter returns a counter merging into store.
func NewCounter(store herald.InsightsStore, keys *Keyring, clock herald.Clock) *Counter {
	if clock == nil {
		clock = herald.SystemClock{}
	}
	return &Counter{store: store, keys: keys, clock: clock, views: map[string][]uint64{}, anonymous: map[string]int64{},
		langs: map[langKey][]uint64{}, kick: make(chan struct{}, 1), maxPending: MaxPending}
}

// Record counts accountID's views of targets (updates it may read, see
// herald.InsightsStore.ViewableUpdates), and its app's language bucket once
// per channel ("" for none).
func (c *Counter) Record(accountID string, targets []herald.ViewTarget, lang string) {
	today := dayNumber(c.clock.Now())
	type hv struct {
		updateID string
		h        uint64
	}
	hashes := make([]hv, 0, len(targets))
	for _, t := range targets {
		hashes = append(hashes, hv{t.UpdateID, c.keys.hash(dayNumber(t.CreatedAt), "view", accountID, t.UpdateID)})
	}
	var lhashes []struct {
		k langKey
		h uint64
	}
	if lang != "" {
		seen := map[string]bool{}
		for _, t := range targets {
			if !seen[t.ChannelID] {
				seen[t.ChannelID] = true
				lhashes = append(lhashes, struct {
					k langKey
					h uint64
				}{langKey{t.ChannelID, today, lang}, c.keys.hash(today, "lang", accountID, t.ChannelID)})
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending+len(hashes)+len(lhashes) > 2*c.maxPending {
		c.dropped += int64(len(hashes))
		return
	}
	for _, x := range hashes {
		c.views[x.updateID] = append(c.views[x.updateID], x.h)
	}
	for _, x := range lhashes {
		c.langs[x.k] = append(c.langs[x.k], x.h)
	}
	c.pending += len(hashes) + len(lhashes)
	if c.pending > c.maxPending {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// RecordAnonymous counts one showing of each update to someone not signed
// in (a public page or feed): loads, not people, so nothing to hash.
func (c *Counter) RecordAnonymous(updateIDs []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.anonymous)+len(updateIDs) > c.maxPending {
		c.dropped += int64(len(updateIDs))
		return
	}
	for _, id := range updateIDs {
		c.anonymous[id]++
	}
}

// Kick is signalled when the counter wants a flush before its next tick.
func (c *Counter) Kick() <-chan struct{} { return c.kick }

// Dropped is how many views were dropped because flushes fell behind.
func (c *Counter) Dropped() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// Flush merges what was gathered into the store. On error the views are
// lost (a count, not data: better than holding them without bound).
func (c *Counter) Flush(ctx context.Context) error {
	c.mu.Lock()
	views, langs, anonymous := c.views, c.langs, c.anonymous
	c.views, c.langs, c.anonymous, c.pending = map[string][]uint64{}, map[langKey][]uint64{}, map[string]int64{}, 0
	c.mu.Unlock()
	if len(views) == 0 && len(langs) == 0 && len(anonymous) == 0 {
		return nil
	}
	vd := make([]herald.ViewDelta, 0, len(views)+len(anonymous))
	for id, hs := range views {
		s := hll.New()
		for _, h := range hs {
			s.Add(h)
		}
		vd = append(vd, herald.ViewDelta{UpdateID: id, Sketch: s, Anonymous: anonymous[id]})
		delete(anonymous, id)
	}
	for id, n := range anonymous {
		vd = append(vd, herald.ViewDelta{UpdateID: id, Anonymous: n})
	}
	ld := make([]herald.LanguageDelta, 0, len(langs))
	for k, hs := range langs {
		s := hll.New()
		for _, h := range hs {
			s.Add(h)
		}
		ld = append(ld, herald.LanguageDelta{ChannelID: k.channelID, Day: time.Unix(k.day*86400, 0).UTC(), Lang: k.lang, Sketch: s})
	}
	// One order on every node: merges lock rows in it, so two nodes
	// flushing the same updates never deadlock.
	slices.SortFunc(vd, func(a, b herald.ViewDelta) int { return strings.Compare(a.UpdateID, b.UpdateID) })
	slices.SortFunc(ld, func(a, b herald.LanguageDelta) int {
		return cmp.Or(strings.Compare(a.ChannelID, b.ChannelID), a.Day.Compare(b.Day), strings.Compare(a.Lang, b.Lang))
	})
	return c.store.MergeViews(ctx, vd, ld)
}
