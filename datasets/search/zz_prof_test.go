package search

import (
	"context"
	"os"
	"testing"
	"syscall"
	"time"

	"kaifang/datasets"
)

func TestZZProf(t *testing.T) {
	dir := os.Getenv("ZZ_DIR")
	if dir == "" {
		t.Skip("ZZ_DIR")
	}
	b, err := OpenBleve(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	qs := []string{"交通", "醫療", "社保", "公積金", "企業信用", "空气质量", "学校", "bus", "停車", "水", "厦门市交通运输局", "台风", "招聘", "医保", "地铁客流"}
	for _, q := range qs {
		p := newPlan(Fold(q), b.syn)
		b.Search(ctx, datasets.SearchQuery{Text: q})
		t0 := zzcpu()
		var res datasets.SearchResult
		for range 10 {
			res, _ = b.Search(ctx, datasets.SearchQuery{Text: q})
		}
		t.Logf("%-10s total=%6d %8s alts=%v terms=%v", q, res.Total, (zzcpu()-t0)/10, p.alts, p.terms)
	}
}

func zzcpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
