package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"kaifang/datasets/sqlstore"
	"kaifang/datasets/sqlstore/sqltest"
)

// BenchmarkAuditAppend appends audit records from 64 goroutines, as 64
// waiting keyed requests do, and reports records/s, the records a group
// commit took on average, this process's CPU per record (cpu-µs/op) and,
// when the database is a local PostgreSQL, its server processes' CPU per
// record (db-cpu-µs/op, read from /proc: all "postgres" processes, so run
// it on an otherwise idle server).
func BenchmarkAuditAppend(b *testing.B) {
	for _, backend := range sqltest.Names {
		b.Run(backend, func(b *testing.B) {
			sqltest.Require(b, backend)
			st := sqltest.MustOpen(b, sqltest.URL(b, backend))
			k := MustAuditKey(b, st, "bench")
			ctx := context.Background()
			b.SetParallelism(32)
			var before, after syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			db0 := postgresCPU()
			f0, m0 := sqlstore.AuditFastPath(st)
			b.ResetTimer()
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := k.use(int(n.Add(1)))
					r.Fields = []string{"code", "name", "mobile", "amount", "paid_on", "district"}
					r.Filter = "limit=10&fields=code,name,mobile,amount,paid_on,district&code=C00012"
					if err := st.AppendAudit(ctx, r); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
			cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			if f1, m1 := sqlstore.AuditFastPath(st); f1 > f0 {
				b.ReportMetric(float64(b.N)/float64(f1-f0+m1-m0), "records/batch")
			}
			if backend == "postgres" && db0 >= 0 {
				b.ReportMetric(float64(postgresCPU()-db0)/float64(b.N), "db-cpu-µs/op")
			}
		})
	}
}

// postgresCPU sums the user and system CPU, in µs, of every process named
// postgres on this machine; -1 when /proc cannot be read.
func postgresCPU() int64 {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return -1
	}
	var ticks int64
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open || s[open+1:end] != "postgres" {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64) // utime: field 14 of stat
		sy, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + sy
	}
	return ticks * 10000 // USER_HZ is 100 on Linux
}
