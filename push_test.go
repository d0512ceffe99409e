package herald

import (
	"bytes"
	"strings"
	"testing"
)

func validPush() PushSubscription {
	p := bytes.Repeat([]byte{1}, PushP256DHLen)
	p[0] = 0x04
	return PushSubscription{Endpoint: "https://fcm.googleapis.com/fcm/send/abc:def", P256DH: p, Auth: make([]byte, PushAuthLen)}
}

func TestValidatePushEndpoint(t *testing.T) {
	for _, ok := range []string{
		"https://fcm.googleapis.com/fcm/send/abc:def",
		"https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
		"https://web.push.apple.com/QG9x?x=1",
		"https://[2001:db8::1]:8443/p",
		"https://push.example.net/" + strings.Repeat("a", MaxPushEndpointLen-len("https://push.example.net/")),
	} {
		s := validPush()
		s.Endpoint = ok
		if err := ValidatePushSubscription(s); err != nil {
			t.Errorf("%.60q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"", "https:", "https://", "https:///p", "https://:443/p", "https://host:/p", "http://host/p", "HTTPS://host/p",
		"wss://host/p", "//host/p", "https://user@host/p", "https://host/p#frag", "https:host/p",
		"https://host/\u00e9", "https://host/a\tb", "https://host/\x00",
		"https://push.example.net/" + strings.Repeat("a", MaxPushEndpointLen),
	} {
		s := validPush()
		s.Endpoint = bad
		if err := ValidatePushSubscription(s); ErrorKind(err) != "push-endpoint-invalid" {
			t.Errorf("%.60q: %v, want push-endpoint-invalid", bad, err)
		}
	}
}

func TestParsePushCursor(t *testing.T) {
	a, s, err := ParsePushCursor(PushCursor("acct", "sub"))
	if err != nil || a != "acct" || s != "sub" {
		t.Fatalf("round trip = %q %q %v", a, s, err)
	}
	if a, s, err := ParsePushCursor(""); err != nil || a != "" || s != "" {
		t.Fatalf("empty cursor = %q %q %v", a, s, err)
	}
	for _, bad := range []string{".", "a.", ".b", "ab", "a.b.c", strings.Repeat("a", 200) + ".b"} {
		if _, _, err := ParsePushCursor(bad); ErrorKind(err) != "invalid-cursor" {
			t.Errorf("%.30q: %v, want invalid-cursor", bad, err)
		}
	}
}

func FuzzValidatePushSubscription(f *testing.F) {
	f.Add("https://push.example.net/x", []byte{4}, []byte{1})
	f.Fuzz(func(t *testing.T, endpoint string, p256dh, auth []byte) {
		err := ValidatePushSubscription(PushSubscription{Endpoint: endpoint, P256DH: p256dh, Auth: auth})
		if err == nil {
			if len(endpoint) > MaxPushEndpointLen || !strings.HasPrefix(endpoint, "https://") || len(p256dh) != PushP256DHLen || p256dh[0] != 4 || len(auth) != PushAuthLen {
				t.Fatalf("accepted %q %x %x", endpoint, p256dh, auth)
			}
		} else if ErrorCode(err) != EINVALID {
			t.Fatalf("error %v is not EINVALID", err)
		}
	})
}
