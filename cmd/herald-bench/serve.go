package main

import (
	"context"
	"os"

	"github.com/heraldhq/herald/cmd/internal/serve"
)

// serveCommand is `herald serve` inside this binary, for the benchmarks
// that run the server as a child process (its CPU and memory are then its
// own). It takes the same options.
func serveCommand(ctx context.Context, args []string) error {
	cfg, err := serve.Parse(args, env, os.Stderr)
	if err != nil {
		return err
	}
	return serve.Run(ctx, cfg)
}
