// Command herald-bench holds Herald's load benchmarks and data seeders,
// kept out of the server binary. Each benchmark starts the same server as
// `herald serve` (in-process or as a child process of this binary) and
// measures it from outside; docs/benchmarks.md gives the commands and
// figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/heraldhq/herald/cmd/internal/options"
)

// commands are herald-bench's commands, in the order usage lists them.
var commands = []struct {
	name, help string
	run        func(ctx context.Context, args []string) error
}{
	{"fanout", "real-time fan-out: N followers' streams on one server, updates timed to each", runBenchFanout},
	{"cluster", "fan-out across `herald serve --postgres --nats` nodes", benchCluster},
	{"http", "HTTP API throughput and latency on an in-process server", benchHTTP},
	{"reactions", "reactions and votes under concurrent clients", benchReactions},
	{"schedule", "N updates scheduled for the same second: when the last is published", benchSchedule},
	{"push", "Web Push: one update to N subscribed devices, the push service in another process", benchPush},
	{"directory", "directory queries on a seeded store (seed directory first)", benchDirectory},
	{"seed", "generate benchmark data: seed directory --channels N --data DIR", seedCommand},
	{"serve", "internal: the server, as `herald serve` (the benchmarks' child processes)", serveCommand},
}

// env is the process environment, read only for the defaults of a few
// flags that CI sets (HERALD_POSTGRES_URL, HERALD_DATA).
var env = options.OS()

// envOr is the environment variable name, or def when it is unset.
func envOr(name, def string) string {
	if v, ok := env(name); ok {
		return v
	}
	return def
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "herald-bench:", strings.TrimPrefix(err.Error(), "herald-bench: "))
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
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:])
		}
	}
	usage()
	return fmt.Errorf("unknown command %q", args[0])
}

func usage() {
	fmt.Fprintln(os.Stderr, "Usage: herald-bench COMMAND [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", c.name, c.help)
	}
	fmt.Fprintln(os.Stderr, "\nRun 'herald-bench COMMAND -h' for a command's flags.")
}
