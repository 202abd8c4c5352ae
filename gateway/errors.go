package gateway

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
)

// problemBase prefixes every problem type. Types are relative references
// (RFC 9457 §3.1.1): the gateway's OpenAPI document describes each of them.
const problemBase = "/problems/"

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail,omitempty"`
	Instance  string             `json:"instance,omitempty"`
	RequestID string             `json:"request_id,omitempty"`
	Errors    []datasets.Problem `json:"errors,omitempty"`
}

type problemKind struct {
	status int
	slug   string
	title  string
}

var problemKinds = map[string]problemKind{
	datasets.ENOTFOUND:     {http.StatusNotFound, "not-found", "Not found"},
	datasets.EINVALID:      {http.StatusBadRequest, "invalid", "Invalid request"},
	datasets.EUNAUTHORIZED: {http.StatusUnauthorized, "unauthorized", "Credentials required"},
	datasets.EFORBIDDEN:    {http.StatusForbidden, "forbidden", "Not allowed"},
	datasets.ECONFLICT:     {http.StatusConflict, "conflict", "Conflict"},
	datasets.ETOOLARGE:     {http.StatusRequestEntityTooLarge, "too-large", "Too large"},
	datasets.ERATELIMIT:    {http.StatusTooManyRequests, "rate-limited", "Too many requests"},
	datasets.EUNAVAILABLE:  {http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	datasets.EINTERNAL:     {http.StatusInternalServerError, "internal", "Internal error"},
}

// StatusOf maps a domain error code to its HTTP status.
func StatusOf(code string) int {
	if k, ok := problemKinds[code]; ok {
		return k.status
	}
	return http.StatusInternalServerError
}

// ErrorHandler is the one place where errors become HTTP responses: domain
// errors by their code, fiber's own errors (unknown route, wrong method) by
// their status, anything else as a 500 whose cause is logged and not sent.
func ErrorHandler(c *fiber.Ctx, err error) error {
	return writeError(c, slog.Default(), err)
}

func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var de *datasets.Error
	if !errors.As(err, &de) || de.Code == datasets.EINTERNAL || de.Code == datasets.EUNAVAILABLE {
		var fe *fiber.Error
		if !errors.As(err, &fe) {
			s.metrics.storeErrors.WithLabelValues(datasets.ErrorCode(err)).Inc()
		}
	}
	return writeError(c, s.log, err)
}

func writeError(c *fiber.Ctx, log *slog.Logger, err error) error {
	p := Problem{Instance: c.Path(), RequestID: requestID(c)}
	var fe *fiber.Error
	var de *datasets.Error
	switch {
	case errors.As(err, &de):
		k, ok := problemKinds[de.Code]
		if !ok {
			k = problemKinds[datasets.EINTERNAL]
		}
		p.Type, p.Title, p.Status = problemBase+k.slug, k.title, k.status
		if k.status < 500 {
			p.Detail = de.Message
			p.Errors = de.Problems
		} else if k.status == http.StatusServiceUnavailable {
			p.Detail = "a backing service is unavailable; try again later"
		}
	case errors.As(err, &fe):
		p.Status = fe.Code
		p.Title = http.StatusText(fe.Code)
		p.Type = problemBase + strings.ToLower(strings.ReplaceAll(p.Title, " ", "-"))
		switch fe.Code {
		case fiber.StatusNotFound:
			p.Type, p.Title, p.Detail = problemBase+"not-found", "Not found", "no such route: "+c.Path()
		case fiber.StatusMethodNotAllowed:
			p.Type, p.Detail = problemBase+"method-not-allowed", "method "+c.Method()+" is not allowed here"
		default:
			if fe.Code < 500 {
				p.Detail = fe.Message
			}
		}
		if p.Title == "" {
			p.Title = "Error"
		}
	default:
		k := problemKinds[datasets.EINTERNAL]
		p.Type, p.Title, p.Status = problemBase+k.slug, k.title, k.status
	}
	if p.Status >= 500 {
		log.Error("request failed", "request_id", p.RequestID, "method", c.Method(), "path", c.Path(), "status", p.Status, "err", err)
	} else {
		log.Debug("request refused", "request_id", p.RequestID, "path", c.Path(), "status", p.Status, "err", err)
	}
	return sendProblem(c, p)
}

// sendProblem writes p as application/problem+json, replacing whatever body
// a handler may have started (a stream included).
func sendProblem(c *fiber.Ctx, p Problem) error {
	c.Response().ResetBody()
	c.Response().Header.Del(fiber.HeaderContentDisposition)
	c.Response().Header.Del(fiber.HeaderContentRange)
	c.Response().Header.Del(fiber.HeaderETag)
	c.Response().Header.Del(fiber.HeaderLastModified)
	c.Status(p.Status)
	b, err := jsonMarshal(p)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Send(b)
}
