package gateway

import (
	"context"
	"strings"
	"testing"

	"kaifang/datasets"
	"kaifang/datasets/blob/blobtest"
	"kaifang/datasets/sqlstore"
	"kaifang/datasets/sqlstore/sqltest"
)

// The records path caches entries, but an entry withdrawn or reclassified
// by another process (a second Store on the same database, whose writes
// this process's cache does not hear of) must stop serving rows on the
// very next request, not when the cache expires.
func TestRecordsEntryCacheYieldsToOtherProcesses(t *testing.T) {
	for _, name := range sqltest.Names {
		t.Run(name, func(t *testing.T) {
			url := sqltest.URL(t, name)
			e := MustEnv(t, url, blobtest.MustOpenLocal(t))
			other, err := sqlstore.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { other.Close() })
			ctx := context.Background()
			path := e.url + "/api/v1/datasets/" + e.open.Slug + "/records?limit=5"
			for range 2 { // the second answer comes from the cache
				if p := MustRecords(t, e, e.open.Slug, "limit=5"); len(p.Records) != 5 {
					t.Fatalf("%d records before the change", len(p.Records))
				}
			}

			d, err := other.Dataset(ctx, e.open.ID)
			if err != nil {
				t.Fatal(err)
			}
			d.OpenClass, d.Reason, d.LegalBasis = datasets.Conditional, "含個人信息", "《上海市數據條例》第三十條"
			d.AccessModes = []datasets.AccessMode{datasets.Query}
			if err := other.UpdateDataset(ctx, d, datasets.Change{Actor: "other process", Summary: "reclassified"}); err != nil {
				t.Fatal(err)
			}
			resp, body := MustGet(t, path)
			if resp.StatusCode != 401 {
				t.Fatalf("entry made conditional elsewhere, anonymous records: %d %s", resp.StatusCode, body)
			}
			assertNoRows(t, body)

			d.State = datasets.Withdrawn
			if err := other.UpdateDataset(ctx, d, datasets.Change{Actor: "other process", Summary: "withdrawn"}); err != nil {
				t.Fatal(err)
			}
			resp, body = MustGet(t, path)
			if resp.StatusCode != 404 {
				t.Fatalf("entry withdrawn elsewhere, records: %d %s", resp.StatusCode, body)
			}
			assertNoRows(t, body)
		})
	}
}

// assertNoRows fails if body holds any station of the AQI fixture.
func assertNoRows(t *testing.T, body []byte) {
	t.Helper()
	for _, station := range []string{"基隆", "汐止", "SiteName"} {
		if strings.Contains(string(body), station) {
			t.Fatalf("response carries row data (%s): %s", station, body)
		}
	}
}
