package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"kaifang/datasets"
	"kaifang/openapi"
	"kaifang/portal"
)

// Authorizer decides whether the caller of a request may use a conditional
// entry in the given access mode. It is the hook where API keys and grants
// plug in; with no Authorizer only open entries are served and conditional
// ones answer 401.
type Authorizer interface {
	// Authorize returns nil to allow, or an EUNAUTHORIZED / EFORBIDDEN error.
	Authorize(c *fiber.Ctx, d *datasets.Dataset, mode datasets.AccessMode) error
}

// Deps is everything the gateway needs from the outside; cmd/kaifang fills it.
type Deps struct {
	Catalog datasets.Catalog
	Rows    datasets.Rows
	Blobs   datasets.Blobs
	Index   datasets.Index // may be nil: listing falls back to Catalog.PublicDatasets without text search
	Logger  *slog.Logger
	// Checks are the readiness checks by name ("database", "blobs", …).
	Checks map[string]func(context.Context) error
	// Limits per route group; zero rates take the defaults.
	Limits Limits
	// RateStore keeps the rate-limit counters; nil means an in-process memory store.
	RateStore limiter.Store
	// TrustedProxies are CIDRs or IPs whose X-Forwarded-For is believed.
	TrustedProxies []string
	// PresignDownloads redirects original downloads to a presigned URL when
	// the blob store can make one (datasets.Presigner).
	PresignDownloads bool
	// Authorizer admits callers to conditional entries; nil = anonymous only.
	// A *KeyAuthorizer also masks records and downloads and audits each use.
	Authorizer Authorizer
	// Portal serves the accounts, open-list, application and key APIs; nil
	// leaves them unmounted (a read-only gateway).
	Portal  *portal.Service
	Version string
}

// Server is one gateway process. It holds no state that another gateway
// process would need: counters live in the rate store, data in the stores.
type Server struct {
	d       Deps
	log     *slog.Logger
	app     *fiber.App
	metrics *metrics
	rl      *rateLimits
	proxies *proxySet
	docs    *openapi.Cache
	entries *entryCache
	gwDoc   []byte

	bg sync.WaitGroup // background work (usage counting) that Shutdown waits for

	indexed sync.Map // row table + NUL + column -> true once an index was asked for

	usageMu       sync.Mutex
	usage         map[string][2]int64 // dataset id -> downloads, API calls not yet written
	usageFlushing bool
}

// New builds the gateway and its route table.
func New(d Deps) (*Server, error) {
	if d.Catalog == nil || d.Rows == nil || d.Blobs == nil {
		return nil, errors.New("gateway: Catalog, Rows and Blobs are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	proxies, err := parseProxies(d.TrustedProxies)
	if err != nil {
		return nil, err
	}
	store := d.RateStore
	if store == nil {
		store = memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: "kaifang", CleanUpInterval: time.Minute})
	}
	gwDoc, err := openapi.GatewayJSON(d.Version)
	if err != nil {
		return nil, err
	}
	s := &Server{
		d:       d,
		log:     d.Logger,
		metrics: newMetrics(),
		proxies: proxies,
		docs:    openapi.NewCache(256),
		entries: newEntryCache(d.Catalog),
		gwDoc:   gwDoc,
	}
	s.rl = newRateLimits(store, d.Limits.withDefaults(), s.metrics, s.log)
	s.app = fiber.New(fiber.Config{
		AppName:               "kaifang",
		ErrorHandler:          s.errorHandler,
		DisableStartupMessage: true,
		// Version uploads and list imports are streamed to disk; fasthttp
		// must not collect a whole file in memory. Small JSON bodies still
		// arrive whole through c.Body(), which drains the stream.
		StreamRequestBody: true,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
	})
	s.routes()
	return s, nil
}

// App returns the fiber application, so that web pages can share it.
func (s *Server) App() *fiber.App { return s.app }

// Listen serves on ln until Shutdown.
func (s *Server) Listen(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown stops accepting connections and waits for in-flight requests and
// background usage counting to finish, or for ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.app.ShutdownWithContext(ctx)
	done := make(chan struct{})
	go func() { s.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	return err
}
