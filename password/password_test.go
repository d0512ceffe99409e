package password

import (
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h := NewHasher(TestParams)
	enc, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("unexpected PHC string %q", enc)
	}
	if ok, err := h.Verify("correct horse battery", enc); err != nil || !ok {
		t.Fatalf("Verify(right) = %v, %v", ok, err)
	}
	if ok, err := h.Verify("correct horse batterY", enc); err != nil || ok {
		t.Fatalf("Verify(wrong) = %v, %v", ok, err)
	}
	enc2, _ := h.Hash("correct horse battery")
	if enc2 == enc {
		t.Fatal("two hashes of the same password must differ (salt)")
	}
}

func TestDefaultParamsPHC(t *testing.T) {
	h := NewHasher(DefaultParams)
	enc, err := h.Hash("a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected PHC string %q", enc)
	}
	// A hash made with other parameters still verifies: they are read from the string.
	ok, err := NewHasher(TestParams).Verify("a long enough password", enc)
	if err != nil || !ok {
		t.Fatalf("cross-parameter Verify = %v, %v", ok, err)
	}
}

func TestMalformed(t *testing.T) {
	h := NewHasher(TestParams)
	for _, s := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!!$a2V5a2V5a2V5a2V5a2V5",
	} {
		if _, err := h.Verify("x", s); err != ErrMalformed {
			t.Errorf("Verify(%q) err = %v, want ErrMalformed", s, err)
		}
	}
}
