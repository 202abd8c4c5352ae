package gateway

import (
	"fmt"
	"io/fs"
	"path"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
	"kaifang/openapi"
)

func (s *Server) handleOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(s.gwDoc)
}

// datasetDoc returns the cached document of version v of d, building it
// (with example rows for open entries) on first use.
func (s *Server) datasetDoc(c *fiber.Ctx, d *datasets.Dataset, v *datasets.Version) (*openapi.DatasetDoc, error) {
	key := fmt.Sprintf("%s@%d@%d", d.ID, v.Number, d.UpdatedAt.UnixNano())
	return s.docs.Get(key, func() (*openapi.DatasetDoc, error) {
		var examples [][]any
		if d.OpenClass == datasets.Open {
			page, err := s.d.Rows.QueryRows(reqCtx(c), v.RowTable, datasets.RowQuery{Columns: columnsOf(v), Limit: openapi.MaxExampleRows})
			if err != nil {
				return nil, err
			}
			examples = page.Rows
		}
		return openapi.BuildDataset(d, v, examples)
	})
}

func (s *Server) handleDatasetOpenAPI(c *fiber.Ctx) error {
	d, err := s.publicDataset(c)
	if err != nil {
		return err
	}
	v, err := s.entryVersion(c, d, 0)
	if err != nil {
		return err
	}
	if !v.Tabular() {
		return datasets.Errorf(datasets.ENOTFOUND, "dataset %s has no records API: its current version is not tabular", d.Slug)
	}
	doc, err := s.datasetDoc(c, d, v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(doc.JSON)
}

func sendDocsPage(c *fiber.Ctx, title, specURL string) error {
	c.Set(fiber.HeaderContentSecurityPolicy, openapi.DocsCSP)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(openapi.DocsPage(title, specURL))
}

func (s *Server) handleDocs(c *fiber.Ctx) error {
	return sendDocsPage(c, "Kaifang API", "/api/v1/openapi.json")
}

func (s *Server) handleDatasetDocs(c *fiber.Ctx) error {
	d, err := s.publicDataset(c)
	if err != nil {
		return err
	}
	return sendDocsPage(c, d.Title+" — API", "/api/v1/datasets/"+d.Slug+"/openapi.json")
}

func (s *Server) handleDocsAsset(c *fiber.Ctx) error {
	name := path.Base(c.Params("file"))
	b, err := fs.ReadFile(openapi.Assets, "assets/"+name)
	if err != nil {
		return datasets.Errorf(datasets.ENOTFOUND, "no such asset")
	}
	switch path.Ext(name) {
	case ".js":
		c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
	default:
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	}
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.Send(b)
}
