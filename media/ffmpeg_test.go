package media

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

// needFFmpeg returns the processor, skipping (or failing in CI) without it.
func needFFmpeg(t testing.TB) *FFmpeg {
	t.Helper()
	need(t, "ffmpeg", "ffmpeg")
	need(t, "ffprobe", "ffmpeg")
	ff, err := FindFFmpeg()
	if err != nil {
		t.Fatal(err)
	}
	return ff
}

// gpsVideo makes a 2-second MP4 (H.264 + AAC) carrying a location, a
// camera make and model and a title, as phones write them.
func gpsVideo(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "gps.mp4")
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-y",
		"-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=10", "-f", "lavfi", "-i", "sine=duration=2",
		"-shortest", "-c:v", "libx264", "-c:a", "aac",
		"-metadata", "location=+48.8584+002.2945/", "-metadata", "make=SecretCam", "-metadata", "model=Spy 3000",
		"-metadata", "title=at home", "-movflags", "use_metadata_tags", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v %s", err, out)
	}
	return p
}

var videoSecrets = []string{"48.8584", "SecretCam", "Spy 3000", "at home", "Lavf", "Lavc", "x264"}

func TestVideoStripsMetadata(t *testing.T) {
	ff := needFFmpeg(t)
	exiftool := need(t, "exiftool", "libimage-exiftool-perl")
	dir := t.TempDir()
	p := gpsVideo(t, dir)
	before, _ := exec.Command(exiftool, "-a", "-G1", p).CombinedOutput()
	if !strings.Contains(string(before), "SecretCam") || !strings.Contains(string(before), "GPS Latitude") {
		t.Fatalf("the test video lacks its tags:\n%s", before)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	typ, mime, err := Sniff(f)
	if err != nil || typ != herald.MediaVideo || mime != "video/mp4" {
		t.Fatalf("Sniff = %s %s %v", typ, mime, err)
	}
	res, err := ff.Process(context.Background(), f, typ, mime, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Remove()
	if res.Width != 320 || res.Height != 240 || res.Duration < 1.9 || res.Duration > 2.2 || res.MIME != "video/mp4" || res.Blurhash == "" {
		t.Fatalf("result = %+v", res)
	}
	orig := file(t, res, "original")
	meta, _ := exec.Command(exiftool, "-a", "-G1", orig.Path).CombinedOutput()
	probe, _ := exec.Command("ffprobe", "-v", "error", "-show_format", "-show_streams", orig.Path).CombinedOutput()
	raw, _ := os.ReadFile(orig.Path)
	for _, s := range append(videoSecrets, "GPS", "Location") {
		if strings.Contains(string(meta), s) {
			t.Errorf("exiftool still finds %q:\n%s", s, meta)
		}
		if strings.Contains(string(probe), s) {
			t.Errorf("ffprobe still finds %q:\n%s", s, probe)
		}
	}
	for _, s := range videoSecrets {
		if strings.Contains(string(raw), s) {
			t.Errorf("the bytes still contain %q", s)
		}
	}
	if poster := file(t, res, "poster"); poster.MIME != "image/jpeg" {
		t.Fatalf("poster = %+v", poster)
	} else if img := decodeFile(t, poster.Path); img.Bounds().Dx() != 320 {
		t.Fatalf("poster is %v", img.Bounds())
	}
}

func TestAudioStripsMetadata(t *testing.T) {
	ff := needFFmpeg(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "voice.ogg")
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=duration=1",
		"-c:a", "libopus", "-metadata", "artist=Jane Doe", "-metadata", "location=+48.8584+002.2945/", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v %s", err, out)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	typ, mime, err := Sniff(f)
	if err != nil || typ != herald.MediaAudio {
		t.Fatalf("Sniff = %s %s %v", typ, mime, err)
	}
	res, err := ff.Process(context.Background(), f, typ, mime, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Remove()
	if res.MIME != "audio/ogg" || res.Duration < 0.9 || len(res.Files) != 1 {
		t.Fatalf("result = %+v", res)
	}
	raw, _ := os.ReadFile(file(t, res, "original").Path)
	for _, s := range []string{"Jane Doe", "48.8584", "Lavf"} {
		if strings.Contains(string(raw), s) {
			t.Errorf("the audio still contains %q", s)
		}
	}
}
