// Package s3 keeps media files in an S3-compatible bucket (AWS S3, MinIO,
// SeaweedFS, Garage, R2...): the herald.BlobStore several nodes share.
// Files are proxied through the server, never redirected to the bucket, so
// media keep Herald's URLs, access checks and caching headers.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/heraldhq/herald"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Config says which bucket to use and how to reach it.
type Config struct {
	// Endpoint is the service's URL, e.g. https://s3.eu-west-1.amazonaws.com
	// or http://127.0.0.1:8333; http only for a service on a trusted network.
	Endpoint string
	Bucket   string
	Region   string // "" lets the client ask the service
	// AccessKey and SecretKey; both empty: the AWS environment variables,
	// shared credentials file or instance role, in that order.
	AccessKey, SecretKey string
	// PartSize is the size of each part of a multipart upload (files larger
	// than it are sent in parts, one at a time); 0: 16 MiB.
	PartSize uint64
	// Transport, if set, replaces the default HTTP transport (tests).
	Transport http.RoundTripper
}

// Bucket is a herald.BlobStore in an S3 bucket: key "id/variant" is the
// object of that name.
type Bucket struct {
	client   *minio.Client
	core     minio.Core
	bucket   string
	partSize uint64
}

var _ herald.BlobStore = (*Bucket)(nil)

// DefaultPartSize is the multipart part size: the client streams one part
// at a time from the file, so memory does not grow with the file's size.
const DefaultPartSize = 16 << 20

// New connects to a bucket; it does not check that the bucket exists
// (Check does).
func New(cfg Config) (*Bucket, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("s3: endpoint %q: want http(s)://host[:port]", cfg.Endpoint)
	}
	if cfg.Bucket == "" {
		return nil, errors.New("s3: no bucket")
	}
	var creds *credentials.Credentials
	switch {
	case cfg.AccessKey != "" && cfg.SecretKey != "":
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	case cfg.AccessKey == "" && cfg.SecretKey == "":
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
		})
	default:
		return nil, errors.New("s3: give both an access key and a secret key, or neither")
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:     creds,
		Secure:    u.Scheme == "https",
		Region:    cfg.Region,
		Transport: cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	part := cfg.PartSize
	if part == 0 {
		part = DefaultPartSize
	}
	return &Bucket{client: client, core: minio.Core{Client: client}, bucket: cfg.Bucket, partSize: part}, nil
}

// Check makes sure the bucket exists and the credentials reach it.
func (b *Bucket) Check(ctx context.Context) error {
	ok, err := b.client.BucketExists(ctx, b.bucket)
	if err != nil {
		return fmt.Errorf("s3: bucket %s: %w", b.bucket, err)
	}
	if !ok {
		return fmt.Errorf("s3: bucket %s does not exist (create it first)", b.bucket)
	}
	return nil
}

// Versioned reports whether the bucket keeps old versions: deleted objects
// would then live on as noncurrent versions, against Herald's erasure.
func (b *Bucket) Versioned(ctx context.Context) (bool, error) {
	v, err := b.client.GetBucketVersioning(ctx, b.bucket)
	if err != nil {
		return false, err
	}
	return v.Enabled(), nil
}

// Client is the underlying client (tests list and create buckets with it).
func (b *Bucket) Client() *minio.Client { return b.client }

// Name is the bucket's name.
func (b *Bucket) Name() string { return b.bucket }

// checkKey accepts the keys herald.BlobKey makes: two segments of letters,
// digits, '-' and '_'.
func checkKey(key string) error {
	id, variant, ok := strings.Cut(key, "/")
	if !ok || !safeSegment(id) || !safeSegment(variant) {
		return fmt.Errorf("s3: bad blob key %q", key)
	}
	return nil
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

// Put streams size bytes to the object: one PUT up to the part size, a
// multipart upload (aborted on failure) beyond it. An object appears whole
// or not at all.
func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	info, err := b.client.PutObject(ctx, b.bucket, key, r, size, minio.PutObjectOptions{
		ContentType: contentType,
		PartSize:    b.partSize,
		NumThreads:  1,
	})
	if err != nil {
		return fmt.Errorf("s3: put %s: %w", key, err)
	}
	if info.Size != size {
		return fmt.Errorf("s3: put %s: stored %d bytes, want %d", key, info.Size, size)
	}
	return nil
}

var errBlobNotFound = herald.KindErrorf(herald.ENOTFOUND, "media-not-found", "Media not found.")

// Get opens an object with one GET of the whole object; reading from
// another offset (a Range request) starts a ranged GET there.
func (b *Bucket) Get(ctx context.Context, key string) (herald.Blob, error) {
	if err := checkKey(key); err != nil {
		return nil, errBlobNotFound
	}
	body, info, _, err := b.core.GetObject(ctx, b.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		if isNotFound(err) {
			return nil, errBlobNotFound
		}
		return nil, fmt.Errorf("s3: get %s: %w", key, err)
	}
	return &object{b: b, ctx: ctx, key: key, size: info.Size, body: body}, nil
}

func isNotFound(err error) bool {
	resp := minio.ToErrorResponse(err)
	return resp.StatusCode == http.StatusNotFound || resp.Code == minio.NoSuchKey
}

// object is an open object: a body being read at bodyPos, and the
// position the next Read wants.
type object struct {
	b       *Bucket
	ctx     context.Context
	key     string
	size    int64
	body    io.ReadCloser
	bodyPos int64
	pos     int64
}

func (o *object) Size() int64 { return o.size }

func (o *object) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.pos
	case io.SeekEnd:
		offset += o.size
	default:
		return 0, errors.New("s3: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("s3: negative position")
	}
	o.pos = offset
	return offset, nil
}

func (o *object) Read(p []byte) (int, error) {
	if o.pos >= o.size {
		return 0, io.EOF
	}
	if o.body == nil || o.bodyPos != o.pos {
		if o.body != nil {
			o.body.Close()
			o.body = nil
		}
		opts := minio.GetObjectOptions{}
		if err := opts.SetRange(o.pos, 0); err != nil {
			return 0, err
		}
		body, _, _, err := o.b.core.GetObject(o.ctx, o.b.bucket, o.key, opts)
		if err != nil {
			return 0, fmt.Errorf("s3: get %s from %d: %w", o.key, o.pos, err)
		}
		o.body, o.bodyPos = body, o.pos
	}
	if max := o.size - o.pos; int64(len(p)) > max {
		p = p[:max]
	}
	n, err := o.body.Read(p)
	o.pos += int64(n)
	o.bodyPos += int64(n)
	if err == io.EOF && o.pos < o.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (o *object) Close() error {
	if o.body == nil {
		return nil
	}
	err := o.body.Close()
	o.body = nil
	return err
}

// Delete removes objects in batches (one request per 1,000 keys); absent
// keys are not an error.
func (b *Bucket) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	for _, key := range keys {
		if err := checkKey(key); err != nil {
			return err
		}
	}
	// Buffered and filled up front: nothing is left blocked if the client
	// stops reading early.
	ch := make(chan minio.ObjectInfo, len(keys))
	for _, key := range keys {
		ch <- minio.ObjectInfo{Key: key}
	}
	close(ch)
	var first error
	for e := range b.client.RemoveObjects(ctx, b.bucket, ch, minio.RemoveObjectsOptions{}) {
		if e.Err != nil && !isNotFound(e.Err) && first == nil {
			first = fmt.Errorf("s3: delete %s: %w", e.ObjectName, e.Err)
		}
	}
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// Keys lists every object in the bucket (tests, and the operator's check
// that nothing outlives its media).
func (b *Bucket) Keys(ctx context.Context) ([]string, error) {
	var out []string
	for obj := range b.client.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			return nil, obj.Err
		}
		out = append(out, obj.Key)
	}
	return out, nil
}
