package nats

import (
	"encoding/binary"
	"errors"

	"github.com/heraldhq/herald/realtime"
)

// Wire format of a message (the stream is the subject):
//
//	version byte 1
//	uvarint seq
//	uvarint channel position + 1 (Message.ChannelSeq; 0: none)
//	uvarint-prefixed type, uvarint-prefixed channel id
//	the event's JSON
const frameVersion = 1

// maxSeq bounds the sequence numbers a frame may carry.
const maxSeq = 1 << 62

func frame(m *realtime.Message) []byte {
	n := 1 + binary.MaxVarintLen64*4 + len(m.Type) + len(m.ChannelID) + len(m.Data)
	p := make([]byte, 0, n)
	p = append(p, frameVersion)
	p = binary.AppendUvarint(p, uint64(m.Seq))
	var pos uint64
	if m.ChannelSeq != nil && *m.ChannelSeq >= 0 {
		pos = uint64(*m.ChannelSeq) + 1
	}
	p = binary.AppendUvarint(p, pos)
	p = binary.AppendUvarint(p, uint64(len(m.Type)))
	p = append(p, m.Type...)
	p = binary.AppendUvarint(p, uint64(len(m.ChannelID)))
	p = append(p, m.ChannelID...)
	return append(p, m.Data...)
}

var errFrame = errors.New("malformed frame")

// unframe decodes a frame received on stream's subject. Data aliases p.
func unframe(stream string, p []byte) (*realtime.Message, error) {
	if len(p) == 0 || p[0] != frameVersion {
		return nil, errFrame
	}
	p = p[1:]
	num := func(limit uint64) (uint64, bool) {
		v, n := binary.Uvarint(p)
		if n <= 0 || v > limit {
			return 0, false
		}
		p = p[n:]
		return v, true
	}
	str := func() (string, bool) {
		l, n := binary.Uvarint(p)
		if n <= 0 || l > uint64(len(p)-n) {
			return "", false
		}
		s := string(p[n : n+int(l)])
		p = p[n+int(l):]
		return s, true
	}
	seq, ok := num(maxSeq)
	if !ok {
		return nil, errFrame
	}
	pos, ok := num(maxSeq + 1)
	if !ok {
		return nil, errFrame
	}
	typ, ok := str()
	if !ok {
		return nil, errFrame
	}
	ch, ok := str()
	if !ok || len(p) == 0 {
		return nil, errFrame
	}
	m := &realtime.Message{Stream: stream, Seq: int64(seq), Type: typ, ChannelID: ch, Data: p}
	if pos > 0 {
		cs := int64(pos - 1)
		m.ChannelSeq = &cs
	}
	return m, nil
}
