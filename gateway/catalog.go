package gateway

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
)

// listPage is the shape of every list and search answer.
type listPage struct {
	Items   any                       `json:"items"`
	Total   int                       `json:"total"`
	Page    int                       `json:"page"`
	PerPage int                       `json:"per_page"`
	Facets  map[string]map[string]int `json:"facets"`
	Hits    []datasets.SearchHit      `json:"hits,omitempty"` // scores, highlights and explanations, with explain=true
}

func intParam(c *fiber.Ctx, name string, def, lo, hi int) (int, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, &datasets.Error{Code: datasets.EINVALID, Message: name + " must be an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi),
			Problems: []datasets.Problem{{Field: name, Message: "must be an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi)}}}
	}
	return n, nil
}

func listParam(c *fiber.Ctx, name string) []string {
	var out []string
	for _, raw := range c.Context().QueryArgs().PeekMulti(name) {
		for v := range strings.SplitSeq(string(raw), ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

func invalidParam(name, msg string) error {
	return &datasets.Error{Code: datasets.EINVALID, Message: name + " " + msg, Problems: []datasets.Problem{{Field: name, Message: msg}}}
}

// handleDatasetList searches the index when there is one, and lists the
// catalogue otherwise. Hits are re-read with PublicDataset so that an index
// lagging behind a withdrawal never shows the withdrawn entry.
func (s *Server) handleDatasetList(c *fiber.Ctx) error {
	page, err := intParam(c, "page", 1, 1, 10000)
	if err != nil {
		return err
	}
	perPage, err := intParam(c, "per_page", 20, 1, 100)
	if err != nil {
		return err
	}
	var cats []datasets.Category
	for _, v := range listParam(c, "category") {
		if !slices.Contains(datasets.Categories, datasets.Category(v)) {
			return invalidParam("category", "has unknown value "+strconv.Quote(v))
		}
		cats = append(cats, datasets.Category(v))
	}
	var classes []datasets.OpenClass
	for _, v := range listParam(c, "open_class") {
		if v != string(datasets.Open) && v != string(datasets.Conditional) {
			return invalidParam("open_class", "must be open or conditional")
		}
		classes = append(classes, datasets.OpenClass(v))
	}
	var freqs []datasets.Frequency
	for _, v := range listParam(c, "frequency") {
		if !slices.Contains(datasets.Frequencies, datasets.Frequency(v)) {
			return invalidParam("frequency", "has unknown value "+strconv.Quote(v))
		}
		freqs = append(freqs, datasets.Frequency(v))
	}
	var agencyIDs []string
	for _, v := range listParam(c, "agency") {
		a, err := s.d.Catalog.Agency(reqCtx(c), v)
		if err != nil {
			if datasets.IsCode(err, datasets.ENOTFOUND) {
				return invalidParam("agency", "names no agency: "+strconv.Quote(v))
			}
			return err
		}
		agencyIDs = append(agencyIDs, a.ID)
	}
	sort := c.Query("sort")
	formats, tags := listParam(c, "format"), listParam(c, "tags")
	q := strings.TrimSpace(c.Query("q"))

	if s.d.Index == nil {
		return s.listFromCatalog(c, q, sort, cats, classes, freqs, agencyIDs, formats, tags, page, perPage)
	}
	switch sort {
	case "", "relevance", "updated", "popular":
	default:
		return invalidParam("sort", "must be relevance, updated or popular")
	}
	res, err := s.d.Index.Search(reqCtx(c), datasets.SearchQuery{
		Text: q, AgencyIDs: agencyIDs, Categories: cats, OpenClasses: classes, Formats: formats,
		Frequencies: freqs, Tags: tags, Sort: sort, Page: page, PerPage: perPage,
		Explain: c.QueryBool("explain"),
	})
	if err != nil {
		return err
	}
	items := make([]datasets.Dataset, 0, len(res.Hits))
	hits := make([]datasets.SearchHit, 0, len(res.Hits))
	for _, h := range res.Hits {
		d, err := s.d.Catalog.PublicDataset(reqCtx(c), h.ID)
		if datasets.IsCode(err, datasets.ENOTFOUND) {
			continue // the index has not caught up with a withdrawal yet
		}
		if err != nil {
			return err
		}
		items = append(items, *d)
		hits = append(hits, h)
	}
	out := listPage{Items: items, Total: res.Total, Page: page, PerPage: perPage, Facets: res.Facets}
	if out.Facets == nil {
		out.Facets = map[string]map[string]int{}
	}
	if c.QueryBool("explain") {
		out.Hits = hits
	}
	return sendJSON(c, fiber.StatusOK, out)
}

func (s *Server) listFromCatalog(c *fiber.Ctx, q, sort string, cats []datasets.Category, classes []datasets.OpenClass,
	freqs []datasets.Frequency, agencyIDs, formats, tags []string, page, perPage int) error {
	if q != "" || len(tags) > 0 || len(cats) > 1 || len(freqs) > 1 || len(agencyIDs) > 1 || len(formats) > 1 {
		return datasets.Errorf(datasets.EINVALID, "text search, tags and several values per filter need the search index, which is not configured")
	}
	f := datasets.DatasetFilter{OpenClasses: classes, Page: page, PerPage: perPage}
	switch sort {
	case "", "updated":
		f.Sort = "updated"
	case "title", "created":
		f.Sort = sort
	default:
		return invalidParam("sort", "must be updated, title or created")
	}
	if len(cats) == 1 {
		f.Category = cats[0]
	}
	if len(freqs) == 1 {
		f.Frequency = freqs[0]
	}
	if len(agencyIDs) == 1 {
		f.AgencyID = agencyIDs[0]
	}
	if len(formats) == 1 {
		f.Format = formats[0]
	}
	ds, total, err := s.d.Catalog.PublicDatasets(reqCtx(c), f)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []datasets.Dataset{}
	}
	return sendJSON(c, fiber.StatusOK, listPage{Items: ds, Total: total, Page: page, PerPage: perPage, Facets: map[string]map[string]int{}})
}

// publicDataset is the only way handlers load an entry.
func (s *Server) publicDataset(c *fiber.Ctx) (*datasets.Dataset, error) {
	id := c.Params("id")
	if id == "" || len(id) > 200 {
		return nil, datasets.Errorf(datasets.ENOTFOUND, "no such dataset")
	}
	return s.d.Catalog.PublicDataset(reqCtx(c), id)
}

func (s *Server) handleDatasetGet(c *fiber.Ctx) error {
	d, err := s.publicDataset(c)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, d)
}

// handleDatasetVersions lists the ready versions only: pending and failed
// ingestions are the publisher's business.
func (s *Server) handleDatasetVersions(c *fiber.Ctx) error {
	d, err := s.publicDataset(c)
	if err != nil {
		return err
	}
	vs, err := s.d.Catalog.Versions(reqCtx(c), d.ID)
	if err != nil {
		return err
	}
	out := make([]datasets.Version, 0, len(vs))
	for _, v := range vs {
		if v.State == datasets.VersionReady {
			out = append(out, v)
		}
	}
	return sendJSON(c, fiber.StatusOK, map[string]any{"items": out, "total": len(out)})
}

func (s *Server) handleAgencyList(c *fiber.Ctx) error {
	as, err := s.d.Catalog.Agencies(reqCtx(c))
	if err != nil {
		return err
	}
	if as == nil {
		as = []datasets.Agency{}
	}
	return sendJSON(c, fiber.StatusOK, map[string]any{"items": as, "total": len(as)})
}

func (s *Server) handleAgencyGet(c *fiber.Ctx) error {
	a, err := s.d.Catalog.Agency(reqCtx(c), c.Params("id"))
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, a)
}

// handleSuggest completes title prefixes from the index; without one it
// answers an empty list rather than scanning the catalogue per keystroke.
func (s *Server) handleSuggest(c *fiber.Ctx) error {
	q := strings.TrimSpace(c.Query("q"))
	if q == "" {
		return invalidParam("q", "is required")
	}
	if len([]rune(q)) > 100 {
		return invalidParam("q", "must be at most 100 characters")
	}
	n, err := intParam(c, "n", 10, 1, 50)
	if err != nil {
		return err
	}
	out := []datasets.Suggestion{}
	if s.d.Index != nil {
		sg, err := s.d.Index.Suggest(reqCtx(c), q, n)
		if err != nil {
			return err
		}
		for _, x := range sg {
			// Re-check like search does: the index may lag a withdrawal.
			if _, err := s.d.Catalog.PublicDataset(reqCtx(c), x.ID); err == nil {
				out = append(out, x)
			} else if !datasets.IsCode(err, datasets.ENOTFOUND) {
				return err
			}
		}
	}
	return sendJSON(c, fiber.StatusOK, map[string]any{"items": out})
}
