package serve

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/media"
	"github.com/heraldhq/herald/s3"
)

// openBlobs opens where media files live: --s3-endpoint's bucket, checked
// reachable, or --media-dir (default <data>/media). Several nodes on a
// local directory each see only their own uploads: that is allowed (the
// directory may be shared storage) but said once at start.
func (s *Server) openBlobs(ctx context.Context) (herald.BlobStore, error) {
	cfg := s.Config
	if cfg.S3Endpoint != "" {
		secret := cfg.S3SecretKey
		if cfg.S3SecretKeyFile != "" {
			b, err := os.ReadFile(cfg.S3SecretKeyFile)
			if err != nil {
				return nil, fmt.Errorf("--s3-secret-key-file: %w", err)
			}
			if secret = strings.TrimSpace(string(b)); secret == "" {
				return nil, fmt.Errorf("--s3-secret-key-file %s is empty", cfg.S3SecretKeyFile)
			}
		}
		bucket, err := s3.New(s3.Config{
			Endpoint:  cfg.S3Endpoint,
			Bucket:    cfg.S3Bucket,
			Region:    cfg.S3Region,
			AccessKey: cfg.S3AccessKey,
			SecretKey: secret,
		})
		if err != nil {
			return nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := bucket.Check(cctx); err != nil {
			return nil, err
		}
		if versioned, err := bucket.Versioned(cctx); err != nil {
			s.Logger.Debug("media: could not read the bucket's versioning", "err", err)
		} else if versioned {
			s.Logger.Warn("media: the bucket keeps old versions: erased media stay as noncurrent versions until a lifecycle rule removes them; turn versioning off", "bucket", cfg.S3Bucket)
		}
		s.Logger.Info("media: stored in an S3 bucket", "endpoint", cfg.S3Endpoint, "bucket", cfg.S3Bucket)
		return bucket, nil
	}
	dir := cfg.MediaDir
	if dir == "" {
		dir = filepath.Join(cfg.DataDir, "media")
	}
	blobs, err := media.NewDir(dir)
	if err != nil {
		return nil, fmt.Errorf("media directory: %w", err)
	}
	if cfg.Postgres != "" {
		s.Logger.Warn("media: stored in a local directory while running on PostgreSQL: other nodes can't serve this node's uploads unless every node mounts the same directory; use --s3-endpoint and --s3-bucket", "dir", dir)
	}
	return blobs, nil
}
