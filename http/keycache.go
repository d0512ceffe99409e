package http

import (
	"sync"
	"time"

	"github.com/heraldhq/herald"
)

// keyCache remembers which key a secret belongs to (id, channel, scopes:
// none of which ever change), so that a program posting in a loop costs no
// key lookup per request. It is safe for revocation: a key acts only
// through store calls that check, in their own transaction, that the key
// still exists (a revoked key gets invalid-token from the store, at once,
// on every node). An entry lives until the minute ends or the UTC day
// changes, so the store still records each day's last use.
type keyCache struct {
	ttl     time.Duration
	max     int
	mu      sync.RWMutex
	entries map[string]cachedKey
}

type cachedKey struct {
	key   *herald.ChannelKey
	day   string
	until time.Time
}

func newKeyCache(ttl time.Duration, max int) *keyCache {
	return &keyCache{ttl: ttl, max: max, entries: make(map[string]cachedKey)}
}

func (c *keyCache) get(hash []byte, now time.Time) *herald.ChannelKey {
	c.mu.RLock()
	e, ok := c.entries[string(hash)]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) || e.day != herald.KeyDay(now) {
		return nil
	}
	return e.key
}

func (c *keyCache) put(hash []byte, k *herald.ChannelKey, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for h, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, h)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[string(hash)] = cachedKey{key: k, day: herald.KeyDay(now), until: now.Add(c.ttl)}
}
