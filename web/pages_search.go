package web

import (
	"html"
	"html/template"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
)

const searchPerPage = 10

// searchFilters are the one-value filters the search page understands; the
// URL names are the public API's (category, agency, open_class, format, frequency).
var searchFilters = []string{"category", "agency", "open_class", "format", "frequency"}

type facetValue struct {
	Value, Label string
	Count        int
	Selected     bool
	Data         bool // the label is catalogue data (an agency's name), not a UI string
	URL          string
}

type facetGroup struct {
	Name   string // filter name
	Values []facetValue
}

type searchResult struct {
	Dataset         datasets.Dataset
	TitleHTML       template.HTML // title with <mark>ed matches, or plain
	DescriptionHTML template.HTML
}

type pageLink struct {
	Number  int
	URL     string
	Current bool
}

type searchData struct {
	Results   []searchResult
	Total     int
	Facets    []facetGroup
	Sort      string
	Sorts     []string
	Params    map[string]string
	Pages     []pageLink
	Prev      string
	Next      string
	Page      int
	ActiveAny bool
	ClearURL  string
}

// sanitizeHighlight keeps the <mark> tags of a search fragment and escapes
// everything else, whatever the engine sent, so a fragment cannot carry markup.
func sanitizeHighlight(frag string) template.HTML {
	var b strings.Builder
	open := false
	for frag != "" {
		i := strings.Index(frag, "<")
		var text string
		if i < 0 {
			text, frag = frag, ""
		} else {
			text = frag[:i]
		}
		b.WriteString(html.EscapeString(html.UnescapeString(text)))
		if i < 0 {
			break
		}
		rest := frag[i:]
		switch {
		case strings.HasPrefix(rest, "<mark>") && !open:
			b.WriteString("<mark>")
			open = true
			frag = rest[len("<mark>"):]
		case strings.HasPrefix(rest, "</mark>") && open:
			b.WriteString("</mark>")
			open = false
			frag = rest[len("</mark>"):]
		default:
			b.WriteString("&lt;")
			frag = rest[1:]
		}
	}
	if open {
		b.WriteString("</mark>")
	}
	return template.HTML(b.String())
}

func (s *site) handleSearch(c *fiber.Ctx, v *view) error {
	ctx := c.UserContext()
	v.Title = v.T("search.title")
	params := map[string]string{}
	for _, k := range append([]string{"q", "sort"}, searchFilters...) {
		if val := strings.TrimSpace(c.Query(k)); val != "" && len(val) <= 200 {
			params[k] = val
		}
	}
	page := max(1, min(atoiDefault(c.Query("page"), 1), 1000))
	sortBy := params["sort"]
	if !slices.Contains([]string{"relevance", "updated", "popular"}, sortBy) {
		sortBy = "relevance"
		delete(params, "sort")
	}
	agencies, err := s.d.Catalog.Agencies(ctx)
	if err != nil {
		return err
	}
	agencyByID := map[string]datasets.Agency{}
	agencyBySlug := map[string]datasets.Agency{}
	for _, a := range agencies {
		agencyByID[a.ID], agencyBySlug[a.Slug] = a, a
	}
	q := datasets.SearchQuery{Text: params["q"], Sort: sortBy, Page: page, PerPage: searchPerPage}
	if x := params["category"]; x != "" {
		q.Categories = []datasets.Category{datasets.Category(x)}
	}
	if x := params["agency"]; x != "" {
		a, ok := agencyBySlug[x]
		if !ok {
			return datasets.Errorf(datasets.EINVALID, "agency: %s", x)
		}
		q.AgencyIDs = []string{a.ID}
	}
	if x := params["open_class"]; x != "" {
		if !datasets.OpenClass(x).Public() {
			return datasets.Errorf(datasets.EINVALID, "open_class: %s", x)
		}
		q.OpenClasses = []datasets.OpenClass{datasets.OpenClass(x)}
	}
	if x := params["format"]; x != "" {
		q.Formats = []string{x}
	}
	if x := params["frequency"]; x != "" {
		q.Frequencies = []datasets.Frequency{datasets.Frequency(x)}
	}

	d := searchData{Sort: sortBy, Sorts: []string{"relevance", "updated", "popular"}, Params: params, Page: page}
	if s.d.Index == nil {
		return datasets.Errorf(datasets.EUNAVAILABLE, "search is not configured")
	}
	r, err := s.d.Index.Search(ctx, q)
	if err != nil {
		return err
	}
	d.Total = r.Total
	for _, h := range r.Hits {
		ds, err := s.d.Catalog.PublicDataset(ctx, h.ID)
		if err != nil {
			continue // gone private since indexed: never shown
		}
		res := searchResult{Dataset: *ds, TitleHTML: template.HTML(html.EscapeString(ds.Title)), DescriptionHTML: template.HTML(html.EscapeString(truncate(ds.Description, 160)))}
		if f := h.Highlights["title"]; len(f) > 0 {
			res.TitleHTML = sanitizeHighlight(f[0])
		}
		if f := h.Highlights["description"]; len(f) > 0 {
			var parts []string
			for _, x := range f {
				parts = append(parts, string(sanitizeHighlight(x)))
			}
			res.DescriptionHTML = template.HTML(strings.Join(parts, " "))
		}
		d.Results = append(d.Results, res)
	}
	// Facets: each value links to the search with that filter toggled.
	for _, name := range searchFilters {
		counts := r.Facets[name]
		if len(counts) == 0 {
			continue
		}
		g := facetGroup{Name: name}
		for val, n := range counts {
			fv := facetValue{Value: val, Count: n}
			switch name {
			case "category":
				fv.Label = v.Cat(datasets.Category(val))
			case "open_class":
				fv.Label = v.Class(datasets.OpenClass(val))
			case "frequency":
				fv.Label = v.Freq(datasets.Frequency(val))
			case "agency":
				a, ok := agencyByID[val]
				if !ok {
					continue
				}
				fv.Value, fv.Label, fv.Data = a.Slug, a.Name, true
			default:
				fv.Label = strings.ToUpper(val)
			}
			fv.Selected = params[name] == fv.Value
			next := cloneParams(params)
			delete(next, "page")
			if fv.Selected {
				delete(next, name)
			} else {
				next[name] = fv.Value
			}
			fv.URL = searchURL(next)
			g.Values = append(g.Values, fv)
		}
		sortFacet(name, g.Values)
		d.Facets = append(d.Facets, g)
	}
	for _, k := range searchFilters {
		if params[k] != "" {
			d.ActiveAny = true
		}
	}
	clear := map[string]string{}
	if params["q"] != "" {
		clear["q"] = params["q"]
	}
	d.ClearURL = searchURL(clear)
	// Pagination: a window of pages around the current one.
	pages := (r.Total + searchPerPage - 1) / searchPerPage
	for p := max(1, page-4); p <= min(pages, page+4); p++ {
		d.Pages = append(d.Pages, pageLink{Number: p, URL: searchURL(withPage(params, p)), Current: p == page})
	}
	if page > 1 {
		d.Prev = searchURL(withPage(params, page-1))
	}
	if page < pages {
		d.Next = searchURL(withPage(params, page+1))
	}
	return s.render(c, v, "search", d)
}

// sortFacet orders categories as the regulations list them (high value
// first) and every other facet by count.
func sortFacet(name string, vs []facetValue) {
	if name == "category" {
		pos := func(v string) int { return slices.Index(datasets.Categories, datasets.Category(v)) }
		sort.SliceStable(vs, func(i, j int) bool { return pos(vs[i].Value) < pos(vs[j].Value) })
		return
	}
	sort.SliceStable(vs, func(i, j int) bool {
		if vs[i].Count != vs[j].Count {
			return vs[i].Count > vs[j].Count
		}
		return vs[i].Label < vs[j].Label
	})
}

func cloneParams(p map[string]string) map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

func withPage(p map[string]string, page int) map[string]string {
	out := cloneParams(p)
	if page > 1 {
		out["page"] = itoa(page)
	}
	return out
}

func searchURL(p map[string]string) string {
	vals := url.Values{}
	for k, v := range p {
		vals.Set(k, v)
	}
	if len(vals) == 0 {
		return "/search"
	}
	return "/search?" + vals.Encode()
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
