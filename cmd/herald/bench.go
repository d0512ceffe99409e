package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
)

// benchCommands maps `herald bench NAME` to a load benchmark; each lives in
// its own file and registers itself in init().
var benchCommands = map[string]func(ctx context.Context, args []string) error{}

func init() {
	commands["bench"] = benchCommand
	commandHelp["bench"] = "load benchmarks: herald bench NAME (-h lists them)"
}

func benchCommand(ctx context.Context, args []string) error {
	names := make([]string, 0, len(benchCommands))
	for n := range benchCommands {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(os.Stderr, "Usage: herald bench NAME [flags]\nBenchmarks: %v\n", names)
		return errors.New("no benchmark named")
	}
	b, ok := benchCommands[args[0]]
	if !ok {
		return fmt.Errorf("unknown benchmark %q (have %v)", args[0], names)
	}
	return b(ctx, args[1:])
}
