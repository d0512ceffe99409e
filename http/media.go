package http

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/media"
)

// Media defaults (issue 13).
const (
	DefaultMaxImageBytes    = 16 << 20
	DefaultMaxVideoBytes    = 100 << 20
	DefaultMaxAudioBytes    = 16 << 20
	DefaultMaxDocumentBytes = 100 << 20
	DefaultMediaDailyQuota  = 1 << 30
	DefaultUploadTimeout    = 10 * time.Minute
)

// MediaConfig configures uploads and their serving. Without Blobs, media
// routes answer 404 and updates can't carry media.
type MediaConfig struct {
	Blobs herald.BlobStore
	// TempDir receives uploads while they are processed ("" : os.TempDir()).
	TempDir string
	// Per-type size limits in bytes (0: the defaults above).
	MaxImage, MaxVideo, MaxAudio, MaxDocument int64
	// DailyQuota is the bytes a channel may upload per 24 h (0: default; <0: none).
	DailyQuota int64
	// UploadTimeout bounds one upload's body (the server's read timeout is
	// far shorter; uploads get their own deadline).
	UploadTimeout time.Duration
	// Processor handles video and audio; nil refuses them.
	Processor AVProcessor
	// HEIF decodes HEIC/HEIF and AVIF photos; nil refuses them.
	HEIF HEIFDecoder
}

// HEIFDecoder writes a HEIF/AVIF photo's picture to a temporary file the
// image pipeline reads (media.HEIF).
type HEIFDecoder interface {
	Decode(ctx context.Context, src *os.File, tmpDir string) (string, error)
}

// AVProcessor strips and measures video and audio (media.FFmpeg).
type AVProcessor interface {
	Process(ctx context.Context, src *os.File, typ, mime, tmpDir string) (*media.Result, error)
}

func (c *MediaConfig) withDefaults() {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxImage, DefaultMaxImageBytes)
	def(&c.MaxVideo, DefaultMaxVideoBytes)
	def(&c.MaxAudio, DefaultMaxAudioBytes)
	def(&c.MaxDocument, DefaultMaxDocumentBytes)
	if c.DailyQuota == 0 {
		c.DailyQuota = DefaultMediaDailyQuota
	} else if c.DailyQuota < 0 {
		c.DailyQuota = 0
	}
	if c.UploadTimeout <= 0 {
		c.UploadTimeout = DefaultUploadTimeout
	}
	if c.TempDir == "" {
		c.TempDir = os.TempDir()
	}
}

func (c *MediaConfig) limit(typ string) int64 {
	switch typ {
	case herald.MediaImage:
		return c.MaxImage
	case herald.MediaVideo:
		return c.MaxVideo
	case herald.MediaAudio:
		return c.MaxAudio
	}
	return c.MaxDocument
}

func (c *MediaConfig) maxAny() int64 { return max(c.MaxImage, c.MaxVideo, c.MaxAudio, c.MaxDocument) }

var (
	errMediaOff = herald.KindErrorf(herald.ENOTFOUND, "media-disabled", "This server does not store media.")
	errNoFile   = herald.KindErrorf(herald.EINVALID, "missing-file", "Send the file as the body, or as a multipart/form-data part named \"file\".")
	errEmpty    = herald.KindErrorf(herald.EINVALID, "empty-file", "The file is empty.")
	errNoAV     = herald.KindErrorf(herald.EINVALID, "media-unsupported", "This server can't process video or audio (ffmpeg is not installed).")
)

func errMediaTooLarge(typ string, limit int64) error {
	return herald.KindErrorf(herald.ETOOLARGE, "media-too-large", "A %s may be at most %d MB.", typ, limit>>20)
}

// quotaError is a 429 for an exhausted daily quota: retry in an hour.
func quotaError(err error) error {
	var he *herald.Error
	if errors.As(err, &he) && he.Code == herald.ERATELIMIT {
		return &retryError{err: he, after: time.Hour}
	}
	return err
}

// handleUploadMedia stores an upload to a channel (admins): the body is
// streamed to a temporary file, never held in memory; its type comes from
// its bytes; images are re-encoded without metadata.
func (s *Server) handleUploadMedia(w http.ResponseWriter, r *http.Request) error {
	m, err := s.receiveMedia(w, r, false)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, m)
}

// handleSetAvatar makes an uploaded image the channel's avatar (admins):
// cropped square, 512 and 128 px, without metadata.
func (s *Server) handleSetAvatar(w http.ResponseWriter, r *http.Request) error {
	m, err := s.receiveMedia(w, r, true)
	if err != nil {
		return err
	}
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	ch, err := s.Store.SetChannelAvatar(r.Context(), a.ID, m.ChannelID, m.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ch)
}

// handleDeleteAvatar removes the channel's avatar (admins); its files are
// erased by the erase loop.
func (s *Server) handleDeleteAvatar(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	ch, err := s.Store.SetChannelAvatar(r.Context(), a.ID, id, "")
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ch)
}

var errAvatarNotImage = herald.KindErrorf(herald.EINVALID, "invalid-image", "An avatar must be a JPEG, PNG, WebP or GIF image.")

// receiveMedia streams an upload to a temporary file, checks it, records
// and processes it (as an avatar if asked).
func (s *Server) receiveMedia(w http.ResponseWriter, r *http.Request, avatar bool) (*herald.Media, error) {
	if s.media.Blobs == nil {
		return nil, errMediaOff
	}
	// An upload is an admin's, or a channel key's with the media scope
	// (never an avatar: that stays a person's).
	var actor, channelID string
	var err error
	if avatar {
		var a *herald.Account
		a, channelID, err = s.accountAndChannel(r)
		if a != nil {
			actor = a.ID
		}
	} else {
		actor, channelID, err = s.channelActor(r, herald.ScopeMedia)
	}
	if err != nil {
		return nil, err
	}
	if err := s.rateLimit(s.clientAddr(r), s.limits.postAddr, s.limits.postAccount, actor); err != nil {
		return nil, err
	}
	// Authorize and check the quota before reading a byte of the body. A
	// key was checked against its channel and scope by channelActor.
	if _, isKey := herald.KeyOfActor(actor); !isKey {
		ch, err := s.Store.FindChannel(r.Context(), actor, channelID)
		if err != nil {
			return nil, err
		}
		if !ch.Viewer.IsAdmin() {
			return nil, herald.KindErrorf(herald.EFORBIDDEN, "not-admin", "Only the channel's admins may do this.")
		}
		channelID = ch.ID
	}
	if q := s.media.DailyQuota; q > 0 {
		used, err := s.Store.MediaUsage(r.Context(), channelID, s.clock.Now().Add(-24*time.Hour))
		if err != nil {
			return nil, err
		}
		if used >= q || r.ContentLength > 0 && used+r.ContentLength > q+multipartSlack {
			return nil, quotaError(herald.KindErrorf(herald.ERATELIMIT, "upload-quota", "This channel's daily upload quota is used up."))
		}
	}
	if r.ContentLength > s.media.maxAny()+multipartSlack {
		return nil, errMediaTooLarge("file", s.media.maxAny())
	}
	// The server's read timeout is for small requests; an upload gets its own.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.media.UploadTimeout))
	body := http.MaxBytesReader(w, r.Body, s.media.maxAny()+multipartSlack)
	src, name, err := uploadPart(r, body)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(s.media.TempDir, "herald-upload-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, io.LimitReader(src, s.media.maxAny()+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errMediaTooLarge("file", s.media.maxAny())
		}
		return nil, herald.KindErrorf(herald.EINVALID, "upload-interrupted", "The upload was interrupted.")
	}
	if n == 0 {
		return nil, errEmpty
	}
	typ, mimeType, err := media.Sniff(tmp)
	if err != nil {
		return nil, err
	}
	if limit := s.media.limit(typ); n > limit {
		return nil, errMediaTooLarge(typ, limit)
	}
	if avatar && typ != herald.MediaImage {
		return nil, errAvatarNotImage
	}
	if (typ == herald.MediaVideo || typ == herald.MediaAudio) && s.media.Processor == nil {
		return nil, errNoAV
	}
	if media.IsHEIF(mimeType) && s.media.HEIF == nil {
		return nil, media.ErrHEIFUnsupported(mimeType)
	}
	m := &herald.Media{ID: herald.NewID(), Type: typ, MIME: mimeType, Size: n, State: herald.MediaProcessing}
	if typ == herald.MediaDocument {
		m.Name = cleanFileName(name)
	}
	// The record first: a crash from here on leaves a record the prune
	// loop erases with whatever files were stored, never a lost file.
	if err := s.Store.CreateMedia(r.Context(), actor, channelID, m, s.media.DailyQuota); err != nil {
		return nil, quotaError(err)
	}
	if err := s.processMedia(r.Context(), tmp, m, avatar); err != nil {
		if ferr := s.Store.ForgetMedia(context.WithoutCancel(r.Context()), []string{m.ID}); ferr != nil {
			s.logger.Warn("media: forgetting a failed upload", "err", ferr)
		}
		return nil, err
	}
	return m, nil
}

// multipartSlack is what multipart framing may add to a file's size.
const multipartSlack = 64 << 10

// uploadPart returns the file of a request: the body itself, or the part
// named "file" of a multipart/form-data body, with its file name.
func uploadPart(r *http.Request, body io.Reader) (io.Reader, string, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return body, r.URL.Query().Get("name"), nil
	}
	mr := multipart.NewReader(body, params["boundary"])
	for i := 0; i < 8; i++ { // skip a few other fields, no more
		p, err := mr.NextPart()
		if err != nil {
			return nil, "", errNoFile
		}
		if p.FormName() == "file" {
			return p, p.FileName(), nil
		}
	}
	return nil, "", errNoFile
}

// cleanFileName keeps a document's base name, without controls, bounded.
func cleanFileName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if !utf8.ValidString(name) || name == "." || name == ".." || name == "/" {
		return ""
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' {
			return -1
		}
		return r
	}, name)
	if utf8.RuneCountInString(name) > herald.MediaNameMaxLen {
		// Cut the stem, not the extension: the name is what a reader's
		// system opens the download with.
		ext := []rune(filepath.Ext(name))
		if len(ext) > 16 {
			ext = nil
		}
		stem := []rune(strings.TrimSuffix(name, string(ext)))
		name = string(stem[:herald.MediaNameMaxLen-len(ext)]) + string(ext)
	}
	return strings.TrimSpace(name)
}

// processMedia makes the renditions, stores them and records the result.
// Video and audio are processed off the request path: the media is
// answered in the "processing" state.
func (s *Server) processMedia(ctx context.Context, tmp *os.File, m *herald.Media, avatar bool) error {
	var res *media.Result
	var err error
	if media.IsHEIF(m.MIME) {
		// The decoded picture replaces the upload for the image pipeline.
		dec, err := s.media.HEIF.Decode(ctx, tmp, s.media.TempDir)
		if err != nil {
			return err
		}
		defer os.Remove(dec)
		if tmp, err = os.Open(dec); err != nil {
			return err
		}
		defer tmp.Close()
	}
	switch {
	case avatar:
		res, err = media.Avatar(ctx, tmp, m.MIME, s.media.TempDir)
	case m.Type == herald.MediaImage:
		res, err = media.Image(ctx, tmp, m.MIME, s.media.TempDir)
	case m.Type == herald.MediaDocument:
		res = media.Document(tmp, m.MIME, m.Size)
	default:
		return s.processAV(ctx, tmp, m)
	}
	if err != nil {
		return err
	}
	if m.Type != herald.MediaDocument {
		defer res.Remove()
	}
	return s.storeResult(ctx, m, res)
}

// storeResult puts a result's files in the blob store and records it ready.
func (s *Server) storeResult(ctx context.Context, m *herald.Media, res *media.Result) error {
	var put []string
	fail := func(err error) error {
		if derr := s.media.Blobs.Delete(context.WithoutCancel(ctx), put...); derr != nil {
			s.logger.Warn("media: removing the files of a failed upload", "err", derr)
		}
		return err
	}
	for _, f := range res.Files {
		fh, err := os.Open(f.Path)
		if err != nil {
			return fail(err)
		}
		key := herald.BlobKey(m.ID, f.Variant)
		put = append(put, key)
		err = s.media.Blobs.Put(ctx, key, fh, f.Size, f.MIME)
		fh.Close()
		if err != nil {
			return fail(err)
		}
		if f.Variant == "original" {
			m.Size = f.Size
		}
	}
	m.Type, m.MIME, m.Width, m.Height, m.Duration, m.Blurhash = res.Type, res.MIME, res.Width, res.Height, res.Duration, res.Blurhash
	m.Variants, m.State = res.Variants(), herald.MediaReady
	if err := s.Store.FinishMedia(ctx, m); err != nil {
		return fail(err)
	}
	return nil
}

// processAV hands video and audio to the processor in the background: the
// upload is copied aside first, since the request's file goes with it.
func (s *Server) processAV(ctx context.Context, tmp *os.File, m *herald.Media) error {
	own, err := os.CreateTemp(s.media.TempDir, "herald-av-*")
	if err != nil {
		return err
	}
	_, err = tmp.Seek(0, io.SeekStart)
	if err == nil {
		_, err = io.Copy(own, tmp)
	}
	if err != nil {
		own.Close()
		os.Remove(own.Name())
		return err
	}
	job := *m
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer os.Remove(own.Name())
		defer own.Close()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Minute)
		defer cancel()
		res, err := s.media.Processor.Process(ctx, own, job.Type, job.MIME, s.media.TempDir)
		if err == nil {
			err = s.storeResult(ctx, &job, res)
			res.Remove()
		}
		if err != nil {
			s.logger.LogAttrs(ctx, slog.LevelWarn, "media: processing failed", slog.String("type", job.Type), slog.String("err", err.Error()))
			job.State = herald.MediaFailed
			_ = s.Store.FinishMedia(ctx, &job)
		}
	}()
	return nil
}

// WaitMedia waits for background media processing to finish (shutdown, tests).
func (s *Server) WaitMedia() { s.bg.Wait() }

// variantMIME is the type a rendition is served with.
func variantMIME(m *herald.Media, variant string) string {
	if variant == "original" {
		return m.MIME
	}
	return "image/jpeg"
}

var errMediaSignature = herald.KindErrorf(herald.EFORBIDDEN, "media-link-invalid",
	"This media link has expired or is not valid: reload the channel for a new one.")

// findServedMedia finds the media a request may read: with a valid signed
// URL (expires, sig) whoever asks, else as the request's viewer. A link
// with a signature that is expired or tampered with, and no session that
// could read the media, is refused with a 403. until is when a signed
// link expires (zero without one).
func (s *Server) findServedMedia(r *http.Request, id, variant string) (acc *herald.MediaAccess, until time.Time, err error) {
	q := r.URL.Query()
	sig, expires := q.Get("sig"), q.Get("expires")
	if sig != "" {
		key, err := s.Store.MediaURLKey(r.Context())
		if err != nil {
			return nil, time.Time{}, err
		}
		if herald.VerifyMediaURL(key, id, variant, expires, sig, s.clock.Now()) {
			exp, _ := strconv.ParseInt(expires, 10, 64)
			acc, err := s.Store.FindSignedMedia(r.Context(), id)
			return acc, time.Unix(exp, 0), err
		}
	}
	viewer, err := s.viewerID(r)
	if err != nil {
		return nil, time.Time{}, err
	}
	acc, err = s.Store.FindMedia(r.Context(), viewer, id)
	var he *herald.Error
	if sig != "" && errors.As(err, &he) && he.Code == herald.ENOTFOUND {
		return nil, time.Time{}, errMediaSignature
	}
	return acc, time.Time{}, err
}

// handleMedia serves a rendition: Range requests, an ETag, immutable
// caching (a media id's bytes never change). A listed channel's media is
// public; an unlisted one's needs a signed URL (the API gives those) or a
// follower's or admin's session.
// Anything but an image, video or audio is a download under a sandbox.
func (s *Server) handleMedia(w http.ResponseWriter, r *http.Request) error {
	if s.media.Blobs == nil {
		return errMediaOff
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	variant := r.PathValue("variant")
	acc, until, err := s.findServedMedia(r, id, variant)
	if err != nil {
		return err
	}
	m := acc.Media
	if m.State != herald.MediaReady || !m.HasVariant(variant) {
		return herald.KindErrorf(herald.ENOTFOUND, "media-not-found", "Media not found.")
	}
	etag := `"` + m.ID + "-" + variant + `"`
	h := w.Header()
	cache := func() {
		switch {
		case acc.Listed:
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		case !until.IsZero():
			// The URL is the credential: private caches may keep it until it expires.
			h.Set("Cache-Control", "private, max-age="+strconv.FormatInt(max(int64(until.Sub(s.clock.Now())/time.Second), 0), 10)+", immutable")
		default:
			h.Set("Cache-Control", "private, max-age=31536000, immutable")
			h.Set("Vary", "Cookie, Authorization")
		}
	}
	// A media's bytes never change: a revalidation is answered without
	// opening the file (on S3, without a request to the bucket).
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && etagListed(r.Header.Get("If-None-Match"), etag) {
		h.Set("ETag", etag)
		cache()
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	blob, err := s.media.Blobs.Get(r.Context(), herald.BlobKey(m.ID, variant))
	if err != nil {
		return err
	}
	defer blob.Close()
	h.Set("Content-Type", variantMIME(m, variant))
	h.Set("ETag", etag)
	cache()
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if m.Type == herald.MediaDocument {
		name := m.Name
		if name == "" {
			name = m.ID
		}
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	}
	var content io.ReadSeeker = blob
	if f, ok := blob.(interface{ OSFile() *os.File }); ok {
		content = f.OSFile() // a plain file: the kernel copies it (sendfile)
	}
	http.ServeContent(w, r, "", time.Time{}, content)
	return nil
}

// etagListed reports whether an If-None-Match header names etag (weakly,
// as RFC 9110 has it for this header) or is "*".
func etagListed(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
