package gateway

import (
	"github.com/gofiber/fiber/v2"
)

// routes is the gateway's one route table. Each public route sits behind
// the rate limit of its group; health, readiness and metrics do not, so that
// probes and scrapers are never refused.
//
// fiber matches in registration order and a :param never spans a slash, so
// /datasets/:id cannot take /datasets/:id/history; the fixed segments
// (/applications/queue) still come before their :param siblings.
func (s *Server) routes() {
	a := s.app
	a.Use(s.observe)

	a.Get("/healthz", s.handleHealthz)
	a.Get("/readyz", s.handleReadyz)
	a.Get("/metrics", s.metrics.handler())

	def, search := s.limit(GroupDefault), s.limit(GroupSearch)
	records, downloads := s.limit(GroupRecords), s.limit(GroupDownloads)
	// The audit middleware wraps every route that serves conditional data,
	// so each admitted use is recorded with its final status and rows.
	var audit []fiber.Handler
	if ka, ok := s.d.Authorizer.(*KeyAuthorizer); ok {
		audit = []fiber.Handler{ka.AuditMiddleware()}
	}
	with := func(first fiber.Handler, h fiber.Handler) []fiber.Handler {
		return append(append([]fiber.Handler{first}, audit...), h)
	}

	a.Get("/docs", def, s.handleDocs)
	a.Get("/docs/assets/:file", def, s.handleDocsAsset)
	a.Get("/docs/:id", def, s.handleDatasetDocs)
	a.Get("/catalog.ttl", def, s.handleCatalogTurtle)
	a.Get("/catalog.jsonld", def, s.handleCatalogJSONLD)
	ckanRoutes(a.Group("/api/3/action"), s, def, search, records)

	v1 := a.Group("/api/v1")
	v1.Get("/openapi.json", def, s.handleOpenAPI)
	v1.Get("/datasets", search, s.handleDatasetList)
	v1.Get("/datasets/:id", def, s.handleDatasetGet)
	v1.Get("/datasets/:id/versions", def, s.handleDatasetVersions)
	v1.Get("/datasets/:id/download", with(downloads, s.handleDatasetDownload)...)
	v1.Get("/datasets/:id/records", with(records, s.handleDatasetRecords)...)
	v1.Post("/datasets/:id/verify", with(records, s.handleDatasetVerify)...)
	v1.Get("/datasets/:id/openapi.json", def, s.handleDatasetOpenAPI)
	v1.Get("/agencies", def, s.handleAgencyList)
	v1.Get("/agencies/:id", def, s.handleAgencyGet)
	v1.Get("/suggest", search, s.handleSuggest)

	if s.d.Portal != nil {
		portalRoutes(v1, s.d.Portal, def)
		accessRoutes(v1, s.d.Portal, def)
	}
}

// NotFound answers every request no route took with a problem document.
// cmd/kaifang mounts it last, after the web pages share the app.
func (s *Server) NotFound() fiber.Handler {
	return func(c *fiber.Ctx) error { return fiber.ErrNotFound }
}
