package realtime

import "github.com/heraldhq/herald"

// Encode builds an event's bus Message exactly as Server.Publish does. A bus
// that refills missed events from the durable log (the NATS bus after a
// reconnect) uses it so that its messages are byte-for-byte the live ones.
func Encode(e *herald.Event) *Message { return encode(e) }
