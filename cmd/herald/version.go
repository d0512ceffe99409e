package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at build time by scripts/release:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=abc123 -X main.buildDate=2026-01-02T03:04:05Z"
//
// Left empty, they come from the build information the go command records
// (the module version, vcs.revision and vcs.time).
var version, commit, buildDate string

// buildInfo is the version, commit and build date of this binary.
func buildInfo() (v, c, d string) {
	v, c, d = version, commit, buildDate
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if c == "" {
					c = s.Value
				}
			case "vcs.time":
				if d == "" {
					d = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && commit == "" && c != "" {
			c += "-dirty" // built from a work tree with uncommitted changes
		}
	}
	if v == "" {
		v = "devel"
	}
	if c == "" {
		c = "unknown"
	}
	if d == "" {
		d = "unknown"
	}
	return v, c, d
}

func versionCommand(_ context.Context, a *app, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("usage: herald version (takes no arguments)")
	}
	v, c, d := buildInfo()
	fmt.Fprintf(a.stdout, "herald %s\ncommit %s\nbuilt %s\n%s %s/%s\n", v, c, d, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
