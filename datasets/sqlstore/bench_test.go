package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"kaifang/datasets"
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

// BenchmarkQueryRows asks for 10-row pages filtered on one indexed text
// column (縣市, 8 values over 20,000 rows), as the records API does, from
// 8 goroutines. cpu-µs/op is the process's user+system CPU per page: the
// store's own cost, which wall time on one machine mixes with the
// database's.
func BenchmarkQueryRows(b *testing.B) {
	for _, backend := range sqltest.Names {
		b.Run(backend, func(b *testing.B) {
			sqltest.Require(b, backend)
			s := sqltest.MustOpen(b, sqltest.URL(b, backend))
			ctx := context.Background()
			if _, err := s.LoadRows(ctx, "bench_pages", bench.Columns, &bench.Source{N: 20000}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetParallelism(4)
			var before, after syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			b.ResetTimer()
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					county := bench.Row(int(i % 8))[2]
					page, err := s.QueryRows(ctx, "bench_pages", datasets.RowQuery{Columns: bench.Columns, Limit: 10,
						Filters: []datasets.RowFilter{{Field: "縣市", Op: datasets.OpEq, Values: []any{county}}}})
					if err != nil || len(page.Rows) != 10 {
						b.Errorf("page of %v: %d rows, %v", county, len(page.Rows), err)
						return
					}
				}
			})
			b.StopTimer()
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
			cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
