package media

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"github.com/heraldhq/herald"
)

// FFmpeg processes video and audio with the ffmpeg and ffprobe programs:
// the streams are copied (never re-encoded when avoidable) into a new
// container without any metadata (container and stream tags, location
// atoms, encoder strings, chapters), and a video gets a JPEG poster frame.
type FFmpeg struct {
	FFmpeg, FFprobe string
}

// FindFFmpeg finds ffmpeg and ffprobe on PATH.
func FindFFmpeg() (*FFmpeg, error) {
	ff, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil, err
	}
	fp, err := exec.LookPath("ffprobe")
	if err != nil {
		return nil, err
	}
	return &FFmpeg{FFmpeg: ff, FFprobe: fp}, nil
}

// probe is what ffprobe tells of a file.
type probe struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

func (f *FFmpeg) probe(ctx context.Context, path string) (*probe, error) {
	out, err := exec.CommandContext(ctx, f.FFprobe, "-v", "error", "-print_format", "json", "-show_streams", "-show_format", path).Output()
	if err != nil {
		return nil, errBadAV
	}
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		return nil, errBadAV
	}
	return &p, nil
}

var errBadAV = herald.KindErrorf(herald.EINVALID, "invalid-media", "The video or audio could not be read.")

// container is the output format and MIME type for a sniffed type.
func container(typ, mime string) (format, ext, outMIME string) {
	switch mime {
	case "video/webm", "audio/webm":
		return "webm", ".webm", mime
	case "audio/ogg", "audio/opus":
		return "ogg", ".ogg", "audio/ogg"
	case "audio/mpeg":
		return "mp3", ".mp3", "audio/mpeg"
	case "audio/flac":
		return "flac", ".flac", "audio/flac"
	case "audio/wav", "audio/x-wav":
		return "wav", ".wav", "audio/wav"
	}
	if typ == herald.MediaAudio {
		return "ipod", ".m4a", "audio/mp4" // AAC in MP4 (M4A)
	}
	return "mp4", ".mp4", "video/mp4"
}

// Process strips and measures a video or audio file.
func (f *FFmpeg) Process(ctx context.Context, src *os.File, typ, mime, tmpDir string) (*Result, error) {
	p, err := f.probe(ctx, src.Name())
	if err != nil {
		return nil, err
	}
	res := &Result{Type: typ}
	ok := false
	defer func() {
		if !ok {
			res.Remove()
		}
	}()
	hasVideo, videoCodec := false, ""
	for _, s := range p.Streams {
		if s.CodecType == "video" && !hasVideo {
			hasVideo, videoCodec, res.Width, res.Height = true, s.CodecName, s.Width, s.Height
		}
	}
	if typ == herald.MediaVideo && !hasVideo {
		return nil, errBadAV
	}
	res.Duration, _ = strconv.ParseFloat(p.Format.Duration, 64)
	format, ext, outMIME := container(typ, mime)
	out, err := os.CreateTemp(tmpDir, "herald-av-*"+ext)
	if err != nil {
		return nil, err
	}
	out.Close()
	res.Files = append(res.Files, File{Variant: "original", Path: out.Name(), MIME: outMIME})
	args := []string{"-nostdin", "-v", "error", "-y", "-i", src.Name(),
		"-map", "0:v?", "-map", "0:a?", "-dn", "-sn",
		"-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1",
		"-c", "copy", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"}
	// Encoders write their name and settings inside the streams too: H.264
	// and HEVC in SEI units (dropped; players don't need them), AAC in a
	// fill element (re-encoded bit-exact, which writes none).
	switch videoCodec {
	case "h264":
		args = append(args, "-bsf:v", "filter_units=remove_types=6")
	case "hevc":
		args = append(args, "-bsf:v", "filter_units=remove_types=39|40")
	}
	if format == "mp4" || format == "ipod" {
		args = append(args, "-c:a", "aac", "-b:a", "160k", "-movflags", "+faststart")
	}
	if typ == herald.MediaAudio {
		args = append(args, "-vn")
	}
	args = append(args, "-f", format, out.Name())
	if msg, err := exec.CommandContext(ctx, f.FFmpeg, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ffmpeg: %v: %s", err, bytes.TrimSpace(msg))
	}
	st, err := os.Stat(out.Name())
	if err != nil {
		return nil, err
	}
	res.Files[0].Size, res.MIME = st.Size(), outMIME
	if hasVideo && typ == herald.MediaVideo {
		poster, err := os.CreateTemp(tmpDir, "herald-poster-*.jpg")
		if err != nil {
			return nil, err
		}
		poster.Close()
		res.Files = append(res.Files, File{Variant: "poster", Path: poster.Name(), MIME: "image/jpeg"})
		at := "0"
		if res.Duration > 2 {
			at = "1"
		}
		if msg, err := exec.CommandContext(ctx, f.FFmpeg, "-nostdin", "-v", "error", "-y", "-ss", at, "-i", out.Name(),
			"-frames:v", "1", "-map_metadata", "-1", "-vf", "scale='min(1280,iw)':-2", "-f", "image2", "-c:v", "mjpeg", poster.Name()).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ffmpeg poster: %v: %s", err, bytes.TrimSpace(msg))
		}
		// The poster goes through the image path too: a clean JPEG and a blurhash.
		pf, err := os.Open(poster.Name())
		if err != nil {
			return nil, err
		}
		img, err := Image(ctx, pf, "image/jpeg", tmpDir)
		pf.Close()
		if err != nil {
			return nil, err
		}
		res.Blurhash = img.Blurhash
		for _, f := range img.Files {
			if f.Variant == "1280" {
				os.Remove(poster.Name())
				res.Files[len(res.Files)-1] = File{Variant: "poster", Path: f.Path, MIME: f.MIME, Size: f.Size}
			} else {
				os.Remove(f.Path)
			}
		}
	}
	ok = true
	return res, nil
}
