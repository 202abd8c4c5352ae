package web

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
	"kaifang/portal"
)

const previewRows = 10

// downloadFormats are the formats the gateway converts a tabular version to.
var downloadFormats = []string{"csv", "json", "xlsx"}

type downloadLink struct {
	Format, URL string
}

type datasetData struct {
	D          *datasets.Dataset
	Timeliness portal.Timeliness
	Versions   []datasets.Version
	Preview    *datasets.RowPage
	Chart      *chartSpec
	Downloads  []downloadLink
	JSONLD     map[string]any
	History    []datasets.Change
	Apply      bool
}

func (s *site) handleDataset(c *fiber.Ctx, v *view) error {
	ctx := c.UserContext()
	d, err := s.d.Catalog.PublicDataset(ctx, c.Params("slug"))
	if err != nil {
		return err
	}
	v.Title = d.Title
	dd := datasetData{D: d}
	dd.Timeliness = portal.TimelinessOf(d, time.Now())
	vs, err := s.d.Catalog.Versions(ctx, d.ID)
	if err != nil {
		return err
	}
	for _, x := range vs {
		if x.State == datasets.VersionReady {
			dd.Versions = append(dd.Versions, x)
		}
	}
	if h, err := s.d.Catalog.History(ctx, d.ID); err == nil {
		dd.History = h[:min(len(h), 10)]
	}
	cv := d.CurrentVersion
	switch d.OpenClass {
	case datasets.Open:
		// Rows of an open entry are public; a conditional entry's rows go
		// only through a reviewed grant, so its page shows no data at all.
		if cv.Tabular() {
			if dd.Preview, err = s.preview(ctx, cv); err != nil {
				s.log.Warn("web: preview", "dataset", d.Slug, "err", err)
			}
			if dd.Chart, err = s.chart(ctx, cv); err != nil {
				s.log.Warn("web: chart", "dataset", d.Slug, "err", err)
			}
		}
		if cv != nil {
			for _, f := range downloadFormats {
				if cv.Tabular() || slices.Contains(d.Formats, f) {
					dd.Downloads = append(dd.Downloads, downloadLink{f, "/api/v1/datasets/" + d.Slug + "/download?format=" + f})
				}
			}
		}
	case datasets.Conditional:
		dd.Apply = true
	}
	dd.JSONLD = jsonLD(d, c.BaseURL(), dd.Downloads)
	return s.render(c, v, "dataset", dd)
}

func columnsOf(v *datasets.Version) []datasets.Column {
	cols := make([]datasets.Column, 0, len(v.Columns))
	for _, f := range v.Columns {
		cols = append(cols, datasets.Column{Name: f.Name, Type: f.Type})
	}
	return cols
}

func (s *site) preview(ctx context.Context, v *datasets.Version) (*datasets.RowPage, error) {
	p, err := s.d.Rows.QueryRows(ctx, v.RowTable, datasets.RowQuery{Columns: columnsOf(v), Limit: previewRows, Total: false})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// chartSpec is what app.js draws with ECharts: one numeric column summed
// over a date or category column.
type chartSpec struct {
	X      string    `json:"x"`
	Y      string    `json:"y"`
	Kind   string    `json:"kind"` // line (dates) or bar (categories)
	Labels []string  `json:"labels"`
	Values []float64 `json:"values"`
}

const chartScanRows = 2000

// chart picks the first numeric column and sums it over the first date
// column, or, when the dates do not vary, over the first text column.
func (s *site) chart(ctx context.Context, v *datasets.Version) (*chartSpec, error) {
	cols := columnsOf(v)
	yi, di, ti := -1, -1, -1
	for i, col := range cols {
		switch col.Type {
		case datasets.TypeDecimal, datasets.TypeInteger:
			if yi < 0 {
				yi = i
			}
		case datasets.TypeDate, datasets.TypeDatetime:
			if di < 0 {
				di = i
			}
		case datasets.TypeText:
			if ti < 0 {
				ti = i
			}
		}
	}
	if yi < 0 {
		return nil, nil
	}
	for _, try := range []struct {
		x    int
		kind string
	}{{di, "line"}, {ti, "bar"}} {
		if try.x < 0 {
			continue
		}
		spec, err := s.chartOver(ctx, v, cols, try.x, yi, try.kind)
		if err != nil || spec != nil {
			return spec, err
		}
	}
	return nil, nil
}

func (s *site) chartOver(ctx context.Context, v *datasets.Version, cols []datasets.Column, xi, yi int, kind string) (*chartSpec, error) {
	q := datasets.RowQuery{Columns: cols, Select: []string{cols[xi].Name, cols[yi].Name}, Limit: chartScanRows}
	if kind == "line" {
		q.Sort = []datasets.SortKey{{Field: cols[xi].Name}}
	}
	p, err := s.d.Rows.QueryRows(ctx, v.RowTable, q)
	if err != nil {
		return nil, err
	}
	sums := map[string]float64{}
	var order []string
	for _, r := range p.Rows {
		if len(r) < 2 || r[0] == nil || r[1] == nil {
			continue
		}
		label := cellText(r[0])
		var y float64
		switch n := r[1].(type) {
		case int64:
			y = float64(n)
		case float64:
			y = n
		default:
			f, err := strconv.ParseFloat(fmt.Sprint(n), 64)
			if err != nil {
				continue
			}
			y = f
		}
		if math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		if _, ok := sums[label]; !ok {
			order = append(order, label)
		}
		sums[label] += y
	}
	if len(order) < 2 {
		return nil, nil
	}
	if kind == "bar" && allPeriods(order) {
		// Text like 2021-01 or 2021年 is a period: keep time order.
		sort.Strings(order)
		kind = "line"
	}
	if kind == "bar" {
		sort.SliceStable(order, func(i, j int) bool { return sums[order[i]] > sums[order[j]] })
		order = order[:min(len(order), 20)]
	}
	spec := &chartSpec{X: cols[xi].Name, Y: cols[yi].Name, Kind: kind}
	for _, l := range order {
		spec.Labels = append(spec.Labels, l)
		spec.Values = append(spec.Values, math.Round(sums[l]*100)/100)
	}
	return spec, nil
}

// jsonLD describes the entry as a schema.org Dataset for search engines.
func jsonLD(d *datasets.Dataset, base string, dls []downloadLink) map[string]any {
	ld := map[string]any{
		"@context":    "https://schema.org",
		"@type":       "Dataset",
		"name":        d.Title,
		"description": d.Description,
		"url":         base + "/datasets/" + d.Slug,
		"identifier":  d.ID,
		"keywords":    d.Tags,
		"creator": map[string]any{
			"@type": "GovernmentOrganization", "name": d.Agency.Name, "url": base + "/agencies/" + d.Agency.Slug,
		},
		"isAccessibleForFree": true,
		"dateModified":        d.UpdatedAt.UTC().Format(time.RFC3339),
		"inLanguage":          "zh",
	}
	if d.License != "" {
		ld["license"] = d.License
	}
	if d.PublishedAt != nil {
		ld["datePublished"] = d.PublishedAt.UTC().Format(time.RFC3339)
	}
	if len(d.Fields) > 0 {
		var vm []map[string]any
		for _, f := range d.Fields {
			vm = append(vm, map[string]any{"@type": "PropertyValue", "name": f.Name, "description": f.Description})
		}
		ld["variableMeasured"] = vm
	}
	if len(dls) > 0 {
		var dist []map[string]any
		for _, dl := range dls {
			dist = append(dist, map[string]any{"@type": "DataDownload", "encodingFormat": mediaTypes[dl.Format], "contentUrl": base + dl.URL})
		}
		ld["distribution"] = dist
	}
	if d.OpenClass == datasets.Conditional {
		ld["conditionsOfAccess"] = d.Reason
	}
	return ld
}

var mediaTypes = map[string]string{"csv": "text/csv", "json": "application/json", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

func itoa(n int) string { return strconv.Itoa(n) }

var periodRE = regexp.MustCompile(`^\d{4}([-/.年]\d{1,2}月?)?$|^\d{4}年$`)

func allPeriods(labels []string) bool {
	for _, l := range labels {
		if !periodRE.MatchString(l) {
			return false
		}
	}
	return true
}
