package realtime

import (
	"context"
	"encoding/json"

	"github.com/gobwas/ws"
)

// SessionsEnded says that sessions ended (a logout, a revoked session, a
// password change, a suspended or erased account): every node closes their
// open streams at once and forgets them from its caches.
type SessionsEnded struct {
	Account string `json:"account"`
	// Session is the public id (herald.SessionID) of the one session that
	// ended; "" means every session of the account but Keep.
	Session string `json:"session,omitempty"`
	Keep    string `json:"keep,omitempty"`
}

// Covers reports whether a stream of account opened with session ends.
func (e SessionsEnded) Covers(account, session string) bool {
	if account != e.Account {
		return false
	}
	if e.Session != "" {
		return session == e.Session
	}
	return e.Keep == "" || session != e.Keep
}

// SignalBus is a Bus that also carries signals: small notices that every
// node hears (not only those subscribed to a stream), at most once. A bus
// without it (LocalBus is a single node) has its signals handled locally.
type SignalBus interface {
	// PublishSignal hands data to every node's handler, this node's too.
	PublishSignal(ctx context.Context, data []byte) error
	// HandleSignals sets the handler of received signals, once.
	HandleSignals(h func(data []byte)) error
}

// EndSessions closes the open streams of the ended sessions on every node
// and tells every node's OnSessionsEnded hooks. A node that misses the
// signal (NATS at most once) still refuses the session at its next
// authentication: its session cache lives seconds.
func (s *Server) EndSessions(ctx context.Context, e SessionsEnded) error {
	sb, ok := s.cfg.Bus.(SignalBus)
	if !ok {
		s.sessionsEnded(e)
		return nil
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return sb.PublishSignal(ctx, data)
}

// OnSessionsEnded adds a hook called on this node for every SessionsEnded
// signal (the HTTP layer's session cache). Call before serving.
func (s *Server) OnSessionsEnded(f func(SessionsEnded)) {
	s.mu.Lock()
	s.endHooks = append(s.endHooks, f)
	s.mu.Unlock()
}

func (s *Server) handleSignal(data []byte) {
	var e SessionsEnded
	if err := json.Unmarshal(data, &e); err != nil || e.Account == "" {
		s.log.Warn("realtime: malformed signal dropped", "err", err)
		return
	}
	s.sessionsEnded(e)
}

// sessionsEnded cuts this node's streams of the ended sessions: nothing
// more is written to them, and the client learns why.
func (s *Server) sessionsEnded(e SessionsEnded) {
	s.mu.Lock()
	var cut []*conn
	for c := range s.conns {
		if e.Covers(c.accountID, c.session) {
			cut = append(cut, c)
		}
	}
	hooks := s.endHooks
	s.mu.Unlock()
	for _, f := range hooks {
		f(e)
	}
	for _, c := range cut {
		c.mu.Lock()
		c.fail("session ended", ws.StatusPolicyViolation)
		c.mu.Unlock()
	}
}
