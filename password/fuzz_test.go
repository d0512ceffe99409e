package password

import "testing"

// TestDecodeStrict: decode accepts the PHC strings encode writes and
// nothing that merely resembles one.
func TestDecodeStrict(t *testing.T) {
	const good = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5"
	if _, _, _, err := decode(good); err != nil {
		t.Fatalf("decode(%q): %v", good, err)
	}
	for _, s := range []string{
		"$argon2id$v=019$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19x$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=+19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=064,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=+64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1x$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1,x=2$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$t=1,m=64,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m= 64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=256$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=17,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=4294967296,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$c2Fsd\nHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", // line break
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHR$a2V5a2V5a2V5a2V5a2V5a2V5",   // stray low bits
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5",  // padding
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5",        // short salt
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5",                       // short key
		good + "$", "x" + good,
	} {
		if _, _, _, err := decode(s); err != ErrMalformed {
			t.Errorf("decode(%q) = %v, want ErrMalformed", s, err)
		}
	}
}

// FuzzDecode: decoding never panics, accepts only what it would write
// itself (a round trip), keeps its bounds, and a cheap hash it accepts
// verifies without error.
func FuzzDecode(f *testing.F) {
	h := NewHasher(TestParams)
	enc, err := h.Hash("correct horse")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{enc, "", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5",
		"$argon2id$v=19$m=064,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "$$$$$", "$argon2id$v=19$m=8,t=1,p=255$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := decode(s)
		if err != nil {
			if err != ErrMalformed || salt != nil || key != nil {
				t.Fatalf("decode(%q) = %v, %x, %x", s, err, salt, key)
			}
			return
		}
		if again := encode(p, salt, key); again != s {
			t.Fatalf("decode(%q) then encode = %q", s, again)
		}
		if p.Memory < 8 || p.Memory > 1<<20 || p.Time < 1 || p.Time > 16 || p.Threads < 1 ||
			len(salt) < 8 || len(key) < 16 || len(key) > 64 || int(p.SaltLen) != len(salt) || int(p.KeyLen) != len(key) {
			t.Fatalf("decode(%q) accepted out of bounds: %+v", s, p)
		}
		if p.Memory <= 1024 && p.Time <= 2 {
			ok, err := h.Verify("correct horse", s)
			if err != nil || s == enc && !ok {
				t.Fatalf("Verify(%q) = %v, %v", s, ok, err)
			}
		}
	})
}
