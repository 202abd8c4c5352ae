package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/blob/blobtest"
	"kaifang/datasets/sqlstore/sqltest"
)

// indexCount counts the indexes on a row table, on either database.
func indexCount(t *testing.T, e *env, table string) int {
	t.Helper()
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`
	if e.store.Dialect() == "postgres" {
		q = `SELECT count(*) FROM pg_indexes WHERE tablename = $1`
	}
	var n int
	if err := e.store.DB().QueryRowContext(context.Background(), q, table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestQueriedColumnsGetAnIndexAndUseIsCounted(t *testing.T) {
	for _, db := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", sqltest.SQLiteURL}, {"postgres", sqltest.PostgresURL}} {
		t.Run(db.name, func(t *testing.T) {
			e := MustEnv(t, db.url(t), blobtest.MustOpenLocal(t))
			var b strings.Builder
			b.WriteString("站點,數值\n")
			for i := 0; i < indexMinRows; i++ {
				fmt.Fprintf(&b, "站%d,%d\n", i%50, i)
			}
			d := MustDataset(t, e, "big-table", "大表", datasets.Open)
			v := MustVersion(t, e, d, "big.csv", []byte(b.String()), true)
			before := indexCount(t, e, v.RowTable)

			for i := 0; i < 5; i++ {
				p := MustRecords(t, e, "big-table", "站點=站7&sort=-數值&limit=3")
				if len(p.Records) != 3 || p.Records[0]["數值"] != float64(9957) {
					t.Fatalf("records = %v, want the 3 largest of 站7 starting at 9957", p.Records)
				}
			}
			MustRecords(t, e, "big-table", "limit=1") // no filter: nothing to index
			if err := e.srv.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := indexCount(t, e, v.RowTable); got != before+2 {
				t.Errorf("row table has %d indexes after filtering on 站點 and sorting on 數值, want %d", got, before+2)
			}
			// Six calls summed in memory, written once the window closed.
			var dd *datasets.Dataset
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				var err error
				if dd, err = e.store.Dataset(context.Background(), d.ID); err != nil {
					t.Fatal(err)
				}
				if dd.APICalls == 6 {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if dd.APICalls != 6 {
				t.Errorf("api_calls = %d after 6 records requests, want 6", dd.APICalls)
			}
		})
	}
}
