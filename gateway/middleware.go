package gateway

import (
	"regexp"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

const localRequestID = "kaifang.request_id"

// A caller's request id is passed through only if it cannot smuggle
// anything into logs or headers.
var saneRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,128}$`)

func requestID(c *fiber.Ctx) string {
	if v, ok := c.Locals(localRequestID).(string); ok {
		return v
	}
	return ""
}

// observe assigns the request id, then logs and measures the request once
// the handler chain (and the error handler) is done.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	id := c.Get(fiber.HeaderXRequestID)
	if !saneRequestID.MatchString(id) {
		id = uuid.NewString()
	}
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)

	err := c.Next()
	if err != nil {
		// Run the error handler now so the log line and metrics see the
		// final status; returning nil keeps fiber from running it twice.
		if herr := s.errorHandler(c, err); herr != nil {
			return herr
		}
	}
	route := "unmatched"
	if r := c.Route(); r != nil && r.Path != "/" && r.Path != "" {
		route = r.Path
	}
	status := c.Response().StatusCode()
	st := strconv.Itoa(status)
	var size int64
	if c.Response().IsBodyStream() {
		size = int64(c.Response().Header.ContentLength()) // -1 for a chunked stream
	} else {
		size = int64(len(c.Response().Body()))
	}
	if size > 0 && c.Method() != fiber.MethodHead {
		s.metrics.bytes.WithLabelValues(route).Add(float64(size))
	}
	d := time.Since(start)
	s.metrics.requests.WithLabelValues(route, c.Method(), st).Inc()
	s.metrics.latency.WithLabelValues(route, c.Method(), st).Observe(d.Seconds())
	s.log.Info("http",
		"request_id", id, "ip", s.clientIP(c), "method", c.Method(), "path", c.Path(),
		"route", route, "status", status, "bytes", size, "duration_ms", float64(d.Microseconds())/1000)
	return nil
}
