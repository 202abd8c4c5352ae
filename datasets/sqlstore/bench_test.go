package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"kaifang/datasets/sqlstore/bench"
	"kaifang/datasets/sqlstore/sqltest"
)

// BenchmarkLoadRows loads the 10-column benchmark table (1M rows, or
// KAIFANG_BENCH_ROWS) with and without the automatic indexes. Run it with
// -bench LoadRows -benchtime 1x; compare with bench/ingest.sh.
func BenchmarkLoadRows(b *testing.B) {
	n := 1000000
	if v, err := strconv.Atoi(os.Getenv("KAIFANG_BENCH_ROWS")); err == nil && v > 0 {
		n = v
	}
	for _, backend := range sqltest.Names {
		for _, autoIndex := range []int{0, 8} {
			b.Run(fmt.Sprintf("%s/index=%d", backend, autoIndex), func(b *testing.B) {
				sqltest.Require(b, backend)
				s := sqltest.MustOpen(b, sqltest.URL(b, backend))
				s.AutoIndex = autoIndex
				ctx := context.Background()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					table := fmt.Sprintf("bench_%d", i)
					got, err := s.LoadRows(ctx, table, bench.Columns, &bench.Source{N: n})
					if err != nil || got != int64(n) {
						b.Fatalf("loaded %d rows: %v", got, err)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
