// Command herald is Herald's one binary: the server (herald serve), a CLI
// for publishers and scripts, and load benchmarks (herald bench NAME).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// commands maps each subcommand to its implementation. Each file adds its
// own commands in init(), so nobody edits a shared switch.
var commands = map[string]func(ctx context.Context, args []string) error{}

// commandHelp is a one-line description per command, for usage.
var commandHelp = map[string]string{}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "herald:", strings.TrimPrefix(err.Error(), "herald: "))
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return flag.ErrHelp
		}
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		usage()
		return fmt.Errorf("unknown command %q", args[0])
	}
	return cmd(ctx, args[1:])
}

func usage() {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(os.Stderr, "Usage: herald COMMAND [flags] [args]\n\nCommands:")
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commandHelp[n])
	}
	fmt.Fprintln(os.Stderr, "\nRun 'herald COMMAND -h' for a command's flags.")
}

// envOr returns the environment variable name, or def when it is unset.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
