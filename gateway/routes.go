package gateway

import (
	"github.com/gofiber/fiber/v2"
)

// routes is the gateway's one route table. Each public route sits behind
// the rate limit of its group; health, readiness and metrics do not, so that
// probes and scrapers are never refused.
func (s *Server) routes() {
	a := s.app
	a.Use(s.observe)

	a.Get("/healthz", s.handleHealthz)
	a.Get("/readyz", s.handleReadyz)
	a.Get("/metrics", s.metrics.handler())

	def, search := s.limit(GroupDefault), s.limit(GroupSearch)
	records, downloads := s.limit(GroupRecords), s.limit(GroupDownloads)

	a.Get("/docs", def, s.handleDocs)
	a.Get("/docs/assets/:file", def, s.handleDocsAsset)
	a.Get("/docs/:id", def, s.handleDatasetDocs)

	v1 := a.Group("/api/v1")
	v1.Get("/openapi.json", def, s.handleOpenAPI)
	v1.Get("/datasets", search, s.handleDatasetList)
	v1.Get("/datasets/:id", def, s.handleDatasetGet)
	v1.Get("/datasets/:id/versions", def, s.handleDatasetVersions)
	v1.Get("/datasets/:id/download", downloads, s.handleDatasetDownload)
	v1.Get("/datasets/:id/records", records, s.handleDatasetRecords)
	v1.Get("/datasets/:id/openapi.json", def, s.handleDatasetOpenAPI)
	v1.Get("/agencies", def, s.handleAgencyList)
	v1.Get("/agencies/:id", def, s.handleAgencyGet)
	v1.Get("/suggest", search, s.handleSuggest)
}

// NotFound answers every request no route took with a problem document.
// cmd/kaifang mounts it last, after the web pages share the app.
func (s *Server) NotFound() fiber.Handler {
	return func(c *fiber.Ctx) error { return fiber.ErrNotFound }
}
