package main

import (
	"context"
	"errors"
	"net/http"

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
	s, err := serve.Start(ctx, cfg)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		s.Logger.Info("shutting down")
	case err := <-s.Wait():
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = s.Close()
			return err
		}
	}
	if err := s.Close(); err != nil {
		return err
	}
	s.Logger.Info("stopped")
	return nil
}
