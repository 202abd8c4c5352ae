// Package catalogtest is the contract every datasets.Catalog must meet, as
// a test suite an adapter runs against its own backends. It checks what
// callers rely on: codes of errors, the public gate, version and outbox
// semantics, not how an adapter stores anything.
package catalogtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"kaifang/datasets"
)

// Run runs the suite; open must return a new, empty catalogue.
func Run(t *testing.T, open func(t *testing.T) datasets.Catalog) {
	t.Run("agencies", func(t *testing.T) { testAgencies(t, open(t)) })
	t.Run("datasets", func(t *testing.T) { testDatasets(t, open(t)) })
	t.Run("list", func(t *testing.T) { testList(t, open(t)) })
	t.Run("public", func(t *testing.T) { testPublic(t, open(t)) })
	t.Run("versions", func(t *testing.T) { testVersions(t, open(t)) })
	t.Run("outbox", func(t *testing.T) { testOutbox(t, open(t)) })
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := datasets.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %s", err, got, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// MustAgency creates an agency with this slug.
func MustAgency(t *testing.T, c datasets.Catalog, slug, name string) *datasets.Agency {
	t.Helper()
	a := &datasets.Agency{Slug: slug, Name: name}
	must(t, c.CreateAgency(context.Background(), a))
	return a
}

// NewDataset returns a valid open, published entry of agency a.
func NewDataset(a *datasets.Agency, slug string) *datasets.Dataset {
	return &datasets.Dataset{
		Slug: slug, Title: "標題 " + slug, Description: "說明", Agency: a.Ref(),
		Category: datasets.Transport, OpenClass: datasets.Open, Frequency: datasets.Daily,
		Formats: []string{"CSV", "json"}, Tags: []string{"交通"},
		Fields:      []datasets.Field{{Name: "站名", Type: datasets.TypeText}, {Name: "PM2.5", Type: datasets.TypeDecimal}},
		AccessModes: []datasets.AccessMode{datasets.Bulk}, State: datasets.Published, License: "政府資料開放授權條款",
	}
}

// MustDataset stores d.
func MustDataset(t *testing.T, c datasets.Catalog, d *datasets.Dataset) *datasets.Dataset {
	t.Helper()
	must(t, c.CreateDataset(context.Background(), d, datasets.Change{Actor: "tester", Summary: "created"}))
	return d
}

func testAgencies(t *testing.T, c datasets.Catalog) {
	ctx := context.Background()
	must(t, c.Ping(ctx))
	a := MustAgency(t, c, "transport-bureau", "交通局")
	if a.ID == "" || a.CreatedAt.IsZero() || a.UpdatedAt.IsZero() {
		t.Fatalf("CreateAgency did not set id and times: %+v", a)
	}
	MustAgency(t, c, "env-bureau", "Environment")
	for _, key := range []string{a.ID, a.Slug} {
		got, err := c.Agency(ctx, key)
		must(t, err)
		if got.ID != a.ID || got.Name != "交通局" || !got.CreatedAt.Equal(a.CreatedAt) {
			t.Fatalf("Agency(%q) = %+v, want %+v", key, got, a)
		}
	}
	t.Run("slug taken", func(t *testing.T) {
		wantCode(t, c.CreateAgency(ctx, &datasets.Agency{Slug: "transport-bureau", Name: "again"}), datasets.ECONFLICT)
	})
	t.Run("bad slug", func(t *testing.T) {
		wantCode(t, c.CreateAgency(ctx, &datasets.Agency{Slug: "Bad Slug", Name: "x"}), datasets.EINVALID)
	})
	t.Run("not found", func(t *testing.T) {
		_, err := c.Agency(ctx, "no-such-agency")
		wantCode(t, err, datasets.ENOTFOUND)
		_, err = c.Agency(ctx, "9b2f7c1e-6a35-4c8e-9f3e-1d2c3b4a5f60")
		wantCode(t, err, datasets.ENOTFOUND)
	})
	t.Run("list by name", func(t *testing.T) {
		as, err := c.Agencies(ctx)
		must(t, err)
		if len(as) != 2 || as[0].Name != "Environment" || as[1].Name != "交通局" {
			t.Fatalf("Agencies = %+v", as)
		}
	})
	t.Run("update", func(t *testing.T) {
		u := *a
		u.Name, u.Website = "交通運輸局", "https://example.gov.tw"
		must(t, c.UpdateAgency(ctx, &u))
		got, err := c.Agency(ctx, a.Slug)
		must(t, err)
		if got.Name != "交通運輸局" || got.Website != "https://example.gov.tw" || got.Slug != a.Slug {
			t.Fatalf("after update: %+v", got)
		}
		missing := u
		missing.ID = "9b2f7c1e-6a35-4c8e-9f3e-1d2c3b4a5f60"
		wantCode(t, c.UpdateAgency(ctx, &missing), datasets.ENOTFOUND)
	})
}

func testDatasets(t *testing.T, c datasets.Catalog) {
	ctx := context.Background()
	a := MustAgency(t, c, "weather-bureau", "氣象署")
	d := MustDataset(t, c, NewDataset(a, "forecast-36h"))
	if d.ID == "" || d.Agency != a.Ref() || d.PublishedAt == nil || d.CurrentVersion != nil {
		t.Fatalf("created entry = %+v", d)
	}
	for _, key := range []string{d.ID, d.Slug} {
		got, err := c.Dataset(ctx, key)
		must(t, err)
		if got.Title != d.Title || got.Agency != a.Ref() || !slices.Equal(got.Formats, []string{"CSV", "json"}) ||
			len(got.Fields) != 2 || got.Fields[1].Name != "PM2.5" || got.CurrentVersion != nil ||
			!got.UpdatedAt.Equal(d.UpdatedAt) || got.UpdatedAt.Location() != time.UTC {
			t.Fatalf("Dataset(%q) = %+v", key, got)
		}
	}
	t.Run("timestamps keep sub-second precision", func(t *testing.T) {
		at := time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.FixedZone("CST", 8*3600))
		e := NewDataset(a, "precise")
		e.CreatedAt, e.UpdatedAt = at, at
		MustDataset(t, c, e)
		got, err := c.Dataset(ctx, "precise")
		must(t, err)
		if !got.CreatedAt.Equal(at) || got.CreatedAt.Nanosecond() != 123456000 {
			t.Fatalf("CreatedAt = %v, want %v", got.CreatedAt, at)
		}
	})
	t.Run("slug taken", func(t *testing.T) {
		wantCode(t, c.CreateDataset(ctx, NewDataset(a, "forecast-36h"), datasets.Change{}), datasets.ECONFLICT)
	})
	t.Run("invalid entry", func(t *testing.T) {
		e := NewDataset(a, "closed-no-reason")
		e.OpenClass, e.State = datasets.Closed, datasets.Draft
		wantCode(t, c.CreateDataset(ctx, e, datasets.Change{}), datasets.EINVALID)
	})
	t.Run("unknown agency", func(t *testing.T) {
		e := NewDataset(&datasets.Agency{ID: "9b2f7c1e-6a35-4c8e-9f3e-1d2c3b4a5f60"}, "orphan")
		if err := c.CreateDataset(ctx, e, datasets.Change{}); err == nil {
			t.Fatal("entry of a missing agency was stored")
		}
	})
	t.Run("not found", func(t *testing.T) {
		_, err := c.Dataset(ctx, "nope")
		wantCode(t, err, datasets.ENOTFOUND)
	})
	t.Run("update and history", func(t *testing.T) {
		u := *d
		u.Title, u.Tags = "三十六小時天氣預報", []string{"氣象", "預報"}
		must(t, c.UpdateDataset(ctx, &u, datasets.Change{Actor: "editor", Action: "update", Summary: "retitled"}))
		if !u.UpdatedAt.After(d.UpdatedAt) && !u.UpdatedAt.Equal(d.UpdatedAt) {
			t.Fatalf("UpdatedAt went back: %v < %v", u.UpdatedAt, d.UpdatedAt)
		}
		got, err := c.Dataset(ctx, d.ID)
		must(t, err)
		if got.Title != "三十六小時天氣預報" || !slices.Equal(got.Tags, []string{"氣象", "預報"}) || got.Agency != a.Ref() {
			t.Fatalf("after update: %+v", got)
		}
		hs, err := c.History(ctx, d.ID)
		must(t, err)
		if len(hs) != 2 || hs[0].Action != "update" || hs[0].Actor != "editor" || hs[1].Action != "create" {
			t.Fatalf("History = %+v", hs)
		}
		var df map[string][2]any
		if err := json.Unmarshal([]byte(hs[0].Diff), &df); err != nil {
			t.Fatalf("diff %q: %v", hs[0].Diff, err)
		}
		if df["title"][1] != "三十六小時天氣預報" {
			t.Fatalf("diff = %s", hs[0].Diff)
		}
		if _, ok := df["slug"]; ok {
			t.Fatalf("diff lists an unchanged field: %s", hs[0].Diff)
		}
		_, err = c.History(ctx, "9b2f7c1e-6a35-4c8e-9f3e-1d2c3b4a5f60")
		wantCode(t, err, datasets.ENOTFOUND)
	})
	t.Run("first publish sets published_at", func(t *testing.T) {
		e := NewDataset(a, "draft-first")
		e.State = datasets.Draft
		MustDataset(t, c, e)
		if e.PublishedAt != nil {
			t.Fatalf("draft has PublishedAt %v", e.PublishedAt)
		}
		e.State = datasets.Published
		must(t, c.UpdateDataset(ctx, e, datasets.Change{Action: "publish"}))
		if e.PublishedAt == nil {
			t.Fatal("publish did not set PublishedAt")
		}
	})
	t.Run("closed cannot be published", func(t *testing.T) {
		u, err := c.Dataset(ctx, d.ID)
		must(t, err)
		u.OpenClass, u.Reason, u.LegalBasis = datasets.Closed, "privacy", "個人資料保護法"
		wantCode(t, c.UpdateDataset(ctx, u, datasets.Change{}), datasets.EINVALID)
	})
	t.Run("count use", func(t *testing.T) {
		must(t, c.CountUse(ctx, d.ID, 2, 5))
		must(t, c.CountUse(ctx, d.ID, 1, 0))
		got, err := c.Dataset(ctx, d.ID)
		must(t, err)
		if got.Downloads != 3 || got.APICalls != 5 {
			t.Fatalf("counters = %d, %d", got.Downloads, got.APICalls)
		}
		wantCode(t, c.CountUse(ctx, "9b2f7c1e-6a35-4c8e-9f3e-1d2c3b4a5f60", 1, 1), datasets.ENOTFOUND)
	})
}

func slugs(ds []datasets.Dataset) []string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Slug)
	}
	slices.Sort(s)
	return s
}

// seed stores entries covering every class and state and returns the two agencies.
func seed(t *testing.T, c datasets.Catalog) (*datasets.Agency, *datasets.Agency) {
	a := MustAgency(t, c, "agency-a", "A")
	b := MustAgency(t, c, "agency-b", "B")
	mk := func(ag *datasets.Agency, slug string, class datasets.OpenClass, st datasets.State, cat datasets.Category, formats ...string) {
		d := NewDataset(ag, slug)
		d.OpenClass, d.State, d.Category, d.Formats = class, st, cat, formats
		if class != datasets.Open {
			d.Reason, d.LegalBasis = "contains personal data", "個人資料保護法 第 6 條"
		}
		d.Frequency = datasets.Monthly
		MustDataset(t, c, d)
	}
	mk(a, "open-pub", datasets.Open, datasets.Published, datasets.Transport, "CSV")
	mk(a, "cond-pub", datasets.Conditional, datasets.Published, datasets.Healthcare, "XLSX", "csv")
	mk(a, "closed-draft", datasets.Closed, datasets.Draft, datasets.Healthcare, "CSV")
	mk(b, "open-draft", datasets.Open, datasets.Draft, datasets.Transport, "JSON")
	mk(b, "open-review", datasets.Open, datasets.InReview, datasets.Weather, "CSV")
	mk(b, "open-withdrawn", datasets.Open, datasets.Withdrawn, datasets.Weather, "CSV")
	mk(b, "closed-withdrawn", datasets.Closed, datasets.Withdrawn, datasets.Credit, "CSV")
	return a, b
}

func testList(t *testing.T, c datasets.Catalog) {
	ctx := context.Background()
	a, _ := seed(t, c)
	cases := []struct {
		name string
		f    datasets.DatasetFilter
		want []string
	}{
		{"all", datasets.DatasetFilter{}, []string{"closed-draft", "closed-withdrawn", "cond-pub", "open-draft", "open-pub", "open-review", "open-withdrawn"}},
		{"agency", datasets.DatasetFilter{AgencyID: a.ID}, []string{"closed-draft", "cond-pub", "open-pub"}},
		{"states", datasets.DatasetFilter{States: []datasets.State{datasets.Draft, datasets.InReview}}, []string{"closed-draft", "open-draft", "open-review"}},
		{"classes", datasets.DatasetFilter{OpenClasses: []datasets.OpenClass{datasets.Closed}}, []string{"closed-draft", "closed-withdrawn"}},
		{"category", datasets.DatasetFilter{Category: datasets.Weather}, []string{"open-review", "open-withdrawn"}},
		{"frequency", datasets.DatasetFilter{Frequency: datasets.Daily}, nil},
		{"format ignores case", datasets.DatasetFilter{Format: "csv"}, []string{"closed-draft", "closed-withdrawn", "cond-pub", "open-pub", "open-review", "open-withdrawn"}},
		{"format xlsx", datasets.DatasetFilter{Format: "Xlsx"}, []string{"cond-pub"}},
		{"combined", datasets.DatasetFilter{AgencyID: a.ID, Format: "CSV", States: []datasets.State{datasets.Published}}, []string{"cond-pub", "open-pub"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ds, total, err := c.Datasets(ctx, tc.f)
			must(t, err)
			if got := slugs(ds); !slices.Equal(got, tc.want) || total != len(tc.want) {
				t.Fatalf("got %v (total %d), want %v", got, total, tc.want)
			}
			for _, d := range ds {
				if d.Agency.Name == "" || d.Agency.Slug == "" {
					t.Fatalf("entry %s lacks its agency: %+v", d.Slug, d.Agency)
				}
			}
		})
	}
	t.Run("paging by title", func(t *testing.T) {
		var seen []string
		for page := 1; page <= 4; page++ {
			ds, total, err := c.Datasets(ctx, datasets.DatasetFilter{Sort: "title", Page: page, PerPage: 3})
			must(t, err)
			if total != 7 {
				t.Fatalf("total = %d, want 7", total)
			}
			for _, d := range ds {
				seen = append(seen, d.Slug)
			}
		}
		want := []string{"closed-draft", "closed-withdrawn", "cond-pub", "open-draft", "open-pub", "open-review", "open-withdrawn"}
		if !slices.Equal(seen, want) {
			t.Fatalf("pages = %v, want %v", seen, want)
		}
	})
	t.Run("bad sort", func(t *testing.T) {
		_, _, err := c.Datasets(ctx, datasets.DatasetFilter{Sort: "title; DROP TABLE datasets"})
		wantCode(t, err, datasets.EINVALID)
	})
}

func testPublic(t *testing.T, c datasets.Catalog) {
	ctx := context.Background()
	seed(t, c)
	for _, f := range []datasets.DatasetFilter{
		{},
		{States: []datasets.State{datasets.Draft, datasets.Withdrawn}},
		{OpenClasses: []datasets.OpenClass{datasets.Closed}},
		{OpenClasses: []datasets.OpenClass{datasets.Closed, datasets.Open, datasets.Conditional}, States: datasets.States},
	} {
		t.Run(fmt.Sprintf("filter %v %v", f.States, f.OpenClasses), func(t *testing.T) {
			ds, total, err := c.PublicDatasets(ctx, f)
			must(t, err)
			for _, d := range ds {
				if !d.IsPublic() {
					t.Fatalf("PublicDatasets returned %s (%s, %s)", d.Slug, d.OpenClass, d.State)
				}
			}
			if total != len(ds) || total > 2 {
				t.Fatalf("total %d for %v", total, slugs(ds))
			}
		})
	}
	t.Run("unfiltered lists the two public entries", func(t *testing.T) {
		ds, _, err := c.PublicDatasets(ctx, datasets.DatasetFilter{})
		must(t, err)
		if got := slugs(ds); !slices.Equal(got, []string{"cond-pub", "open-pub"}) {
			t.Fatalf("public = %v", got)
		}
	})
	t.Run("one entry", func(t *testing.T) {
		for _, slug := range []string{"closed-draft", "closed-withdrawn", "open-draft", "open-review", "open-withdrawn"} {
			_, err := c.PublicDataset(ctx, slug)
			wantCode(t, err, datasets.ENOTFOUND)
			d, err := c.Dataset(ctx, slug)
			must(t, err)
			_, err = c.PublicDataset(ctx, d.ID)
			wantCode(t, err, datasets.ENOTFOUND)
		}
		d, err := c.PublicDataset(ctx, "cond-pub")
		must(t, err)
		if d.OpenClass != datasets.Conditional || d.Agency.Slug != "agency-a" {
			t.Fatalf("PublicDataset = %+v", d)
		}
	})
}

func testVersions(t *testing.T, c datasets.Catalog) {
	ctx := context.Background()
	a := MustAgency(t, c, "stats", "統計局")
	d := MustDataset(t, c, NewDataset(a, "population"))
	cols := []datasets.Field{{Name: "地區", Type: datasets.TypeText}, {Name: "2024年", Type: datasets.TypeDecimal}}
	var vs []*datasets.Version
	for i := 1; i <= 3; i++ {
		v := &datasets.Version{DatasetID: d.ID, BlobKey: fmt.Sprintf("k/%d", i), Filename: "pop.csv", CreatedBy: "uploader"}
		must(t, c.CreateVersion(ctx, v))
		if v.Number != i || v.State != datasets.VersionPending || v.ID == "" {
			t.Fatalf("version %d = %+v", i, v)
		}
		vs = append(vs, v)
	}
	finish := func(v *datasets.Version, st datasets.VersionState, msg string) error {
		v.State, v.Error, v.Size, v.SHA256, v.Rows, v.Columns, v.RowTable = st, msg, 2126, "abc123", 34, cols, fmt.Sprintf("rows_v%d", v.Number)
		v.MediaType, v.Encoding = "text/csv", "gb18030"
		return c.FinishVersion(ctx, v)
	}
	before, _ := c.Outbox(ctx, 0, 0)
	must(t, finish(vs[0], datasets.VersionReady, ""))
	t.Run("ready becomes current", func(t *testing.T) {
		got, err := c.Dataset(ctx, d.ID)
		must(t, err)
		cv := got.CurrentVersion
		if cv == nil || cv.Number != 1 || cv.State != datasets.VersionReady || cv.ReadyAt == nil || cv.Rows != 34 ||
			cv.Encoding != "gb18030" || !slices.Equal(cv.Columns, cols) || cv.RowTable != "rows_v1" {
			t.Fatalf("current version = %+v", cv)
		}
		hs, err := c.History(ctx, d.ID)
		must(t, err)
		if hs[0].Action != "version" {
			t.Fatalf("newest change = %+v, want action version", hs[0])
		}
		after, _ := c.Outbox(ctx, 0, 0)
		if len(after) != len(before)+1 || after[len(after)-1].DatasetID != d.ID {
			t.Fatalf("outbox grew from %d to %d", len(before), len(after))
		}
	})
	t.Run("failed keeps error and the current version", func(t *testing.T) {
		must(t, finish(vs[1], datasets.VersionFailed, "row 7: 2024年 is not a decimal"))
		got, err := c.Dataset(ctx, d.ID)
		must(t, err)
		if got.CurrentVersion == nil || got.CurrentVersion.Number != 1 {
			t.Fatalf("current version = %+v, want 1", got.CurrentVersion)
		}
		v2, err := c.Version(ctx, d.ID, 2)
		must(t, err)
		if v2.State != datasets.VersionFailed || v2.Error != "row 7: 2024年 is not a decimal" || v2.ReadyAt != nil {
			t.Fatalf("failed version = %+v", v2)
		}
	})
	t.Run("finish twice", func(t *testing.T) {
		wantCode(t, finish(vs[0], datasets.VersionReady, ""), datasets.ECONFLICT)
		wantCode(t, finish(vs[1], datasets.VersionReady, ""), datasets.ECONFLICT)
	})
	t.Run("newer ready replaces current", func(t *testing.T) {
		must(t, finish(vs[2], datasets.VersionReady, ""))
		got, err := c.Dataset(ctx, d.Slug)
		must(t, err)
		if got.CurrentVersion == nil || got.CurrentVersion.Number != 3 {
			t.Fatalf("current version = %+v, want 3", got.CurrentVersion)
		}
	})
	t.Run("list newest first", func(t *testing.T) {
		all, err := c.Versions(ctx, d.ID)
		must(t, err)
		var nums []int
		for _, v := range all {
			nums = append(nums, v.Number)
		}
		if !slices.Equal(nums, []int{3, 2, 1}) {
			t.Fatalf("versions = %v", nums)
		}
	})
	t.Run("not found", func(t *testing.T) {
		_, err := c.Version(ctx, d.ID, 9)
		wantCode(t, err, datasets.ENOTFOUND)
		wantCode(t, c.CreateVersion(ctx, &datasets.Version{DatasetID: "9b2f7c1e-6a35-4c8e-9f3e-1d2c3b4a5f60"}), datasets.ENOTFOUND)
	})
}

func testOutbox(t *testing.T, c datasets.Catalog) {
	ctx := context.Background()
	a := MustAgency(t, c, "outbox-agency", "O")
	var ids []string
	for i := range 5 {
		d := MustDataset(t, c, NewDataset(a, fmt.Sprintf("entry-%d", i)))
		ids = append(ids, d.ID)
	}
	d, err := c.Dataset(ctx, ids[1])
	must(t, err)
	d.Title = "changed"
	must(t, c.UpdateDataset(ctx, d, datasets.Change{}))
	ids = append(ids, ids[1])

	es, err := c.Outbox(ctx, 0, 100)
	must(t, err)
	if len(es) != len(ids) {
		t.Fatalf("outbox has %d events, want %d", len(es), len(ids))
	}
	for i, e := range es {
		if e.DatasetID != ids[i] || e.At.IsZero() || (i > 0 && e.Seq <= es[i-1].Seq) {
			t.Fatalf("event %d = %+v, want dataset %s after seq %d", i, e, ids[i], es[max(i-1, 0)].Seq)
		}
	}
	page, err := c.Outbox(ctx, es[1].Seq, 2)
	must(t, err)
	if len(page) != 2 || page[0].Seq != es[2].Seq || page[1].Seq != es[3].Seq {
		t.Fatalf("Outbox(after %d, 2) = %+v", es[1].Seq, page)
	}
	t.Run("cursors", func(t *testing.T) {
		n, err := c.Cursor(ctx, "search")
		must(t, err)
		if n != 0 {
			t.Fatalf("new cursor = %d", n)
		}
		must(t, c.SetCursor(ctx, "search", es[2].Seq))
		must(t, c.SetCursor(ctx, "search", es[4].Seq))
		must(t, c.SetCursor(ctx, "other", 1))
		if n, _ := c.Cursor(ctx, "search"); n != es[4].Seq {
			t.Fatalf("cursor = %d, want %d", n, es[4].Seq)
		}
		rest, err := c.Outbox(ctx, es[4].Seq, 100)
		must(t, err)
		if len(rest) != 1 || rest[0].DatasetID != ids[5] {
			t.Fatalf("after cursor: %+v", rest)
		}
	})
}
