package openapi

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"kaifang/datasets"
)

var writeDocs = flag.String("write-docs", "", "write gateway.json and dataset.json into this directory (used by lint.sh)")

func MustDatasetDoc(tb testing.TB) *DatasetDoc {
	tb.Helper()
	d, v, rows := fixture()
	dd, err := BuildDataset(d, v, rows)
	if err != nil {
		tb.Fatalf("BuildDataset: %v", err)
	}
	return dd
}

// fixture is an entry shaped like the AQI file of the gateway's tests.
func fixture() (*datasets.Dataset, *datasets.Version, [][]any) {
	d := &datasets.Dataset{ID: "0b6e4c9e-6d0b-4a53-9a3e-2b7c1f0c8e11", Slug: "aqi-hourly", Title: "空氣品質指標(AQI)",
		Description: "各測站每小時空氣品質指標。", Agency: datasets.AgencyRef{ID: "a", Slug: "moenv", Name: "環境部"},
		OpenClass: datasets.Open, License: "政府資料開放授權條款-第1版"}
	v := &datasets.Version{Number: 2, Rows: 84, RowTable: "r_aqi_2", Columns: []datasets.Field{
		{Name: "SiteName", Type: datasets.TypeText, Description: "測站名稱"},
		{Name: "AQI", Type: datasets.TypeInteger},
		{Name: "PM2.5", Type: datasets.TypeDecimal},
		{Name: "Open", Type: datasets.TypeBoolean},
		{Name: "Day", Type: datasets.TypeDate},
		{Name: "PublishTime", Type: datasets.TypeDatetime},
		{Name: "sort", Type: datasets.TypeText},
	}}
	at := time.Date(2021, 8, 22, 13, 0, 0, 0, time.UTC)
	rows := [][]any{
		{"基隆", int64(57), 19.0, true, at.Truncate(24 * time.Hour), at, "x"},
		{"汐止", int64(67), nil, false, at.Truncate(24 * time.Hour), at, nil},
	}
	return d, v, rows
}

func TestGatewayDocument(t *testing.T) {
	doc, err := Gateway("1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Info.Version != "1.2.3" {
		t.Fatalf("version %q", doc.Info.Version)
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/datasets", "/api/v1/datasets/{id}/download", "/api/v1/datasets/{id}/records", "/api/v1/suggest"} {
		if doc.Paths.Value(p) == nil {
			t.Errorf("path %s missing", p)
		}
	}
	probes := map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}
	for path, pi := range doc.Paths.Map() {
		for method, op := range pi.Operations() {
			has4xx := false
			for code := range op.Responses.Map() {
				has4xx = has4xx || strings.HasPrefix(code, "4")
			}
			if !has4xx && !probes[path] {
				t.Errorf("%s %s declares no 4xx response", method, path)
			}
		}
	}
}

func TestDatasetDocument(t *testing.T) {
	dd := MustDatasetDoc(t)
	op := dd.Doc.Paths.Value(RecordsPath("aqi-hourly")).Get
	if op == nil {
		t.Fatal("no records operation")
	}
	params := map[string]string{}
	for _, p := range op.Parameters {
		params[p.Value.Name] = p.Value.Schema.Value.Type.Slice()[0]
	}
	for name, typ := range map[string]string{
		"SiteName": "string", "SiteName__prefix": "string", "AQI": "integer", "AQI__gte": "integer",
		"PM2.5__lt": "number", "Open": "boolean", "AQI__in": "array", "PM2.5__null": "boolean", "sort__eq": "string", "limit": "integer",
	} {
		if params[name] != typ {
			t.Errorf("parameter %s: %q, want %q", name, params[name], typ)
		}
	}
	for _, absent := range []string{"AQI__prefix", "Open__gt"} {
		if _, ok := params[absent]; ok {
			t.Errorf("parameter %s should not exist", absent)
		}
	}
	if !strings.Contains(string(dd.JSON), "基隆") {
		t.Errorf("no example rows in the document")
	}
	t.Run("no examples for conditional entries", func(t *testing.T) {
		d, v, _ := fixture()
		d.OpenClass = datasets.Conditional
		dd, err := BuildDataset(d, v, nil)
		if err != nil || strings.Contains(string(dd.JSON), "基隆") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("non-tabular versions have no document", func(t *testing.T) {
		d, v, _ := fixture()
		v.RowTable = ""
		if _, err := BuildDataset(d, v, nil); !datasets.IsCode(err, datasets.EINVALID) {
			t.Fatalf("err %v", err)
		}
	})
}

func TestValidateRecords(t *testing.T) {
	dd := MustDatasetDoc(t)
	for _, ok := range []string{"", "AQI__gt=5&SiteName=%E5%9F%BA%E9%9A%86", "AQI__in=1,2,3&limit=10", "PM2.5__null=true", "unknown=kept-for-the-parser"} {
		if err := dd.ValidateRecords(t.Context(), ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for q, field := range map[string]string{
		"AQI=abc": "AQI", "AQI__gt=1.5": "AQI", "AQI__in=1,x": "AQI", "limit=5000": "limit", "Open=maybe": "Open", "PM2.5__lte=high": "PM2.5",
	} {
		err := dd.ValidateRecords(t.Context(), q)
		ps := datasets.ErrorProblems(err)
		if !datasets.IsCode(err, datasets.EINVALID) || len(ps) == 0 || ps[0].Field != field {
			t.Errorf("%q: %v %+v, want EINVALID naming %s", q, err, ps, field)
		}
	}
}

func TestCacheBuildsOnce(t *testing.T) {
	c := NewCache(2)
	var builds atomic.Int32
	build := func() (*DatasetDoc, error) { builds.Add(1); return MustDatasetDoc(t), nil }
	for range 5 {
		if _, err := c.Get("a@1", build); err != nil {
			t.Fatal(err)
		}
	}
	if builds.Load() != 1 {
		t.Fatalf("%d builds", builds.Load())
	}
	c.Get("b@1", build)
	c.Get("c@1", build)
	if c.Len() != 2 {
		t.Fatalf("cache holds %d, max 2", c.Len())
	}
	fails := 0
	for range 2 {
		c.Get("bad", func() (*DatasetDoc, error) { fails++; return nil, datasets.Errorf(datasets.EUNAVAILABLE, "down") })
	}
	if fails != 2 {
		t.Fatalf("a failed build was cached")
	}
}

func TestDocsPage(t *testing.T) {
	p := string(DocsPage(`<x>"`, "/api/v1/openapi.json"))
	if strings.Contains(p, "<x>") || !strings.Contains(p, `spec-url="/api/v1/openapi.json"`) {
		t.Fatalf("page: %s", p)
	}
	if strings.Count(p, "<script") != 1 || !strings.Contains(p, `<script src="/docs/assets/redoc.standalone.js"></script>`) {
		t.Fatalf("the page must have no inline script")
	}
	if b, err := Assets.ReadFile("assets/redoc.standalone.js"); err != nil || len(b) < 100_000 {
		t.Fatalf("redoc bundle missing: %v", err)
	}
}

// TestWriteDocs writes both documents for openapi/lint.sh.
func TestWriteDocs(t *testing.T) {
	dir := *writeDocs
	if dir == "" {
		dir = t.TempDir()
	}
	gw, err := GatewayJSON("lint")
	if err != nil {
		t.Fatal(err)
	}
	dd := MustDatasetDoc(t)
	for name, b := range map[string][]byte{"gateway.json": gw, "dataset.json": dd.JSON} {
		if !json.Valid(b) {
			t.Fatalf("%s is not JSON", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// validateFull validates a query string against every parameter the
// records operation declares: what ValidateRecords did before it narrowed.
func validateFull(dd *DatasetDoc, rawQuery string) (error, bool) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, false
	}
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: dd.route.Path, RawQuery: rawQuery}, Header: http.Header{}}
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: req, QueryParams: q, Route: dd.route,
		Options: &openapi3filter.Options{MultiError: true, ExcludeRequestBody: true, SkipSettingDefaults: true},
	}), true
}

// FuzzValidateRecords feeds arbitrary query strings: validation never
// panics, and the narrowed check refuses exactly what the full one refuses.
func FuzzValidateRecords(f *testing.F) {
	dd := MustDatasetDoc(f)
	for _, s := range []string{"", "limit=10", "AQI__in=1,x", "PM2.5__null=perhaps&Day=2024-01-02", "%zz", "AQI=1&AQI=x", "limit=-1&limit=5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		got := dd.ValidateRecords(context.Background(), rawQuery)
		want, parsed := validateFull(dd, rawQuery)
		if !parsed {
			if !datasets.IsCode(got, datasets.EINVALID) {
				t.Fatalf("%q does not parse but gave %v", rawQuery, got)
			}
			return
		}
		if (got == nil) != (want == nil) {
			t.Fatalf("%q: narrowed %v, full %v", rawQuery, got, want)
		}
	})
}

// TestValidateRecordsNarrowed checks that validating only the parameters
// a request carries gives the verdict of validating every declared one.
func TestValidateRecordsNarrowed(t *testing.T) {
	dd := MustDatasetDoc(t)
	full := func(rawQuery string) error {
		err, ok := validateFull(dd, rawQuery)
		if !ok {
			t.Fatalf("%q does not parse", rawQuery)
		}
		return err
	}
	queries := []string{"", "limit=10", "limit=0", "limit=5000", "AQI=3", "AQI=abc", "AQI__gt=1.5&PM2.5__lte=high",
		"AQI__in=1,2,3", "AQI__in=1,x", "Open=maybe", "Open=true&Day=2024-01-02", "Day__gte=not-a-date",
		"PM2.5__null=true", "PM2.5__null=perhaps", "SiteName__prefix=%E5%9F%BA&fields=AQI,SiteName", "sort=-AQI",
		"unknown=1", "AQI=1&AQI=x", "total=yes", "cursor=abc&limit=2"}
	// Twice: the second pass answers every query from a cached route
	// (routeFor caches by parameter names; AQI=3 and AQI=abc share one).
	refused := 0
	for pass := range 2 {
		if pass == 1 && len(dd.routes) == 0 {
			t.Fatal("no narrowed route was cached")
		}
		for _, q := range queries {
			want := full(q)
			got := dd.ValidateRecords(t.Context(), q)
			if (want == nil) != (got == nil) {
				t.Errorf("%q: narrowed %v, full %v", q, got, want)
			}
			if got != nil {
				refused++
				var fp []datasets.Problem
				collect(want, &fp)
				if gp := datasets.ErrorProblems(got); !reflect.DeepEqual(gp, fp) {
					t.Errorf("%q: narrowed problems %+v, full %+v", q, gp, fp)
				}
			}
		}
	}
	// Names are not joined into an ambiguous key: the route narrowed for
	// one parameter called "AQI&Open" must not serve AQI and Open.
	if err := dd.ValidateRecords(t.Context(), "AQI%26Open=1"); err != nil {
		t.Fatalf("an unknown parameter is left to the gateway's parser, got %v", err)
	}
	if err := dd.ValidateRecords(t.Context(), "AQI=abc&Open=maybe"); err == nil {
		t.Fatal("AQI=abc&Open=maybe passed: a cached route for another shape was used")
	}
	if refused < 16 {
		t.Fatalf("only %d of the queries were refused: the table no longer tests refusals", refused)
	}
	if n := len(dd.route.Operation.Parameters); n < 20 {
		t.Fatalf("the operation declares %d parameters: narrowing is not exercised", n)
	}
}

// BenchmarkValidateRecords validates a typical records query (a limit, a
// field list and one filter).
func BenchmarkValidateRecords(b *testing.B) {
	dd := MustDatasetDoc(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := dd.ValidateRecords(context.Background(), "limit=10&fields=AQI,SiteName&SiteName=%E5%9F%BA%E9%9A%86"); err != nil {
			b.Fatal(err)
		}
	}
}
