package portal_test

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/sqlstore/sqltest"
	"kaifang/portal"
)

// A version whose process died mid-ingestion stays pending; the sweep fails
// it with the reason and removes its file and rows, and leaves alone a
// version that may still be ingesting and the current one.
func TestSweepPendingFailsAbandonedVersions(t *testing.T) {
	for _, dbName := range sqltest.Names {
		t.Run(dbName, func(t *testing.T) {
			ctx := context.Background()
			svc, st, d := versionFixture(t, sqltest.URL(t, dbName), "file://"+t.TempDir())
			good, err := svc.AddVersion(ctx, d.ID, upload([]byte("地区,人口\n北京市,2183\n"), "人口.csv"))
			if err != nil {
				t.Fatal(err)
			}
			// What a killed ingestion leaves: a pending version, its file
			// stored, its rows loaded, never finished.
			abandoned := &datasets.Version{DatasetID: d.ID, Filename: "人口 2025.csv", MediaType: "text/csv", State: datasets.VersionPending, CreatedBy: "test"}
			if err := st.CreateVersion(ctx, abandoned); err != nil {
				t.Fatal(err)
			}
			key := "datasets/" + d.ID + "/v" + itoa(abandoned.Number) + "/2025.csv"
			if _, err := svc.Blobs.Put(ctx, key, strings.NewReader("x"), 1, "text/csv"); err != nil {
				t.Fatal(err)
			}
			table := "r_" + strings.ReplaceAll(abandoned.ID, "-", "")
			if _, err := st.LoadRows(ctx, table, []datasets.Column{{Name: "a", Type: datasets.TypeText}}, &oneRow{}); err != nil {
				t.Fatal(err)
			}

			if n, err := svc.SweepPending(ctx, portal.StaleAfter); err != nil || n != 0 {
				t.Fatalf("sweep of a fresh pending version: %d, %v; want 0 (it may still be ingesting)", n, err)
			}
			later := *svc
			later.Now = func() time.Time { return time.Now().Add(portal.StaleAfter + time.Hour) }
			if n, err := later.SweepPending(ctx, portal.StaleAfter); err != nil || n != 1 {
				t.Fatalf("sweep: %d, %v; want 1", n, err)
			}
			v, err := st.Version(ctx, d.ID, abandoned.Number)
			if err != nil {
				t.Fatal(err)
			}
			if v.State != datasets.VersionFailed || !strings.Contains(v.Error, "interrupted") {
				t.Fatalf("abandoned version is %s (%q), want failed and why", v.State, v.Error)
			}
			if _, err := svc.Blobs.Stat(ctx, key); !datasets.IsCode(err, datasets.ENOTFOUND) {
				t.Errorf("its file is still stored: %v", err)
			}
			if _, err := st.QueryRows(ctx, table, datasets.RowQuery{Columns: []datasets.Column{{Name: "a", Type: datasets.TypeText}}, Limit: 1}); !datasets.IsCode(err, datasets.ENOTFOUND) {
				t.Errorf("its rows are still there: %v", err)
			}
			cur, err := st.Dataset(ctx, d.ID)
			if err != nil || cur.CurrentVersion == nil || cur.CurrentVersion.Number != good.Number {
				t.Fatalf("current version after the sweep: %+v, %v; want %d", cur.CurrentVersion, err, good.Number)
			}
			if n, err := later.SweepPending(ctx, portal.StaleAfter); err != nil || n != 0 {
				t.Fatalf("second sweep: %d, %v; want 0", n, err)
			}
		})
	}
}

type oneRow struct{ done bool }

func (r *oneRow) Next() ([]any, error) {
	if r.done {
		return nil, io.EOF
	}
	r.done = true
	return []any{"x"}, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
