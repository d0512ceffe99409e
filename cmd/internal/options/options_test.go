package options

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	var (
		name    string
		d       time.Duration
		n       int
		on      bool
		list    []string
		envOnly string
	)
	table := []Option{
		{Flag: "name", Env: "T_NAME", Default: "x", Help: "a name", Set: String(&name)},
		{Flag: "wait", Env: "T_WAIT", Default: "1s", Help: "a wait", Set: Duration(&d, 1)},
		{Flag: "n", Default: "3", Help: "a count", Set: Int(&n, 0)},
		{Flag: "on", Bool: true, Help: "a switch", Set: Bool(&on)},
		{Flag: "list", Env: "T_LIST", Help: "a list", Set: List(&list)},
		{Env: "T_ONLY", Default: "d", Help: "env only", Set: String(&envOnly)},
	}
	env := func(kv map[string]string) Env {
		return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
	}
	var out bytes.Buffer
	rest, err := Parse("t", table, []string{"--wait", "2m", "--on", "a", "b"}, env(map[string]string{"T_NAME": "from env", "T_WAIT": "5s", "T_LIST": " a, ,b", "T_ONLY": "e"}), &out)
	if err != nil {
		t.Fatal(err)
	}
	if name != "from env" || d != 2*time.Minute || n != 3 || !on || strings.Join(list, "|") != "a|b" || envOnly != "e" || strings.Join(rest, " ") != "a b" {
		t.Fatalf("name %q d %s n %d on %v list %q envOnly %q rest %q", name, d, n, on, list, envOnly, rest)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--wait", "0s"}, nil, `--wait "0s": want a positive duration`},
		{[]string{"--n", "-1"}, nil, `--n "-1": want a whole number, at least 0`},
		{nil, map[string]string{"T_WAIT": "soon"}, `T_WAIT "soon": want a duration`},
		{[]string{"--nope"}, nil, "flag provided but not defined"},
	} {
		_, err := Parse("t", table, tc.args, env(tc.env), &out)
		var oe *Error
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.want[0] != 'f' && !errors.As(err, &oe)) {
			t.Errorf("%v %v: %v, want %q", tc.args, tc.env, err, tc.want)
		}
	}
	out.Reset()
	if _, err := Parse("t", table, []string{"-h"}, nil, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, want := range []string{"Usage: t [flags]", "--wait VALUE", "env T_WAIT, default 1s", "--on\n", "T_ONLY\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
}
