package http

import (
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/realtime"
)

// sessionCache remembers recently authenticated tokens for a few seconds,
// so that a busy client's every request doesn't cost a session lookup.
// An ended session (logout, revocation, password change, erasure) is
// evicted on every node through the bus's signals (realtime.SessionsEnded);
// a node that missed the signal still forgets it within the TTL.
type sessionCache struct {
	ttl     time.Duration
	max     int
	mu      sync.RWMutex
	entries map[[32]byte]cachedSession
}

type cachedSession struct {
	account *herald.Account
	until   time.Time
}

func newSessionCache(ttl time.Duration, max int) *sessionCache {
	return &sessionCache{ttl: ttl, max: max, entries: make(map[[32]byte]cachedSession)}
}

func (c *sessionCache) get(hash [32]byte, now time.Time) *herald.Account {
	if c.ttl <= 0 {
		return nil
	}
	c.mu.RLock()
	e, ok := c.entries[hash]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil
	}
	return e.account
}

func (c *sessionCache) put(hash [32]byte, a *herald.Account, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[hash] = cachedSession{account: a, until: now.Add(c.ttl)}
}

// evictEnded forgets every cached session e covers.
func (c *sessionCache) evictEnded(e realtime.SessionsEnded) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.entries {
		if e.Covers(v.account.ID, herald.SessionID(k[:])) {
			delete(c.entries, k)
		}
	}
}

func (c *sessionCache) evict(hash [32]byte) {
	c.mu.Lock()
	delete(c.entries, hash)
	c.mu.Unlock()
}
