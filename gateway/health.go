package gateway

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

func (s *Server) handleHealthz(c *fiber.Ctx) error {
	return sendJSON(c, fiber.StatusOK, map[string]string{"status": "ok", "version": s.d.Version})
}

// checkTimeout bounds each readiness check, so a hung dependency makes the
// probe fail rather than hang.
const checkTimeout = 2 * time.Second

// handleReadyz runs every check concurrently on each call (nothing is
// cached), so a store that comes back is seen on the next probe.
func (s *Server) handleReadyz(c *fiber.Ctx) error {
	checks := maps.Clone(s.d.Checks)
	if checks == nil {
		checks = map[string]func(context.Context) error{}
	}
	if _, ok := checks["ratelimit"]; !ok {
		checks["ratelimit"] = s.rl.check
	}
	results := make(map[string]string, len(checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, fn := range checks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
			defer cancel()
			err := runCheck(ctx, fn)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				s.log.Warn("readiness check failed", "check", name, "err", err)
				results[name] = "fail: " + errSummary(err)
			} else {
				results[name] = "ok"
			}
		})
	}
	wg.Wait()
	var failed []string
	for name, r := range results {
		if r != "ok" {
			failed = append(failed, name)
		}
	}
	slices.Sort(failed)
	if len(failed) > 0 {
		return sendJSON(c, fiber.StatusServiceUnavailable, map[string]any{"status": "unavailable", "failed": failed, "checks": results})
	}
	return sendJSON(c, fiber.StatusOK, map[string]any{"status": "ok", "checks": results})
}

// runCheck returns when fn does or the context ends, whichever is first.
func runCheck(ctx context.Context, fn func(context.Context) error) (err error) {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- context.Canceled
			}
		}()
		done <- fn(ctx)
	}()
	select {
	case err = <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
