package web

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
)

type categoryCount struct {
	Category datasets.Category
	Count    int
}

type homeData struct {
	Categories []categoryCount
	Recent     []datasets.Dataset
	Popular    []datasets.Dataset
	Total      int
}

// handleHome shows the nine high-value categories first (Shanghai art. 31),
// then the most recently updated and the most used entries.
func (s *site) handleHome(c *fiber.Ctx, v *view) error {
	ctx := c.UserContext()
	var d homeData
	counts, total, err := s.categoryCounts(ctx)
	if err != nil {
		return err
	}
	d.Total = total
	for _, cat := range datasets.Categories {
		d.Categories = append(d.Categories, categoryCount{cat, counts[string(cat)]})
	}
	if d.Recent, _, err = s.d.Catalog.PublicDatasets(ctx, datasets.DatasetFilter{Sort: "updated", PerPage: 6}); err != nil {
		return err
	}
	if d.Popular, err = s.popular(ctx, 6); err != nil {
		return err
	}
	return s.render(c, v, "home", d)
}

// categoryCounts counts public entries per category: from the index's
// facets when there is one, else from the catalogue.
func (s *site) categoryCounts(ctx context.Context) (map[string]int, int, error) {
	if s.d.Index != nil {
		r, err := s.d.Index.Search(ctx, datasets.SearchQuery{PerPage: 1})
		if err == nil {
			return r.Facets["category"], r.Total, nil
		}
		s.log.Warn("web: search index unavailable; counting from the catalogue", "err", err)
	}
	out := map[string]int{}
	total := 0
	for _, cat := range datasets.Categories {
		_, n, err := s.d.Catalog.PublicDatasets(ctx, datasets.DatasetFilter{Category: cat, PerPage: 1})
		if err != nil {
			return nil, 0, err
		}
		out[string(cat)] = n
		total += n
	}
	return out, total, nil
}

// popular returns the most used public entries.
func (s *site) popular(ctx context.Context, n int) ([]datasets.Dataset, error) {
	if s.d.Index == nil {
		return nil, nil
	}
	r, err := s.d.Index.Search(ctx, datasets.SearchQuery{Sort: "popular", PerPage: n})
	if err != nil {
		s.log.Warn("web: search index unavailable", "err", err)
		return nil, nil
	}
	return s.loadHits(ctx, r.Hits), nil
}

// loadHits loads each hit from the catalogue's public view; an entry gone
// private since it was indexed is skipped, never shown.
func (s *site) loadHits(ctx context.Context, hits []datasets.SearchHit) []datasets.Dataset {
	out := make([]datasets.Dataset, 0, len(hits))
	for _, h := range hits {
		d, err := s.d.Catalog.PublicDataset(ctx, h.ID)
		if err != nil {
			continue
		}
		out = append(out, *d)
	}
	return out
}

func atoiDefault(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}
