package realtime

import "github.com/heraldhq/herald"

// Encode builds an event's bus Message exactly as Server.Publish does (tests
// and benchmarks of a Bus use it to carry real messages).
func Encode(e *herald.Event) *Message { return encode(e) }
