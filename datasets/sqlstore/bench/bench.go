// Package bench generates the synthetic table both the LoadRows benchmark
// and the raw-loader script (ingest.sh) load, so their rates compare.
package bench

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"kaifang/datasets"
)

// Columns is the 10-column schema of the benchmark table.
var Columns = []datasets.Column{
	{Name: "編號", Type: datasets.TypeInteger},
	{Name: "站名", Type: datasets.TypeText},
	{Name: "縣市", Type: datasets.TypeText},
	{Name: "AQI", Type: datasets.TypeInteger},
	{Name: "PM2.5", Type: datasets.TypeDecimal},
	{Name: "PM10", Type: datasets.TypeDecimal},
	{Name: "進站人數", Type: datasets.TypeInteger},
	{Name: "是否開放", Type: datasets.TypeBoolean},
	{Name: "日期", Type: datasets.TypeDate},
	{Name: "發布時間", Type: datasets.TypeDatetime},
}

var (
	sites    = []string{"基隆", "汐止", "萬里", "新店", "土城", "板橋", "新莊", "菜寮", "林口", "淡水", "士林", "中山", "萬華", "古亭", "松山", "大同"}
	counties = []string{"基隆市", "新北市", "臺北市", "桃園市", "新竹縣", "臺中市", "臺南市", "高雄市"}
	epoch    = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Row returns row i (0-based) as typed values.
func Row(i int) []any {
	t := epoch.Add(time.Duration(i) * 37 * time.Second)
	return []any{
		int64(i + 1), sites[i%len(sites)] + strconv.Itoa(i%997), counties[i%len(counties)],
		int64(i % 300), float64(i%1000) / 10, float64(i%777) / 4, int64(i * 7 % 100000),
		i%3 == 0, time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), t,
	}
}

// Source yields n rows.
type Source struct{ I, N int }

func (s *Source) Next() ([]any, error) {
	if s.I >= s.N {
		return nil, io.EOF
	}
	s.I++
	return Row(s.I - 1), nil
}

// WriteCSV writes a header and n rows as CSV (no value needs quoting).
func WriteCSV(w io.Writer, n int) error {
	for i, c := range Columns {
		if i > 0 {
			fmt.Fprint(w, ",")
		}
		fmt.Fprint(w, c.Name)
	}
	fmt.Fprintln(w)
	for i := range n {
		r := Row(i)
		_, err := fmt.Fprintf(w, "%d,%s,%s,%d,%g,%g,%d,%t,%s,%s\n", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
			r[8].(time.Time).Format(time.DateOnly), r[9].(time.Time).Format(time.RFC3339))
		if err != nil {
			return err
		}
	}
	return nil
}
