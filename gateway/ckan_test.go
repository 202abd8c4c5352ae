package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"kaifang/datasets"
)

type ckanEnvelope struct {
	Help    string          `json:"help"`
	Success bool            `json:"success"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Message string `json:"message"`
		Type    string `json:"__type"`
	} `json:"error"`
}

// MustCKAN calls an action and checks the envelope and status.
func MustCKAN(tb testing.TB, rawURL string, status int, result any) (ckanEnvelope, []byte) {
	tb.Helper()
	resp, body := MustGet(tb, rawURL)
	var env ckanEnvelope
	MustJSON(tb, body, &env)
	if resp.StatusCode != status || env.Success != (status == 200) || env.Help == "" {
		tb.Fatalf("GET %s: status %d success %v, want %d: %s", rawURL, resp.StatusCode, env.Success, status, body)
	}
	if status != 200 && (env.Error == nil || env.Error.Type == "" || env.Error.Message == "") {
		tb.Fatalf("GET %s: error envelope incomplete: %s", rawURL, body)
	}
	if result != nil {
		MustJSON(tb, env.Result, result)
	}
	return env, body
}

type ckanEnv struct {
	*env
	moi    *datasets.Agency
	public []*datasets.Dataset
}

// MustCKANEnv adds a second agency with three open entries without files to
// the gateway fixture, so that paging has several pages to walk.
func MustCKANEnv(tb testing.TB) *ckanEnv {
	tb.Helper()
	e := sqliteLocal(tb.(*testing.T))
	ctx := context.Background()
	moi := &datasets.Agency{Slug: "moi", Name: "內政部"}
	if err := e.store.CreateAgency(ctx, moi); err != nil {
		tb.Fatal(err)
	}
	k := &ckanEnv{env: e, moi: moi, public: []*datasets.Dataset{e.open, e.cond, e.plain}}
	for i, title := range []string{"門牌資料", "人口統計", "村里界"} {
		d := &datasets.Dataset{Slug: "moi-" + strconv.Itoa(i), Title: title, Description: title, Agency: moi.Ref(),
			Category: datasets.SocialSecurity, OpenClass: datasets.Open, Frequency: datasets.Monthly, State: datasets.Published,
			Tags: []string{"水", "交通/運輸", "人口"}}
		if err := e.store.CreateDataset(ctx, d, datasets.Change{Actor: "system", Action: "create"}); err != nil {
			tb.Fatal(err)
		}
		k.public = append(k.public, d)
	}
	return k
}

func harvestURL(base string, rows, start int, fq string) string {
	u := base + "/api/3/action/package_search?rows=" + strconv.Itoa(rows) + "&start=" + strconv.Itoa(start) + "&sort=id+asc"
	if fq != "" {
		u += "&fq=" + url.QueryEscape(fq) // space → +, : → %3A, [ → %5B, * → %2A, like urlencode
	}
	return u
}

type searchResult struct {
	Count   int           `json:"count"`
	Results []ckanPackage `json:"results"`
}

// harvest pages exactly as CKANHarvester._search_for_datasets does and
// returns the ids in arrival order.
func harvest(t *testing.T, base string, rows int, fq string) []string {
	t.Helper()
	var ids []string
	var prev []byte
	for start := 0; ; start += rows {
		var res searchResult
		_, body := MustCKAN(t, harvestURL(base, rows, start, fq), 200, &res)
		if prev != nil && bytes.Equal(body, prev) {
			t.Fatalf("page at start=%d is byte-identical to the previous one", start)
		}
		prev = body
		if len(res.Results) == 0 {
			return ids
		}
		if len(res.Results) > rows {
			t.Fatalf("page has %d results, rows=%d", len(res.Results), rows)
		}
		for _, p := range res.Results {
			ids = append(ids, p.ID)
		}
		if start > 1000 {
			t.Fatal("paging never ends")
		}
	}
}

func TestCKANHarvestSimulation(t *testing.T) {
	e := MustCKANEnv(t)
	var want []string
	for _, d := range e.public {
		want = append(want, d.ID)
	}
	slices.Sort(want)
	since := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04:05.000000") + "Z"
	for _, tc := range []struct {
		name string
		fq   string
		want []string
	}{
		{"full", "", want},
		{"organizations and incremental", "organization:moenv OR organization:moi metadata_modified:[" + since + " TO *]", want},
		{"excluded organization", "-organization:moi", idsOf(e.open, e.cond, e.plain)},
		{"groups", "groups:social_security", idsOf(e.public[3:]...)},
		{"modified in the future", "metadata_modified:[" + time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04:05.000000") + "Z TO *]", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := harvest(t, e.url, 2, tc.fq)
			if !slices.IsSorted(got) {
				t.Errorf("results not sorted by id: %v", got)
			}
			slices.Sort(tc.want)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("harvested %v, want each of %v exactly once", got, tc.want)
			}
			if slices.Contains(got, e.closed.ID) {
				t.Fatal("closed entry harvested")
			}
		})
	}
	t.Run("encoding is decoded once", func(t *testing.T) {
		// The literal query string CKANHarvester sends.
		var res searchResult
		MustCKAN(t, e.url+"/api/3/action/package_search?rows=100&start=0&sort=id+asc&fq=organization%3Amoenv+OR+organization%3Amoi+metadata_modified%3A%5B2024-05-01T09%3A00%3A00.123456Z+TO+%2A%5D", 200, &res)
		if res.Count != len(want) || len(res.Results) != len(want) {
			t.Fatalf("count %d results %d, want %d", res.Count, len(res.Results), len(want))
		}
	})
}

func idsOf(ds ...*datasets.Dataset) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func TestCKANPackageShow(t *testing.T) {
	e := MustCKANEnv(t)
	for _, id := range []string{e.open.ID, e.open.Slug} {
		t.Run("by "+id, func(t *testing.T) {
			var p ckanPackage
			MustCKAN(t, e.url+"/api/3/action/package_show?id="+url.QueryEscape(id), 200, &p)
			if p.ID != e.open.ID || p.Name != e.open.Slug || p.Title != "空氣品質指標(AQI)" || p.Type != "dataset" || p.Private || p.OwnerOrg != e.ag.ID {
				t.Fatalf("package %+v", p)
			}
			if _, err := time.Parse("2006-01-02T15:04:05.000000", p.MetadataModified); err != nil {
				t.Errorf("metadata_modified %q is not CKAN's naive ISO with microseconds", p.MetadataModified)
			}
			if len(p.Resources) == 0 || p.Resources[0].URL != e.url+"/api/v1/datasets/"+e.open.Slug+"/download" ||
				p.Resources[0].Hash != e.open.CurrentVersion.SHA256 || *p.Resources[0].Size != e.open.CurrentVersion.Size {
				t.Fatalf("resources %+v", p.Resources)
			}
			if !slices.Contains(p.Extras, ckanKV{"open_class", "open"}) || !slices.Contains(p.Extras, ckanKV{"category", "environment"}) {
				t.Errorf("extras %v", p.Extras)
			}
			if len(p.Tags) != 1 || p.Tags[0].Name != "空氣" {
				t.Errorf("tags %+v", p.Tags)
			}
		})
	}
	t.Run("tags are cleaned for CKAN validators", func(t *testing.T) {
		var p ckanPackage
		MustCKAN(t, e.url+"/api/3/action/package_show?id=moi-0", 200, &p)
		var names []string
		for _, tg := range p.Tags {
			names = append(names, tg.Name)
		}
		if !slices.Equal(names, []string{"交通-運輸", "人口"}) {
			t.Fatalf("tags %v, want single-character 水 dropped and / cleaned", names)
		}
	})
	t.Run("conditional entry has no download", func(t *testing.T) {
		var p ckanPackage
		MustCKAN(t, e.url+"/api/3/action/package_show?id="+e.cond.Slug, 200, &p)
		if len(p.Resources) != 1 || p.Resources[0].URL != e.url+"/datasets/"+e.cond.Slug {
			t.Fatalf("resources %+v", p.Resources)
		}
	})
	t.Run("closed entry is not found", func(t *testing.T) {
		for _, id := range []string{e.closed.ID, e.closed.Slug} {
			env, _ := MustCKAN(t, e.url+"/api/3/action/package_show?id="+id, 404, nil)
			if env.Error.Type != "Not Found Error" {
				t.Fatalf("error %+v", env.Error)
			}
		}
	})
}

func TestCKANErrors(t *testing.T) {
	e := MustCKANEnv(t)
	for _, tc := range []struct {
		name, path string
		status     int
		typ        string
	}{
		{"unknown search parameter", "/api/3/action/package_search?bogus=1", 409, "Search Error"},
		{"sort without direction", "/api/3/action/package_search?sort=id", 409, "Search Error"},
		{"unknown fq field", "/api/3/action/package_search?fq=secret%3Ax", 409, "Search Error"},
		{"bad rows", "/api/3/action/package_search?rows=-1", 409, "Validation Error"},
		{"package_show without id", "/api/3/action/package_show", 409, "Validation Error"},
		{"unknown organization", "/api/3/action/organization_show?id=nope", 404, "Not Found Error"},
		{"conditional datastore", "/api/3/action/datastore_search?resource_id=" + e.cond.Slug, 403, "Authorization Error"},
		{"closed datastore", "/api/3/action/datastore_search?resource_id=" + e.closed.Slug, 404, "Not Found Error"},
		{"closed version id", "/api/3/action/datastore_search?resource_id=" + e.closed.CurrentVersion.ID, 404, "Not Found Error"},
		{"datastore bad filters", "/api/3/action/datastore_search?resource_id=" + e.open.Slug + "&filters=%5B1%5D", 409, "Validation Error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := MustCKAN(t, e.url+tc.path, tc.status, nil)
			if env.Error.Type != tc.typ {
				t.Fatalf("__type %q, want %q (%s)", env.Error.Type, tc.typ, env.Error.Message)
			}
		})
	}
	t.Run("start past the end is empty", func(t *testing.T) {
		var res searchResult
		MustCKAN(t, e.url+"/api/3/action/package_search?rows=10&start=100", 200, &res)
		if res.Count != len(e.public) || len(res.Results) != 0 {
			t.Fatalf("count %d results %d", res.Count, len(res.Results))
		}
	})
}

func TestCKANOrganizationsAndLists(t *testing.T) {
	e := MustCKANEnv(t)
	t.Run("organization_list", func(t *testing.T) {
		var names []string
		MustCKAN(t, e.url+"/api/3/action/organization_list", 200, &names)
		if !slices.Equal(names, []string{"moenv", "moi"}) {
			t.Fatalf("organizations %v", names)
		}
	})
	t.Run("organization_show counts public entries only", func(t *testing.T) {
		var org ckanOrg
		MustCKAN(t, e.url+"/api/3/action/organization_show?id=moenv&include_datasets=true", 200, &org)
		if org.Name != "moenv" || org.Title != "環境部" || org.PackageCount == nil || *org.PackageCount != 3 || len(org.Packages) != 3 {
			t.Fatalf("organization %+v", org)
		}
	})
	t.Run("package_list", func(t *testing.T) {
		var names []string
		MustCKAN(t, e.url+"/api/3/action/package_list", 200, &names)
		if len(names) != len(e.public) || slices.Contains(names, e.closed.Slug) || !slices.IsSorted(names) {
			t.Fatalf("package_list %v", names)
		}
	})
	t.Run("status_show", func(t *testing.T) {
		var st map[string]any
		MustCKAN(t, e.url+"/api/3/action/status_show", 200, &st)
		if st["site_url"] != e.url {
			t.Fatalf("status %v", st)
		}
	})
}

type dsResult struct {
	Fields  []map[string]string `json:"fields"`
	Records []map[string]any    `json:"records"`
	Total   int64               `json:"total"`
}

func TestCKANDatastoreSearch(t *testing.T) {
	e := MustCKANEnv(t)
	base := e.url + "/api/3/action/datastore_search?resource_id="
	var all dsResult
	MustCKAN(t, base+e.open.CurrentVersion.ID+"&limit=10", 200, &all)
	if all.Total != e.open.CurrentVersion.Rows || len(all.Records) != 10 || len(all.Fields) != len(e.open.CurrentVersion.Columns) {
		t.Fatalf("total %d (want %d), %d records, %d fields", all.Total, e.open.CurrentVersion.Rows, len(all.Records), len(all.Fields))
	}
	t.Run("offset pages join up", func(t *testing.T) {
		var p1, p2 dsResult
		MustCKAN(t, base+e.open.Slug+"&limit=5", 200, &p1)
		MustCKAN(t, base+e.open.Slug+"&limit=5&offset=5", 200, &p2)
		got, _ := json.Marshal(append(p1.Records, p2.Records...))
		want, _ := json.Marshal(all.Records)
		if !bytes.Equal(got, want) {
			t.Fatalf("offset pages differ from one page:\n%s\n%s", got, want)
		}
	})
	t.Run("filters", func(t *testing.T) {
		field := all.Fields[0]["id"]
		val := all.Records[0][field]
		fb, _ := json.Marshal(map[string]any{field: val})
		var res dsResult
		MustCKAN(t, base+e.open.ID+"&filters="+url.QueryEscape(string(fb)), 200, &res)
		if len(res.Records) == 0 || res.Total != int64(len(res.Records)) && len(res.Records) < 100 {
			t.Fatalf("filter %s: %d records, total %d", fb, len(res.Records), res.Total)
		}
		for _, r := range res.Records {
			if r[field] != val {
				t.Fatalf("filter %s returned %v", fb, r[field])
			}
		}
	})
	t.Run("fields", func(t *testing.T) {
		f := all.Fields[1]["id"]
		var res dsResult
		MustCKAN(t, base+e.open.ID+"&limit=2&fields="+url.QueryEscape(f), 200, &res)
		if len(res.Fields) != 1 || len(res.Records) != 2 || len(res.Records[0]) != 1 {
			t.Fatalf("fields=%s: %+v", f, res)
		}
	})
}

func TestCKANTag(t *testing.T) {
	for in, want := range map[string]string{"空氣": "空氣", "水": "", "交通/運輸": "交通-運輸", "（測試）": "測試", "a、b·c": "a-b-c", " x ": ""} {
		t.Run(in, func(t *testing.T) {
			if got := ckanTag(in); got != want {
				t.Fatalf("ckanTag(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func FuzzParseFQ(f *testing.F) {
	for _, s := range []string{
		"organization:a OR organization:b metadata_modified:[2024-05-01T09:00:00.123456Z TO *]",
		"-organization:a -organization:b", "groups:x OR groups:y", "metadata_modified:{* TO 2024-01-01}",
		"tags:\"a b\"", "OR", "a:", "[", "name:[x TO y]", "(a:b)", "*:*",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := parseFQ(s)
		if err != nil {
			var ce *ckanError
			if !errors.As(err, &ce) || ce.Status != 409 {
				t.Fatalf("parseFQ(%q) error %v is not a CKAN search error", s, err)
			}
			return
		}
		p := ckanPackage{ID: "x", MetadataModified: "2024-05-01T09:00:00.000000"}
		_ = q.match(&p) // must not panic
	})
}
