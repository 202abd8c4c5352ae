package tabular_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"kaifang/datasets/tabular"
)

// mustGenerateCSV writes rows × 10 columns of mixed types: integers,
// decimals, dates, datetimes, booleans, codes and Chinese text.
func mustGenerateCSV(tb testing.TB, dir string, rows int) string {
	tb.Helper()
	p := filepath.Join(dir, fmt.Sprintf("gen_%d.csv", rows))
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("id,station,code,amount,rate,day,at,open,county,note\n")
	names := []string{"臺北", "板橋", "桃園", "新竹", "臺中", "嘉義", "臺南", "高雄"}
	for i := range rows {
		fmt.Fprintf(w, "%d,%s站,%07d,%d,%d.%02d,2022-%02d-%02d,2022/%02d/%02d %02d:%02d:00,%t,%s市,\"第%d筆, 含逗號\"\n",
			i+1, names[i%8], i%100000, i*7%100000, i%1000, i%100, i%12+1, i%28+1, i%12+1, i%28+1, i%24, i%60, i%2 == 0, names[(i+3)%8], i)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return p
}

func benchRead(b *testing.B, p string) {
	b.Helper()
	st, _ := os.Stat(p)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	var rows int64
	for b.Loop() {
		info, err := tabular.Sniff(p, tabular.Options{})
		if err != nil {
			b.Fatal(err)
		}
		r, err := tabular.Open(p, info)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
		r.Close()
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReadCSV measures Sniff (whole-file typing) plus Open/Next over
// every row: the cost of ingesting a file.
func BenchmarkReadCSV(b *testing.B) {
	b.Run("TRA_86k_rows", func(b *testing.B) {
		benchRead(b, fixture("tw_tra_station_daily_in_out_2022.csv"))
	})
	b.Run("generated_1M_rows_x10", func(b *testing.B) {
		benchRead(b, mustGenerateCSV(b, b.TempDir(), 1_000_000))
	})
}

// BenchmarkWriteCSV measures converting typed rows back to CSV.
func BenchmarkWriteCSV(b *testing.B) {
	p := fixture("tw_tra_station_daily_in_out_2022.csv")
	info, err := tabular.Sniff(p, tabular.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := tabular.Open(p, info)
		if err != nil {
			b.Fatal(err)
		}
		if err := tabular.WriteCSV(io.Discard, info.Columns, r, true); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}

// TestGeneratedCSVTypes checks the generator's file types as intended, so
// the benchmark measures the full typing path (every type, quoted cells).
func TestGeneratedCSVTypes(t *testing.T) {
	p := mustGenerateCSV(t, t.TempDir(), 2000)
	info := MustSniff(t, p, tabular.Options{})
	want := []string{"integer", "text", "text", "integer", "decimal", "date", "datetime", "boolean", "text", "text"}
	for i, c := range info.Columns {
		if string(c.Type) != want[i] {
			t.Errorf("column %s is %s, want %s", c.Name, c.Type, want[i])
		}
	}
	if rows := MustReadAll(t, p, info); len(rows) != 2000 || rows[1][2] != "0000001" {
		t.Errorf("%d rows, second %v", len(rows), rows[1])
	}
}
