package nats

import (
	"fmt"
	"strings"
)

// Subject returns the NATS subject of a stream: <prefix>.c.<channel id> for
// a channel, <prefix>.a.<account id> for an account's personal stream.
func (b *Bus) Subject(stream string) (string, error) { return subject(b.cfg.Prefix, stream) }

func subject(prefix, stream string) (string, error) {
	kind, id := "c.", stream
	if strings.HasPrefix(stream, "@") {
		kind, id = "a.", stream[1:]
	}
	if !validToken(id, false) {
		return "", fmt.Errorf("nats: stream name %q can't be a subject token", stream)
	}
	return prefix + "." + kind + id, nil
}

// validToken accepts the characters of stream names (see herald.ParseCursor);
// dots only in a prefix, where they separate tokens.
func validToken(s string, dots bool) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || (dots && c == '.')
		if !ok {
			return false
		}
	}
	return !dots || !strings.HasPrefix(s, ".") && !strings.HasSuffix(s, ".") && !strings.Contains(s, "..")
}
