// Command searchbench measures the embedded bleve index at catalogue scale:
// it indexes N generated Chinese entries, then reports indexing time, index
// size, and p50/p95/p99 latency of typical queries with facets and of title
// suggestions. It is a command rather than a test so CI never pays for it.
//
//	go run ./datasets/search/cmd/searchbench -n 100000
//
// -cache 0 times the engine alone (every search cold); the default includes
// the adapter's remembered answers; -write-every K edits one entry every K
// searches, as the outbox indexer would, to show what writes cost readers.
// A build ends by merging the index into one segment (Bleve.Compact), as
// Indexer.Reindex does; -reuse -compact does the same to an index built
// before that. The index size printed after a build still counts the
// merged segments' files, which bleve deletes shortly after.
// BENCHMARKS.md ("Catalogue search (bleve)") has the method and results.
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/search"
)

var (
	cities   = []string{"廈門市", "福州市", "南昌市", "上海市", "沈陽市", "溫州市", "杭州市", "深圳市", "九江市", "贛州市"}
	subjects = []string{"公交線路", "公共交通刷卡", "醫療機構", "醫院床位", "社會保險參保", "住房公積金繳存", "企業信用信息", "市場主體登記", "空氣質量監測", "水質監測",
		"氣象預報", "台風路徑", "中小學學校", "幼兒園名錄", "就業崗位招聘", "失業保險", "停車場泊位", "道路施工", "地鐵客流", "行政處罰",
		"行政許可", "旅遊景區", "圖書館", "體育場館", "養老機構", "最低生活保障", "藥品零售", "食品生產許可", "建築工地", "路燈設施"}
	suffixes = []string{"信息", "名錄", "統計", "月報", "年報", "明細", "實時數據", "分佈", "匯總", "查詢接口"}
	agencies = []string{"交通運輸局", "衛生健康委員會", "人力資源和社會保障局", "市場監督管理局", "生態環境局", "氣象局", "教育局", "民政局", "住房公積金管理中心", "公安局"}
	queries  = []string{"交通", "醫療", "社保", "公積金", "企業信用", "空气质量", "学校", "bus", "停車", "水", "厦门市交通运输局", "台风", "招聘", "医保", "地铁客流"}
)

func main() {
	n := flag.Int("n", 100000, "entries to index")
	q := flag.Int("q", 2000, "queries to time")
	dir := flag.String("dir", "", "index directory (default: a temporary one, removed after)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the query phase here")
	reuse := flag.Bool("reuse", false, "with -dir: time queries on the index already there")
	cache := flag.Int("cache", -1, "answers remembered between writes (0: none, time the engine itself; -1: the default)")
	writeEvery := flag.Int("write-every", 0, "upsert one entry every this many queries, which forgets remembered answers (0: never)")
	byQuery := flag.Bool("by-query", false, "also report the mean CPU time of each query text (this thread's, so without GC) and its wall p50/p95")
	only := flag.String("only", "", "time only this query text")
	compact := flag.Bool("compact", false, "with -reuse: first merge the index into one segment, as a build does")
	flag.Parse()
	runtime.LockOSThread()
	if *only != "" {
		queries = []string{*only}
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "searchbench")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		*dir = filepath.Join(d, "index")
	}
	open0, openCPU0 := time.Now(), cpuTime()
	idx, err := search.OpenBleve(*dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer idx.Close()
	openWall, openCPU := time.Since(open0), cpuTime()-openCPU0
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("opened in %s wall, %s CPU (reading the matching bitmaps back from the index); Go heap in use %.0f MiB\n", openWall.Round(time.Millisecond), openCPU.Round(time.Millisecond), float64(ms.HeapInuse)/(1<<20))
	if *cache >= 0 {
		idx.SetCacheSize(*cache)
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))

	start, cpu0 := time.Now(), cpuTime()
	if *reuse {
		*n = 0
	}
	const batch = 1000
	buf := make([]datasets.Dataset, 0, batch)
	for i := range *n {
		buf = append(buf, entry(rng, i))
		if len(buf) == batch || i == *n-1 {
			if err := idx.Upsert(ctx, buf...); err != nil {
				log.Fatal(err)
			}
			buf = buf[:0]
		}
	}
	if *n > 0 {
		// As Indexer.Reindex does after a rebuild.
		if err := idx.Compact(ctx); err != nil {
			log.Fatal(err)
		}
	}
	took, cpu := time.Since(start), cpuTime()-cpu0
	if *reuse && *compact {
		if err := idx.Compact(ctx); err != nil {
			log.Fatal(err)
		}
	}
	if *reuse {
		c, _ := idx.DocCount()
		fmt.Printf("reusing index of %d entries\n", c)
	}
	fmt.Printf("indexed %d entries in %s wall, %s CPU (%.0f entries/CPU-second), index size %.1f MiB\n", *n, took.Round(time.Millisecond), cpu.Round(time.Millisecond), float64(*n)/cpu.Seconds(), float64(dirSize(*dir))/(1<<20))

	// Warm up once so the first query's segment loading is not counted.
	for _, text := range queries {
		if _, err := idx.Search(ctx, datasets.SearchQuery{Text: text}); err != nil {
			log.Fatal(err)
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	var lat []time.Duration
	var writeCPU time.Duration
	perQuery := map[string]time.Duration{}
	perQueryLat := map[string][]time.Duration{}
	docs64, _ := idx.DocCount()
	docs := int(docs64)
	cpu0 = cpuTime()
	for i := range *q {
		sq := datasets.SearchQuery{Text: queries[i%len(queries)], PerPage: 20}
		if i%3 == 1 {
			sq.Categories = []datasets.Category{datasets.Categories[i%len(datasets.Categories)]}
		}
		if i%5 == 2 {
			sq.Page = 2
		}
		if *writeEvery > 0 && i%*writeEvery == 0 {
			// An edit of an existing entry, as an agency's update would be;
			// its cost is not part of the query's latency.
			w0 := cpuTime()
			if err := idx.Upsert(ctx, entry(rng, rng.IntN(max(1, docs)))); err != nil {
				log.Fatal(err)
			}
			writeCPU += cpuTime() - w0
		}
		t0, th0 := time.Now(), threadCPU()
		if _, err := idx.Search(ctx, sq); err != nil {
			log.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		perQuery[sq.Text] += threadCPU() - th0
		perQueryLat[sq.Text] = append(perQueryLat[sq.Text], lat[len(lat)-1])
	}
	report("search (with 6 facets)", lat, cpuTime()-cpu0-writeCPU)
	if *byQuery {
		for _, text := range queries {
			ql := perQueryLat[text]
			slices.Sort(ql)
			p := func(f float64) float64 {
				return float64(ql[min(len(ql)-1, int(f*float64(len(ql))))].Microseconds()) / 1000
			}
			fmt.Printf("  %-10s %6.2f ms CPU/op, wall p50 %6.2f p95 %6.2f ms\n", text, float64(perQuery[text].Microseconds())/1000/float64(len(ql)), p(0.5), p(0.95))
		}
	}

	lat = lat[:0]
	cpu0 = cpuTime()
	prefixes := []string{"廈門", "厦门市公", "福州市醫", "社會", "上海市企業", "bu", "南昌市地"}
	for i := range *q {
		t0 := time.Now()
		if _, err := idx.Suggest(ctx, prefixes[i%len(prefixes)], 8); err != nil {
			log.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	report("suggest", lat, cpuTime()-cpu0)
}

func entry(rng *rand.Rand, i int) datasets.Dataset {
	city := cities[rng.IntN(len(cities))]
	sub := rng.IntN(len(subjects))
	title := city + subjects[sub] + suffixes[rng.IntN(len(suffixes))]
	cat := datasets.Categories[sub%len(datasets.Categories)]
	at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(5*365*24)) * time.Hour)
	d := datasets.Dataset{
		ID: fmt.Sprintf("gen-%07d", i), Slug: fmt.Sprintf("gen-%07d", i), Title: title,
		Description: "本數據由" + city + agencies[sub%len(agencies)] + "提供，包含" + subjects[(sub+7)%len(subjects)] + "、更新時間、統一社會信用代碼等字段。",
		Agency:      datasets.AgencyRef{ID: fmt.Sprintf("ag-%d", sub%len(agencies)), Name: city + agencies[sub%len(agencies)]},
		Category:    cat, OpenClass: datasets.Open, Frequency: datasets.Frequencies[rng.IntN(len(datasets.Frequencies))],
		Formats: []string{"csv", "json"}[:1+rng.IntN(2)], Tags: []string{subjects[sub][:6]},
		State: datasets.Published, Downloads: int64(rng.IntN(10000)), UpdatedAt: at, CreatedAt: at,
	}
	if rng.IntN(4) == 0 {
		d.OpenClass = datasets.Conditional
	}
	return d
}

// cpuTime is the process's user+system CPU time: on a shared machine wall
// latencies include waiting for a core, CPU time per query does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// threadCPU is this OS thread's CPU time (main locks itself to one).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func report(name string, lat []time.Duration, cpu time.Duration) {
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	fmt.Printf("%-24s n=%d wall p50=%s p95=%s p99=%s; mean CPU %s/op\n", name, len(lat), p(0.50).Round(10*time.Microsecond), p(0.95).Round(10*time.Microsecond), p(0.99).Round(10*time.Microsecond), (cpu / time.Duration(len(lat))).Round(10*time.Microsecond))
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
