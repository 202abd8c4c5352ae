package gateway

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"kaifang/datasets"
)

func TestDownloadOriginal(t *testing.T) {
	stores(t, func(t *testing.T, dbURL string, blobs datasets.Blobs) {
		e := MustEnv(t, dbURL, blobs)
		file := e.openFile
		size := len(file)
		base := e.url + "/api/v1/datasets/" + e.open.Slug + "/download"
		etag := `"` + e.open.CurrentVersion.SHA256 + `"`

		resp, body := MustGet(t, base)
		t.Run("whole file", func(t *testing.T) {
			if resp.StatusCode != 200 || !bytes.Equal(body, file) {
				t.Fatalf("status %d, %d bytes, want %d", resp.StatusCode, len(body), size)
			}
			for h, want := range map[string]string{
				"Content-Length": strconv.Itoa(size),
				"ETag":           etag,
				"Accept-Ranges":  "bytes",
				"Content-Type":   "text/csv",
			} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			if _, err := http.ParseTime(resp.Header.Get("Last-Modified")); err != nil {
				t.Errorf("Last-Modified %q: %v", resp.Header.Get("Last-Modified"), err)
			}
		})
		t.Run("chinese filename", func(t *testing.T) {
			cd := resp.Header.Get("Content-Disposition")
			want := "filename*=UTF-8''" + strings.ReplaceAll(url.PathEscape("空氣品質指標(AQI).csv"), "(", "%28")
			want = strings.ReplaceAll(want, ")", "%29")
			if !strings.HasPrefix(cd, `attachment; filename="aqi-hourly.csv"; `) || !strings.Contains(cd, want) {
				t.Fatalf("Content-Disposition %q, want ASCII fallback and %s", cd, want)
			}
			// What a browser does with it: decode filename*.
			enc := cd[strings.Index(cd, "UTF-8''")+len("UTF-8''"):]
			name, err := url.PathUnescape(enc)
			if err != nil || name != "空氣品質指標(AQI).csv" {
				t.Fatalf("decoded filename %q (%v)", name, err)
			}
		})
		for _, tc := range []struct {
			name, rng  string
			start, end int
		}{
			{"range at the start", "bytes=0-99", 0, 99},
			{"range in the middle", "bytes=1000-1999", 1000, 1999},
			{"range at the end", fmt.Sprintf("bytes=%d-", size-10), size - 10, size - 1},
			{"suffix range", "bytes=-25", size - 25, size - 1},
			{"range overlapping the end", fmt.Sprintf("bytes=%d-%d", size-5, size+100), size - 5, size - 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := MustGet(t, base, "Range", tc.rng)
				if resp.StatusCode != 206 {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				if !bytes.Equal(body, file[tc.start:tc.end+1]) {
					t.Fatalf("got %d bytes that are not file[%d:%d]", len(body), tc.start, tc.end+1)
				}
				if cr := resp.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end, size) {
					t.Fatalf("Content-Range %q", cr)
				}
				if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(tc.end-tc.start+1) {
					t.Fatalf("Content-Length %q", cl)
				}
			})
		}
		t.Run("range past the end", func(t *testing.T) {
			resp, body := MustGet(t, base, "Range", fmt.Sprintf("bytes=%d-", size))
			MustProblem(t, resp, body, 416)
			if cr := resp.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes */%d", size) {
				t.Fatalf("Content-Range %q", cr)
			}
		})
		t.Run("several ranges serve the whole file", func(t *testing.T) {
			resp, body := MustGet(t, base, "Range", "bytes=0-1,5-6")
			if resp.StatusCode != 200 || len(body) != size {
				t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
			}
		})
		t.Run("if-range with a stale etag serves the whole file", func(t *testing.T) {
			resp, body := MustGet(t, base, "Range", "bytes=0-9", "If-Range", `"stale"`)
			if resp.StatusCode != 200 || len(body) != size {
				t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
			}
		})
		t.Run("if-none-match 304", func(t *testing.T) {
			resp, body := MustGet(t, base, "If-None-Match", `"other", `+etag)
			if resp.StatusCode != 304 || len(body) != 0 || resp.Header.Get("ETag") != etag {
				t.Fatalf("status %d, %d bytes, etag %q", resp.StatusCode, len(body), resp.Header.Get("ETag"))
			}
			resp, _ = MustGet(t, base, "If-None-Match", `"other"`)
			if resp.StatusCode != 200 {
				t.Fatalf("a different etag got %d", resp.StatusCode)
			}
		})
		t.Run("if-modified-since 304", func(t *testing.T) {
			lm := resp.Header.Get("Last-Modified")
			r2, _ := MustGet(t, base, "If-Modified-Since", lm)
			if r2.StatusCode != 304 {
				t.Fatalf("status %d", r2.StatusCode)
			}
			old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)
			r3, _ := MustGet(t, base, "If-Modified-Since", old)
			if r3.StatusCode != 200 {
				t.Fatalf("modified since 2000 got %d", r3.StatusCode)
			}
		})
		t.Run("head", func(t *testing.T) {
			resp, body := MustDo(t, http.MethodHead, base)
			if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Length") != strconv.Itoa(size) {
				t.Fatalf("HEAD: %d, %d bytes, Content-Length %q", resp.StatusCode, len(body), resp.Header.Get("Content-Length"))
			}
		})
		t.Run("unknown version", func(t *testing.T) {
			resp, body := MustGet(t, base+"?version=9")
			MustProblem(t, resp, body, 404)
		})
		t.Run("non-tabular file cannot convert", func(t *testing.T) {
			resp, body := MustGet(t, e.url+"/api/v1/datasets/"+e.plain.Slug+"/download?format=csv")
			MustProblem(t, resp, body, 400)
			resp, body = MustGet(t, e.url+"/api/v1/datasets/"+e.plain.Slug+"/download")
			if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "%PDF") ||
				!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="aqi-report.pdf"`) {
				t.Fatalf("pdf: %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
			}
		})
		t.Run("downloads are counted", func(t *testing.T) {
			deadline := time.Now().Add(5 * time.Second)
			for {
				d, err := e.store.Dataset(t.Context(), e.open.ID)
				if err != nil {
					t.Fatal(err)
				}
				if d.Downloads > 0 {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("no download counted")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	})
}

func TestDownloadConversions(t *testing.T) {
	stores(t, func(t *testing.T, dbURL string, blobs datasets.Blobs) {
		e := MustEnv(t, dbURL, blobs)
		base := e.url + "/api/v1/datasets/" + e.open.Slug + "/download?format="
		rows := int(e.open.CurrentVersion.Rows)
		t.Run("csv with bom", func(t *testing.T) {
			resp, body := MustGet(t, base+"csv&bom=true")
			if resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
				t.Fatalf("status %d, starts %q", resp.StatusCode, body[:min(len(body), 8)])
			}
			recs, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != rows+1 || recs[0][0] != "SiteName" || recs[1][0] != "基隆" || recs[1][1] != "基隆市" {
				t.Fatalf("%d records, first %v %v", len(recs), recs[0][:2], recs[1][:2])
			}
			if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="aqi-hourly.csv"`) {
				t.Fatalf("Content-Disposition %q", cd)
			}
			if resp.Header.Get("ETag") == `"`+e.open.CurrentVersion.SHA256+`"` {
				t.Fatalf("a conversion must not share the original's ETag")
			}
		})
		t.Run("csv without bom", func(t *testing.T) {
			_, body := MustGet(t, base+"csv")
			if bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
				t.Fatalf("BOM without bom=true")
			}
		})
		t.Run("json", func(t *testing.T) {
			resp, body := MustGet(t, base+"json")
			var out []map[string]any
			MustJSON(t, body, &out)
			if resp.StatusCode != 200 || len(out) != rows || out[0]["SiteName"] != "基隆" || out[0]["AQI"] != float64(57) {
				t.Fatalf("status %d, %d rows, first %v", resp.StatusCode, len(out), out[0])
			}
		})
		t.Run("xlsx", func(t *testing.T) {
			resp, body := MustGet(t, base+"xlsx")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			f, err := excelize.OpenReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			xrows, err := f.GetRows(f.GetSheetName(0))
			if err != nil {
				t.Fatal(err)
			}
			if len(xrows) != rows+1 || xrows[1][0] != "基隆" {
				t.Fatalf("%d rows, second %v", len(xrows), xrows[1][:2])
			}
		})
		t.Run("conversion 304", func(t *testing.T) {
			resp, _ := MustGet(t, base+"json")
			r2, body := MustGet(t, base+"json", "If-None-Match", resp.Header.Get("ETag"))
			if r2.StatusCode != 304 || len(body) != 0 {
				t.Fatalf("status %d", r2.StatusCode)
			}
		})
		t.Run("unknown format", func(t *testing.T) {
			resp, body := MustGet(t, base+"docx")
			MustProblem(t, resp, body, 400)
		})
	})
	_ = json.Valid
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		h               string
		size, start, n  int64
		ok, satisfiable bool
	}{
		{"bytes=0-0", 10, 0, 1, true, true},
		{"bytes=9-", 10, 9, 1, true, true},
		{"bytes=10-", 10, 0, 0, true, false},
		{"bytes=-0", 10, 0, 0, true, false},
		{"bytes=-20", 10, 0, 10, true, true},
		{"bytes=5-3", 10, 0, 0, false, false},
		{"bytes=a-b", 10, 0, 0, false, false},
		{"items=0-1", 10, 0, 0, false, false},
		{"bytes=0-1,3-4", 10, 0, 0, false, false},
		{"bytes=0-", 0, 0, 0, true, false},
	} {
		t.Run(tc.h, func(t *testing.T) {
			s, n, ok, sat := parseRange(tc.h, tc.size)
			if s != tc.start || n != tc.n || ok != tc.ok || sat != tc.satisfiable {
				t.Fatalf("parseRange(%q, %d) = %d %d %v %v", tc.h, tc.size, s, n, ok, sat)
			}
		})
	}
}
