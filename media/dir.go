// Package media processes uploaded files (type sniffing, image re-encoding
// without metadata, variants, blurhash, ffmpeg for video and audio) and
// stores them: Dir keeps them in a local directory.
package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/heraldhq/herald"
)

// Dir is a herald.BlobStore in a local directory: key "id/variant" is the
// file <root>/id/variant. Writes go to a temporary file, are synced, then
// renamed into place, so a reader never sees half a file.
type Dir struct {
	root string
}

var _ herald.BlobStore = (*Dir)(nil)

// NewDir opens (creating if needed) a blob directory.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	return &Dir{root: root}, nil
}

// path checks a key (two segments of letters, digits, '-' and '_') and
// returns its file.
func (d *Dir) path(key string) (string, error) {
	id, variant, ok := strings.Cut(key, "/")
	if !ok || !safeSegment(id) || !safeSegment(variant) {
		return "", fmt.Errorf("media: bad blob key %q", key)
	}
	return filepath.Join(d.root, id, variant), nil
}

func safeSegment(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Put stores a file.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader, size int64, _ string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename, a no-op
	n, err := io.Copy(f, r)
	if err == nil && n != size {
		err = fmt.Errorf("media: put %s: wrote %d bytes, want %d", key, n, size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

type dirBlob struct {
	*os.File
	info fs.FileInfo
}

func (b dirBlob) Size() int64 { return b.info.Size() }

// OSFile lets a server send the file with sendfile(2).
func (b dirBlob) OSFile() *os.File { return b.File }

// Get opens a stored file.
func (d *Dir) Get(_ context.Context, key string) (herald.Blob, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, errBlobNotFound
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errBlobNotFound
	} else if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return dirBlob{File: f, info: info}, nil
}

var errBlobNotFound = herald.KindErrorf(herald.ENOTFOUND, "media-not-found", "Media not found.")

// Delete removes files, and a media's directory once it is empty.
func (d *Dir) Delete(_ context.Context, keys ...string) error {
	dirs := map[string]bool{}
	for _, key := range keys {
		p, err := d.path(key)
		if err != nil {
			return err
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		dirs[filepath.Dir(p)] = true
	}
	for dir := range dirs {
		// Leftover temporary files of a crashed Put go too.
		if tmp, _ := filepath.Glob(filepath.Join(dir, ".put-*")); len(tmp) > 0 {
			for _, t := range tmp {
				_ = os.Remove(t)
			}
		}
		if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) && !isNotEmpty(err) {
			return err
		}
	}
	return nil
}

func isNotEmpty(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && (errors.Is(pe.Err, fs.ErrExist) || strings.Contains(pe.Err.Error(), "not empty"))
}
