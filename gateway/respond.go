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
// must never slow down or fail the response they count. Shutdown waits.
func (s *Server) countUse(datasetID string, downloads, apiCalls int64) {
	s.bg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.d.Catalog.CountUse(ctx, datasetID, downloads, apiCalls); err != nil {
			s.log.Warn("counting use failed", "dataset", datasetID, "err", err)
		}
	})
}
