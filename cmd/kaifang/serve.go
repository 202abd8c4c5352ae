package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/blob"
	"kaifang/datasets/search"
	"kaifang/datasets/sqlstore"
	"kaifang/gateway"
	"kaifang/portal"
	"kaifang/web"

	"github.com/ulule/limiter/v3/drivers/store/memory"
)

// stores is every backend one process talks to.
type stores struct {
	db      *sqlstore.Store
	blobs   datasets.Blobs
	index   datasets.Index
	indexer *search.Indexer
}

func (s *stores) Close() error {
	var errs []error
	if s.index != nil {
		errs = append(errs, s.index.Close())
	}
	if s.blobs != nil {
		errs = append(errs, s.blobs.Close())
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	return errors.Join(errs...)
}

// openStores opens the catalogue (running migrations), the blob store and
// the search index named by cfg.
func openStores(ctx context.Context, cfg *Config, log *slog.Logger) (*stores, error) {
	s := &stores{}
	var err error
	if s.db, err = sqlstore.Open(ctx, cfg.DB); err != nil {
		return nil, fmt.Errorf("opening catalogue %s: %w", maskSecret("db", cfg.DB), err)
	}
	if s.blobs, err = blob.Open(ctx, cfg.Blob); err != nil {
		s.Close()
		return nil, fmt.Errorf("opening blob store %s: %w", maskSecret("blob", cfg.Blob), err)
	}
	if s.index, err = search.Open(ctx, cfg.Search); err != nil {
		s.Close()
		return nil, fmt.Errorf("opening search index %s: %w", maskSecret("search", cfg.Search), err)
	}
	s.indexer = search.NewIndexer(s.db, s.index, log)
	return s, nil
}

func cmdServe(ctx context.Context, e *env, args []string) error {
	cfg, _, err := parseConfig(e, "serve", args, nil)
	if err != nil {
		return err
	}
	return serve(ctx, e, cfg, nil)
}

// serve runs the server until ctx ends; before, when set, runs after the
// stores are open and before the listener accepts (the demo loads there).
func serve(ctx context.Context, e *env, cfg *Config, before func(context.Context, *stores, *slog.Logger) error) error {
	log := newLogger(cfg, e.stderr)
	if err := cfg.ensureSecret(); err != nil {
		return err
	}
	log.Info("configuration", "config", cfg)
	st, err := openStores(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if before != nil {
		if err := before(ctx, st, log); err != nil {
			return err
		}
	}
	// Bring the index up to date before serving, then keep it so.
	if _, err := st.indexer.Sync(ctx); err != nil {
		log.Warn("search index not yet in sync; will retry", "err", err)
	}
	var wg sync.WaitGroup
	idxCtx, stopIdx := context.WithCancel(context.Background())
	wg.Add(1)
	go func() { defer wg.Done(); st.indexer.Run(idxCtx, time.Second) }()
	defer func() { stopIdx(); wg.Wait() }()

	svc, err := newPortalFor(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	// Versions a dead process left pending are failed at start and hourly
	// (portal.SweepPending: only those pending for over six hours).
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			if n, err := svc.SweepPending(idxCtx, portal.StaleAfter); err != nil && idxCtx.Err() == nil {
				log.Warn("sweeping abandoned pending versions", "err", err)
			} else if n > 0 {
				log.Warn("failed versions left pending by a stopped process", "count", n)
			}
			select {
			case <-idxCtx.Done():
				return
			case <-t.C:
			}
		}
	}()
	limits, err := gateway.ParseLimits(cfg.RateLimits)
	if err != nil {
		return fmt.Errorf("--rate-limits / KAIFANG_RATE_LIMITS: %w", err)
	}
	deps := gateway.Deps{
		Catalog: st.db, Rows: st.db, Blobs: st.blobs, Index: st.index,
		Logger:           log,
		Limits:           limits,
		TrustedProxies:   splitList(cfg.TrustedProxies),
		PresignDownloads: cfg.PresignDL,
		Version:          version,
		Checks: map[string]func(context.Context) error{
			"database": st.db.Ping,
			"blobs":    st.blobs.Ping,
			"search": func(ctx context.Context) error {
				if err := st.index.Ping(ctx); err != nil {
					return err
				}
				lag, err := st.indexer.Lag(ctx)
				if err != nil {
					return err
				}
				if lag > 1000 {
					return fmt.Errorf("index is %d changes behind", lag)
				}
				return nil
			},
		},
	}
	deps.RateStore = memory.NewStore()
	if strings.HasPrefix(cfg.RateStore, "redis://") {
		rs, err := gateway.RedisStore(cfg.RateStore)
		if err != nil {
			return fmt.Errorf("--rate-store / KAIFANG_RATE_STORE: %w", err)
		}
		deps.RateStore = rs
	}
	// Per-key limits share the anonymous limits' store, so that with Redis
	// they hold across every gateway process.
	deps.Authorizer = gateway.NewKeyAuthorizer(svc, deps.RateStore)
	deps.Portal = svc
	srv, err := gateway.New(deps)
	if err != nil {
		return err
	}
	// The web pages live on the same app as the API; the catch-all 404
	// goes last so that it answers only what neither knows.
	if err := web.Register(srv.App(), web.Deps{
		Catalog: st.db, Rows: st.db, Index: st.index, Portal: svc, Logger: log,
		Secret: []byte(cfg.Secret), SecureCookies: cfg.SecureCookies,
	}); err != nil {
		return err
	}
	srv.App().Use(srv.NotFound())
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	addr := ln.Addr().String()
	if strings.HasPrefix(cfg.Addr, ":") {
		addr = "127.0.0.1" + addr[strings.LastIndex(addr, ":"):]
	}
	fmt.Fprintf(e.stdout, "Kaifang is serving on http://%s\n", addr)
	if e.onListen != nil {
		e.onListen(addr)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Listen(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	<-errc
	return nil
}

// newPortalFor builds the portal over the open stores and creates the first
// admin from the configuration when asked.
func newPortalFor(ctx context.Context, cfg *Config, st *stores, log *slog.Logger) (*portal.Service, error) {
	svc := newPortal(cfg, st.db, st.blobs)
	svc.Logger = log
	if cfg.Calendar != "" {
		cal := portal.NewCalendar()
		if err := cal.LoadDir(cfg.Calendar); err != nil {
			return nil, fmt.Errorf("--calendar / KAIFANG_CALENDAR: %w", err)
		}
		svc.Calendar = cal
	}
	for _, w := range svc.Calendar.Warnings(time.Now()) {
		log.Warn("working-day calendar", "warning", w)
	}
	if cfg.AdminEmail != "" {
		if _, err := svc.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword); err != nil {
			return nil, fmt.Errorf("creating the admin from KAIFANG_ADMIN_EMAIL: %w", err)
		}
	}
	return svc, nil
}

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	cfg, _, err := parseConfig(e, "migrate", args, nil)
	if err != nil {
		return err
	}
	db, err := sqlstore.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	ms, err := db.Migrations(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		fmt.Fprintln(e.stdout, m)
	}
	return nil
}

func cmdReindex(ctx context.Context, e *env, args []string) error {
	cfg, _, err := parseConfig(e, "reindex", args, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, e.stderr)
	st, err := openStores(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.indexer.Reindex(ctx); err != nil {
		return err
	}
	_, n, err := st.db.PublicDatasets(ctx, datasets.DatasetFilter{PerPage: 1})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "reindexed %d public entries\n", n)
	return nil
}

var _ = flag.ErrHelp
