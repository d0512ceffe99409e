package main

import (
	"context"
	"errors"
	"net/http"
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
	return serveUntilDone(ctx, cfg)
}

// serveUntilDone runs a server until ctx ends or its listener fails.
func serveUntilDone(ctx context.Context, cfg serve.Config) error {
	s, err := serve.Start(ctx, cfg)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-s.Wait():
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = s.Close()
			return err
		}
	}
	return s.Close()
}
