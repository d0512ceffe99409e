// Package options reads a command's settings from one table. Each row
// names a flag, the environment variable standing for it, its default and
// help, and how to parse a value into the typed field it fills. A flag
// beats its environment variable, which beats the default; a value that
// does not parse is an error naming the flag or variable it came from.
//
// The table is the only place the commands read the environment: Env is
// passed in, so tests give their own.
package options

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Option is one row of a table.
type Option struct {
	Flag    string // without dashes; "" for an environment variable only
	Env     string // HERALD_*; "" for a flag only
	Default string // as it would be written on the command line
	Help    string
	// Set parses a value and stores it. Its error says what was wanted
	// ("want a duration such as 1m"); Parse adds where the value came from.
	Set func(string) error
	// Bool marks a flag given without a value (--json).
	Bool bool
}

// Env looks up an environment variable.
type Env func(name string) (string, bool)

// OS is the process environment.
func OS() Env { return os.LookupEnv }

// NoEnv is an empty environment.
func NoEnv(string) (string, bool) { return "", false }

// Error is a value that did not parse.
type Error struct {
	Source string // "--retention" or "HERALD_RETENTION"
	Value  string
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %q: %v", e.Source, e.Value, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Parse sets every option of table from its default, then its environment
// variable, then args, and returns the arguments after the flags. name is
// the command ("herald serve") for usage, written to out on -h or a bad
// flag. -h gives flag.ErrHelp.
func Parse(name string, table []Option, args []string, env Env, out io.Writer) ([]string, error) {
	if env == nil {
		env = NoEnv
	}
	for _, o := range table {
		src, v := "default of --"+o.Flag, o.Default
		if o.Flag == "" {
			src = "default of " + o.Env
		}
		if o.Env != "" {
			if ev, ok := env(o.Env); ok {
				src, v = o.Env, ev
			}
		}
		if err := o.Set(v); err != nil {
			return nil, &Error{Source: src, Value: v, Err: err}
		}
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { Usage(out, name, table) }
	var bad *Error
	for _, o := range table {
		if o.Flag == "" {
			continue
		}
		set := func(v string) error {
			if err := o.Set(v); err != nil {
				if bad == nil {
					bad = &Error{Source: "--" + o.Flag, Value: v, Err: err}
				}
				return err
			}
			return nil
		}
		if o.Bool {
			fs.BoolFunc(o.Flag, o.Help, set)
		} else {
			fs.Func(o.Flag, o.Help, set)
		}
	}
	if err := fs.Parse(args); err != nil {
		if bad != nil {
			return nil, bad
		}
		return nil, err
	}
	return fs.Args(), nil
}

// Usage writes the table as help: each flag, its variable and default.
func Usage(w io.Writer, name string, table []Option) {
	fmt.Fprintf(w, "Usage: %s [flags]\n\n", name)
	for _, o := range table {
		head := "  --" + o.Flag
		if o.Flag == "" {
			head = "  " + o.Env
		} else if !o.Bool {
			head += " VALUE"
		}
		fmt.Fprintf(w, "%s\n      %s\n", head, o.Help)
		var meta []string
		if o.Env != "" && o.Flag != "" {
			meta = append(meta, "env "+o.Env)
		}
		if o.Default != "" {
			meta = append(meta, "default "+o.Default)
		}
		if len(meta) > 0 {
			fmt.Fprintf(w, "      (%s)\n", strings.Join(meta, ", "))
		}
	}
}

// String stores the value as is.
func String(p *string) func(string) error {
	return func(v string) error { *p = v; return nil }
}

// OneOf stores the value if it is one of allowed.
func OneOf(p *string, allowed ...string) func(string) error {
	return func(v string) error {
		for _, a := range allowed {
			if v == a {
				*p = v
				return nil
			}
		}
		return fmt.Errorf("want %s", strings.Join(allowed, " or "))
	}
}

// Bool parses true/false (1/0, yes/no).
func Bool(p *bool) func(string) error {
	return func(v string) error {
		switch strings.ToLower(v) {
		case "yes", "on":
			v = "true"
		case "no", "off", "":
			v = "false"
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("want true or false")
		}
		*p = b
		return nil
	}
}

// Duration parses a duration of at least min ("" is 0, if min allows it).
func Duration(p *time.Duration, min time.Duration) func(string) error {
	return func(v string) error {
		d := time.Duration(0)
		if v != "" {
			var err error
			if d, err = time.ParseDuration(v); err != nil {
				return fmt.Errorf("want a duration such as 30s or 720h")
			}
		}
		if d < min {
			if min == 1 {
				return errors.New("want a positive duration such as 30s or 720h")
			}
			return fmt.Errorf("want a duration of at least %s", min)
		}
		*p = d
		return nil
	}
}

// Int parses a whole number of at least min.
func Int(p *int, min int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < min {
			return fmt.Errorf("want a whole number, at least %d", min)
		}
		*p = n
		return nil
	}
}

// List splits a comma-separated list, dropping empty items.
func List(p *[]string) func(string) error {
	return func(v string) error { *p = SplitList(v); return nil }
}

// SplitList splits "a, b,,c" into [a b c].
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Prefixes parses "CIDR[,CIDR...]"; a bare address means just it.
func Prefixes(p *[]netip.Prefix) func(string) error {
	return func(v string) error {
		var out []netip.Prefix
		for _, s := range SplitList(v) {
			if !strings.Contains(s, "/") {
				a, err := netip.ParseAddr(s)
				if err != nil {
					return fmt.Errorf("%q is not an address or CIDR", s)
				}
				out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
				continue
			}
			pf, err := netip.ParsePrefix(s)
			if err != nil {
				return fmt.Errorf("%q is not a CIDR", s)
			}
			out = append(out, pf.Masked())
		}
		*p = out
		return nil
	}
}
