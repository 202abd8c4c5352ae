package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
)

func jsonMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func sendJSON(c *fiber.Ctx, status int, v any) error {
	b, err := jsonMarshal(v)
	if err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "encoding the response")
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(b)
}

// errSummary is what readiness says about a failed check: the client-safe
// message of a domain error, or the code of anything else.
func errSummary(err error) string {
	var de *datasets.Error
	if errors.As(err, &de) {
		return de.Code + " " + de.Message
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return datasets.ErrorCode(err)
}

// reqCtx is the context for store calls made while producing the response
// head. Streams that outlive the handler use their own context instead.
func reqCtx(c *fiber.Ctx) context.Context { return c.UserContext() }

func queryEscape(s string) string { return url.QueryEscape(s) }

// countUse adds to an entry's counters in the background: usage statistics
// must never slow down or fail the response they count. Counts are summed
// in memory and written once per window, so that a busy entry costs one
// UPDATE per window instead of one per request (every request updating the
// same row would queue on its lock). Shutdown waits for the last write.
func (s *Server) countUse(datasetID string, downloads, apiCalls int64) {
	s.usageMu.Lock()
	if s.usage == nil {
		s.usage = map[string][2]int64{}
	}
	p := s.usage[datasetID]
	s.usage[datasetID] = [2]int64{p[0] + downloads, p[1] + apiCalls}
	start := !s.usageFlushing
	s.usageFlushing = true
	s.usageMu.Unlock()
	if start {
		s.bg.Go(func() {
			time.Sleep(usageWindow)
			s.flushUse()
		})
	}
}

// usageWindow is how long counts are summed before they are written.
const usageWindow = 200 * time.Millisecond

func (s *Server) flushUse() {
	s.usageMu.Lock()
	batch := s.usage
	s.usage, s.usageFlushing = nil, false
	s.usageMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for id, n := range batch {
		if err := s.d.Catalog.CountUse(ctx, id, n[0], n[1]); err != nil {
			s.log.Warn("counting use failed", "dataset", id, "err", err)
		}
	}
}
