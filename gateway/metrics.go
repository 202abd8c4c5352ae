package gateway

import (
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// metrics has its own registry per Server, so that tests (and a process
// running two gateways) never collide on registration.
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	bytes       *prometheus.CounterVec
	storeErrors *prometheus.CounterVec
	rateErrors  prometheus.Counter
	limited     *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kaifang_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kaifang_http_request_duration_seconds", Help: "Time to produce the response head (streams continue after).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kaifang_http_response_bytes_total", Help: "Response body bytes served by route pattern.",
		}, []string{"route"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kaifang_store_errors_total", Help: "Requests that failed on a backing store, by error code.",
		}, []string{"code"}),
		rateErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kaifang_ratelimit_store_errors_total", Help: "Rate-limit store failures; the request was let through (fail open).",
		}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kaifang_ratelimit_rejected_total", Help: "Requests refused with 429 by route group.",
		}, []string{"group"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.bytes, m.storeErrors, m.rateErrors, m.limited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() fiber.Handler {
	h := fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return func(c *fiber.Ctx) error {
		h(c.Context())
		return nil
	}
}
