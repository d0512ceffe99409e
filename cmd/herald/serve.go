package main

import (
	"context"

	"github.com/heraldhq/herald/cmd/internal/serve"
)

// serveCommand runs the server until ctx ends (SIGINT, SIGTERM) or its
// listener fails.
func serveCommand(ctx context.Context, a *app, args []string) error {
	cfg, err := serve.Parse(args, a.env, a.stderr)
	if err != nil {
		return err
	}
	cfg.Stdout, cfg.Stderr = a.stdout, a.stderr
	return serve.Run(ctx, cfg)
}
