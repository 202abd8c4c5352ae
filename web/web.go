package web

import (
	"errors"
	"html/template"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
	"kaifang/portal"
)

// Deps is what the site needs; cmd/kaifang fills it with the same stores the
// gateway uses.
type Deps struct {
	Catalog datasets.Catalog
	Rows    datasets.Rows
	Index   datasets.Index // may be nil: search falls back to listing the catalogue
	Portal  *portal.Service
	Logger  *slog.Logger
	// Secret signs session cookies and CSRF tokens; at least 16 bytes.
	Secret []byte
	// SecureCookies marks cookies Secure (set it whenever the site is served over HTTPS).
	SecureCookies bool
}

// site is the registered web portal.
type site struct {
	d      Deps
	log    *slog.Logger
	assets *assetSet
	msgs   *catalogues
	pages  map[string]*template.Template
}

// Register adds the page routes (/, /search, /datasets/:slug, /agencies…,
// /developers, /login, /lang, /static/…) to app. Call it after gateway.New
// and before the catch-all NotFound handler.
func Register(app *fiber.App, d Deps) error {
	if app == nil || d.Catalog == nil || d.Rows == nil {
		return errors.New("web: app, Catalog and Rows are required")
	}
	if len(d.Secret) < 16 {
		return errors.New("web: Secret must be at least 16 bytes")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	s := &site{d: d, log: d.Logger}
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return err
	}
	if s.msgs, err = loadCatalogues(); err != nil {
		return err
	}
	if s.pages, err = s.parseTemplates(); err != nil {
		return err
	}
	s.routes(app)
	return nil
}

// routes is the one route table of the site. Every page passes through
// s.secure (headers, session, language) and, for POST, the CSRF check.
func (s *site) routes(app *fiber.App) {
	app.Get("/static/:file", s.handleStatic)

	g, p := s.secure, s.csrf
	app.Get("/", g, s.page(s.handleHome))
	app.Get("/search", g, s.page(s.handleSearch))
	app.Get("/lang", g, s.handleLang)
	app.Get("/agencies", g, s.page(s.handleAgencies))
	app.Get("/agencies/:slug", g, s.page(s.handleAgency))
	app.Get("/datasets/:slug", g, s.page(s.handleDataset))
	app.Get("/datasets/:slug/api", g, s.page(s.handleDatasetAPI))
	app.Get("/datasets/:slug/apply", g, s.page(s.handleApply))
	app.Get("/developers", g, s.page(s.handleDevelopers))
	app.Get("/login", g, s.page(s.handleLoginForm))
	app.Post("/login", g, p, s.page(s.handleLogin))
	app.Post("/logout", g, p, s.page(s.handleLogout))
	s.roleRoutes(app)
}
