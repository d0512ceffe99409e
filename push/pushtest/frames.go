package pushtest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"strconv"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// The HTTP/2 side of the push service works on frames: one goroutine per
// connection reads each request whole, judges it with accept and queues the
// answer, and the answers are written out together whenever there is nothing
// more to read. net/http's server would run a goroutine per request and
// write each answer on its own; in the push benchmark this service shares
// two cores with the server it measures, so it is kept lean.

const (
	maxStreams     = 250     // SETTINGS_MAX_CONCURRENT_STREAMS, as net/http's default
	streamWindow   = 1 << 20 // each stream may send this much before waiting
	connWindowStep = 1 << 20 // the connection window is topped up by this much
	maxHeaderList  = 64 << 10
)

// h2Request is a request whose body is still arriving.
type h2Request struct {
	req  pushRequest
	body []byte
}

func (s *Server) serveFrames(_ *http.Server, c *tls.Conn, _ http.Handler) {
	br := bufio.NewReaderSize(c, 64<<10)
	bw := bufio.NewWriterSize(c, 64<<10)
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(br, preface); err != nil || string(preface) != http2.ClientPreface {
		return
	}
	fr := http2.NewFramer(bw, br)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	fr.MaxHeaderListSize = maxHeaderList
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	_ = fr.WriteSettings(
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: maxStreams},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: streamWindow},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: maxHeaderList})
	// The connection starts with 64 KiB of window; open it wide.
	_ = fr.WriteWindowUpdate(0, connWindowStep)

	open := map[uint32]*h2Request{}
	consumed := 0 // DATA bytes read since the connection window was last topped up

	respond := func(id uint32, a answer) error {
		block.Reset()
		_ = enc.WriteField(hpack.HeaderField{Name: ":status", Value: strconv.Itoa(a.status)})
		if a.retryAfter != "" {
			_ = enc.WriteField(hpack.HeaderField{Name: "retry-after", Value: a.retryAfter})
		}
		if a.location != "" {
			_ = enc.WriteField(hpack.HeaderField{Name: "location", Value: a.location})
		}
		if a.problem != "" {
			_ = enc.WriteField(hpack.HeaderField{Name: "content-type", Value: "text/plain; charset=utf-8"})
		}
		err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block.Bytes(), EndHeaders: true, EndStream: a.problem == ""})
		if err == nil && a.problem != "" {
			err = fr.WriteData(id, true, []byte(a.problem+"\n"))
		}
		return err
	}
	finish := func(id uint32) error {
		r := open[id]
		delete(open, id)
		r.req.body = r.body
		return respond(id, s.accept(r.req))
	}

	for {
		if br.Buffered() == 0 {
			// Nothing more is waiting: send what was answered so far.
			if bw.Flush() != nil {
				return
			}
		}
		f, err := fr.ReadFrame()
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				delete(open, se.StreamID)
				if fr.WriteRSTStream(se.StreamID, se.Code) != nil {
					return
				}
				continue
			}
			var ce http2.ConnectionError
			if errors.As(err, &ce) {
				_ = fr.WriteGoAway(0, http2.ErrCode(ce), nil)
				_ = bw.Flush()
			}
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				err = fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				err = fr.WritePing(true, f.Data)
			}
		case *http2.MetaHeadersFrame:
			id := f.StreamID
			if len(open) >= maxStreams {
				err = fr.WriteRSTStream(id, http2.ErrCodeRefusedStream)
				break
			}
			r := &h2Request{}
			for _, hf := range f.Fields {
				switch hf.Name {
				case ":method":
					r.req.method = hf.Value
				case ":path":
					r.req.path = hf.Value
				case ":authority":
					r.req.host = hf.Value
				case "authorization":
					r.req.authorization = hf.Value
				case "ttl":
					r.req.ttl = hf.Value
				case "content-encoding":
					r.req.contentEncoding = hf.Value
				case "topic":
					r.req.topic = hf.Value
				case "urgency":
					r.req.urgency = hf.Value
				}
			}
			open[id] = r
			if f.StreamEnded() {
				err = finish(id)
			}
		case *http2.DataFrame:
			// Flow control counts the whole frame, padding included.
			consumed += int(f.Header().Length)
			if consumed >= connWindowStep/2 {
				err = fr.WriteWindowUpdate(0, uint32(consumed))
				consumed = 0
			}
			r := open[f.StreamID]
			if r == nil || err != nil {
				break // a stream already answered or reset
			}
			// Keep one byte past the limit: accept then answers 413.
			if room := 4097 - len(r.body); room > 0 {
				d := f.Data() // the framer reuses this buffer: copy out
				r.body = append(r.body, d[:min(len(d), room)]...)
			}
			if f.StreamEnded() {
				err = finish(f.StreamID)
			}
		case *http2.RSTStreamFrame:
			delete(open, f.StreamID)
		case *http2.GoAwayFrame:
			_ = bw.Flush()
			return
		}
		if err != nil {
			return
		}
	}
}
