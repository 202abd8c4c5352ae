package gateway

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"kaifang/datasets"
)

type recordsPage struct {
	Fields  []datasets.Column `json:"fields"`
	Records []map[string]any  `json:"records"`
	Next    *string           `json:"next"`
	Total   *int64            `json:"total"`
}

func MustRecords(tb testing.TB, e *env, slug, query string) recordsPage {
	tb.Helper()
	resp, body := MustGet(tb, e.url+"/api/v1/datasets/"+slug+"/records?"+query)
	if resp.StatusCode != 200 {
		tb.Fatalf("records?%s: %d %s", query, resp.StatusCode, body)
	}
	var p recordsPage
	MustJSON(tb, body, &p)
	return p
}

func colType(v *datasets.Version, name string) datasets.FieldType {
	for _, c := range v.Columns {
		if c.Name == name {
			return c.Type
		}
	}
	return ""
}

func TestRecords(t *testing.T) {
	stores(t, func(t *testing.T, dbURL string, blobs datasets.Blobs) {
		e := MustEnv(t, dbURL, blobs)
		slug, v := e.open.Slug, e.open.CurrentVersion
		if colType(v, "AQI") != datasets.TypeInteger || colType(v, "County") != datasets.TypeText {
			t.Fatalf("fixture columns changed: %+v", v.Columns)
		}
		all := MustRecords(t, e, slug, "limit=1000&total=true")
		t.Run("whole table in schema order", func(t *testing.T) {
			if len(all.Records) != int(v.Rows) || all.Next != nil || all.Total == nil || *all.Total != v.Rows {
				t.Fatalf("%d records of %d, next %v", len(all.Records), v.Rows, all.Next)
			}
			if len(all.Fields) != len(v.Columns) || all.Fields[0].Name != "SiteName" || all.Records[0]["SiteName"] != "基隆" {
				t.Fatalf("fields %v, first %v", all.Fields[:2], all.Records[0]["SiteName"])
			}
		})
		count := func(pred func(r map[string]any) bool) int {
			n := 0
			for _, r := range all.Records {
				if pred(r) {
					n++
				}
			}
			return n
		}
		aqi := func(r map[string]any) float64 { f, _ := r["AQI"].(float64); return f }
		for _, tc := range []struct {
			name, query string
			pred        func(r map[string]any) bool
		}{
			{"eq text", "County=" + url.QueryEscape("新北市"), func(r map[string]any) bool { return r["County"] == "新北市" }},
			{"eq explicit", "County__eq=" + url.QueryEscape("新北市"), func(r map[string]any) bool { return r["County"] == "新北市" }},
			{"in", "County__in=" + url.QueryEscape("臺北市,基隆市"), func(r map[string]any) bool { return r["County"] == "臺北市" || r["County"] == "基隆市" }},
			{"gt", "AQI__gt=50", func(r map[string]any) bool { return r["AQI"] != nil && aqi(r) > 50 }},
			{"gte", "AQI__gte=57", func(r map[string]any) bool { return r["AQI"] != nil && aqi(r) >= 57 }},
			{"lt", "AQI__lt=30", func(r map[string]any) bool { return r["AQI"] != nil && aqi(r) < 30 }},
			{"lte and gte", "AQI__lte=60&AQI__gte=40", func(r map[string]any) bool { return r["AQI"] != nil && aqi(r) <= 60 && aqi(r) >= 40 }},
			{"prefix", "County__prefix=" + url.QueryEscape("新"), func(r map[string]any) bool { s, _ := r["County"].(string); return strings.HasPrefix(s, "新") }},
			{"null true", "PM2.5__null=true", func(r map[string]any) bool { return r["PM2.5"] == nil }},
			{"null false", "PM2.5__null=false", func(r map[string]any) bool { return r["PM2.5"] != nil }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				want := count(tc.pred)
				got := MustRecords(t, e, slug, tc.query+"&limit=1000")
				if len(got.Records) != want {
					t.Fatalf("%d records, want %d", len(got.Records), want)
				}
				for _, r := range got.Records {
					if !tc.pred(r) {
						t.Fatalf("record does not match: %v", r)
					}
				}
			})
		}
		t.Run("fields and sort", func(t *testing.T) {
			p := MustRecords(t, e, slug, "fields=SiteName,AQI&sort=-AQI,SiteName&limit=5")
			if len(p.Fields) != 2 || len(p.Records) != 5 || len(p.Records[0]) != 2 {
				t.Fatalf("fields %v, record %v", p.Fields, p.Records[0])
			}
			for i := 1; i < len(p.Records); i++ {
				if aqi(p.Records[i]) > aqi(p.Records[i-1]) {
					t.Fatalf("not sorted by -AQI: %v", p.Records)
				}
			}
		})
		t.Run("csv by accept", func(t *testing.T) {
			resp, body := MustGet(t, e.url+"/api/v1/datasets/"+slug+"/records?limit=3&fields=SiteName,County", "Accept", "text/csv")
			recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
			if err != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("csv: %v %q", err, resp.Header.Get("Content-Type"))
			}
			if len(recs) != 4 || recs[0][0] != "SiteName" || recs[1][0] != "基隆" || resp.Header.Get("X-Next-Cursor") == "" {
				t.Fatalf("csv records %v", recs)
			}
		})
		t.Run("ndjson by format", func(t *testing.T) {
			_, body := MustGet(t, e.url+"/api/v1/datasets/"+slug+"/records?limit=4&format=ndjson")
			lines := strings.Split(strings.TrimSpace(string(body)), "\n")
			if len(lines) != 4 {
				t.Fatalf("%d lines", len(lines))
			}
			for _, l := range lines {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil || m["SiteName"] == nil {
					t.Fatalf("line %q: %v", l, err)
				}
			}
		})
		t.Run("cursor pages through everything", func(t *testing.T) {
			seen := map[string]bool{}
			q := "sort=County,-AQI&limit=10"
			p := MustRecords(t, e, slug, q)
			pages := 1
			for {
				for _, r := range p.Records {
					seen[fmt.Sprint(r["SiteId"], "/", r["SiteName"])] = true
				}
				if p.Next == nil {
					break
				}
				p = MustRecords(t, e, slug, q+"&cursor="+*p.Next)
				pages++
			}
			if len(seen) != int(v.Rows) || pages != (int(v.Rows)+9)/10 {
				t.Fatalf("%d distinct rows over %d pages, want %d", len(seen), pages, v.Rows)
			}
		})
		t.Run("errors name the field", func(t *testing.T) {
			for _, tc := range []struct{ query, field string }{
				{"nosuch=1", "nosuch"},
				{"AQI__near=1", "AQI"},
				{"AQI=abc", "AQI"},
				{"AQI__gt=1.5", "AQI"},
				{"AQI__prefix=1", "AQI"},
				{"PM2.5__null=maybe", "PM2.5"},
				{"sort=nosuch", "nosuch"},
				{"fields=SiteName,nosuch", "nosuch"},
				{"limit=1001", "limit"},
				{"cursor=garbage", "cursor"},
				{"format=xml", "format"},
			} {
				t.Run(tc.query, func(t *testing.T) {
					resp, body := MustGet(t, e.url+"/api/v1/datasets/"+slug+"/records?"+tc.query)
					p := MustProblem(t, resp, body, 400)
					if len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
						t.Fatalf("errors %+v, want field %s", p.Errors, tc.field)
					}
				})
			}
		})
		t.Run("not tabular", func(t *testing.T) {
			resp, body := MustGet(t, e.url+"/api/v1/datasets/"+e.plain.Slug+"/records")
			MustProblem(t, resp, body, 400)
		})
	})
}

// A cursor keeps reading the version it started on while a new version is
// published between two pages.
func TestRecordsCursorStableAcrossNewVersion(t *testing.T) {
	stores(t, func(t *testing.T, dbURL string, blobs datasets.Blobs) {
		e := MustEnv(t, dbURL, blobs)
		slug, v1 := e.open.Slug, e.open.CurrentVersion
		p := MustRecords(t, e, slug, "limit=30")
		if p.Next == nil {
			t.Fatal("no second page")
		}
		got := len(p.Records)
		// Publish version 2: the header and the first two stations only.
		lines := strings.SplitAfter(string(e.openFile), "\n")
		MustVersion(t, e, e.open, "aqi.csv", []byte(strings.Join(lines[:3], "")), true)
		if cur := MustRecords(t, e, slug, "limit=1000"); len(cur.Records) != 2 {
			t.Fatalf("new version not current: %d records", len(cur.Records))
		}
		for p.Next != nil {
			resp, body := MustGet(t, e.url+"/api/v1/datasets/"+slug+"/records?limit=30&cursor="+*p.Next)
			if resp.StatusCode != 200 || resp.Header.Get("X-Dataset-Version") != "1" {
				t.Fatalf("page on version %q: %d %s", resp.Header.Get("X-Dataset-Version"), resp.StatusCode, body)
			}
			p = recordsPage{}
			MustJSON(t, body, &p)
			got += len(p.Records)
		}
		if got != int(v1.Rows) {
			t.Fatalf("read %d rows of version 1, want %d", got, v1.Rows)
		}
		// version= reads an old version explicitly.
		if old := MustRecords(t, e, slug, "version=1&limit=1000"); len(old.Records) != int(v1.Rows) {
			t.Fatalf("version=1 gave %d rows", len(old.Records))
		}
	})
}
