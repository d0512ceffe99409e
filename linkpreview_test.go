package herald

import (
	"strings"
	"testing"
)

func TestFirstURL(t *testing.T) {
	for text, want := range map[string]string{
		"no link":                                   "",
		"see https://a.example/x.":                  "https://a.example/x",
		"(https://a.example/wiki/Foo_(bar))":        "https://a.example/wiki/Foo_(bar)",
		"(see https://a.example/x)":                 "https://a.example/x",
		"http://one.example https://two.example":    "http://one.example",
		"«https://a.example/é?q=1»":                 "https://a.example/é?q=1",
		"ftp://a.example then https://b.example!":   "https://b.example",
		"xhttps://a.example":                        "",
		"https://":                                  "",
		"https://user:pw@a.example/":                "",
		"link:https://a.example/path,":              "https://a.example/path",
		"https://" + strings.Repeat("a", 3000):      "",
		"javascript:alert(1) https://ok.example/ok": "https://ok.example/ok",
	} {
		if got := FirstURL(text); got != want {
			t.Errorf("FirstURL(%q) = %q, want %q", text, got, want)
		}
	}
}
