// Command kfbench prepares and serves the gateway benchmarks of
// BENCHMARKS.md. It goes through the same paths production does — entries in
// the catalogue, files through portal.AddVersion (checksum, blob store, row
// ingest), an application approved by a reviewer and an API key made by the
// portal — so that what is measured is the gateway a user would meet, not a
// hand-built shortcut.
//
//	kfbench setup   -db URL -blob URL -secret S [-rows N] [-big FILE] > setup.json
//	kfbench serve   -db URL -blob URL -secret S -rate-store redis://… -addr A -pprof A
//	kfbench presign -blob URL -key KEY            (a direct MinIO URL for the same object)
//	kfbench files   -dir DIR -addr A              (plain http.ServeFile baseline)
//	kfbench values  -n N                          (the filter values, for wrk's Lua script)
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on the -pprof address, for profiles under load
	"os"
	"strings"
	"sync"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/blob"
	"kaifang/datasets/sqlstore"
	"kaifang/gateway"
	"kaifang/portal"
)

// distinct filter values: 1,000,000 rows / 10,000 codes = 100 rows per
// value, so every 10-row page is full and the index, not a scan, finds it.
const codes = 10000

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: kfbench setup|serve|presign|files|values [flags]")
	}
	cmd, args := os.Args[1], os.Args[2:]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	db := fs.String("db", "", "catalogue database URL (sqlite:// or postgres://)")
	blobURL := fs.String("blob", "", "blob store URL (file:// or s3://)")
	secret := fs.String("secret", "kfbench secret of at least sixteen bytes", "HMAC secret for keys")
	rows := fs.Int("rows", 1_000_000, "rows of the generated records dataset")
	big := fs.String("big", "", "a large file to publish as a download (optional)")
	rateStore := fs.String("rate-store", "", "redis://… for the limiter store (empty: memory)")
	addr := fs.String("addr", "127.0.0.1:18080", "listen address")
	pprofAddr := fs.String("pprof", "", "pprof listen address (empty: none)")
	key := fs.String("key", "", "blob key to presign")
	dir := fs.String("dir", "", "directory served by files")
	n := fs.Int("n", codes, "number of filter values")
	batch := fs.Bool("batch-counts", false, "serve: sum usage counters in memory and write them once a second (an experiment: what the gateway's per-request UPDATE costs)")
	idle := fs.Int("idle", 0, "serve: database/sql MaxIdleConns (0: leave sqlstore's default); an experiment, not a setting of kaifang")
	_ = fs.Parse(args)
	ctx := context.Background()
	var err error
	switch cmd {
	case "setup":
		err = setup(ctx, *db, *blobURL, *secret, *rows, *big)
	case "serve":
		err = serve(ctx, *db, *blobURL, *secret, *rateStore, *addr, *pprofAddr, *idle, *batch)
	case "presign":
		err = presign(ctx, *blobURL, *key)
	case "files":
		err = files(*dir, *addr)
	case "values":
		for i := range *n {
			fmt.Println(code(i))
		}
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func code(i int) string { return fmt.Sprintf("C%05d", i%codes) }

// genCSV writes n rows shaped like a social-security payment list: a code
// to filter on, a name and a mobile number to mask, an amount and a date.
func genCSV(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "code,name,mobile,amount,paid_on,district")
	surnames := []string{"王", "李", "張", "劉", "陳", "楊", "黃", "趙"}
	districts := []string{"黃浦區", "徐匯區", "長寧區", "靜安區", "普陀區", "虹口區", "楊浦區", "閔行區"}
	for i := range n {
		// i*7919 spreads each code's rows over the whole table, as real
		// data would, instead of one contiguous run.
		fmt.Fprintf(w, "%s,%s%s,1%010d,%d.%02d,2025-%02d-%02d,%s\n", code(i*7919), surnames[i%8], "小明",
			13800000000+int64(i)%1e9, 100+i%5000, i%100, 1+i%12, 1+i%28, districts[i%8])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type setupOut struct {
	Open, Cond, Big       string // slugs
	OpenTable, CondTable  string
	BigKey                string
	Key                   string // the API key for Cond
	SecondsLoad, BigBytes float64
}

func setup(ctx context.Context, dbURL, blobURL, secret string, n int, big string) error {
	st, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	bs, err := blob.Open(ctx, blobURL)
	if err != nil {
		return err
	}
	defer bs.Close()
	tmp, err := os.MkdirTemp("", "kfbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	svc := &portal.Service{Catalog: st, Rows: st, Blobs: bs, Accounts: st, Access: st,
		Calendar: portal.DefaultCalendar(), Secret: []byte(secret), TempDir: tmp, MaxUpload: 4 << 30}
	ag := &datasets.Agency{Slug: "bench-shebao", Name: "基準測試社保局"}
	if err := st.CreateAgency(ctx, ag); err != nil {
		return err
	}
	fields := []datasets.Field{{Name: "code", Type: datasets.TypeText}, {Name: "name", Type: datasets.TypeText},
		{Name: "mobile", Type: datasets.TypeText}, {Name: "amount", Type: datasets.TypeDecimal},
		{Name: "paid_on", Type: datasets.TypeDate}, {Name: "district", Type: datasets.TypeText}}
	mk := func(slug string, class datasets.OpenClass) (*datasets.Dataset, error) {
		d := &datasets.Dataset{Slug: slug, Title: slug, Agency: ag.Ref(), Category: datasets.SocialSecurity, OpenClass: class,
			Frequency: datasets.Monthly, State: datasets.Published, Reason: "個人信息", LegalBasis: "個人信息保護法第13條",
			AccessModes: []datasets.AccessMode{datasets.Query, datasets.Bulk}, Fields: fields}
		return d, st.CreateDataset(ctx, d, datasets.Change{Actor: "system", Action: "create"})
	}
	csvPath := tmp + "/payments.csv"
	if err := genCSV(csvPath, n); err != nil {
		return err
	}
	out := setupOut{}
	t0 := time.Now()
	load := func(d *datasets.Dataset, path, name string) (*datasets.Version, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		fi, _ := f.Stat()
		return svc.AddVersion(ctx, d.ID, portal.Upload{Body: f, Filename: name, Size: fi.Size(), Actor: "system"})
	}
	var cond *datasets.Dataset
	for _, c := range []datasets.OpenClass{datasets.Open, datasets.Conditional} {
		d, err := mk("bench-payments-"+string(c), c)
		if err != nil {
			return err
		}
		v, err := load(d, csvPath, "payments.csv")
		if err != nil {
			return fmt.Errorf("loading %s: %w", d.Slug, err)
		}
		if err := st.IndexColumns(ctx, v.RowTable, []string{"code"}); err != nil {
			return err
		}
		if c == datasets.Open {
			out.Open, out.OpenTable = d.Slug, v.RowTable
		} else {
			out.Cond, out.CondTable, cond = d.Slug, v.RowTable, d
		}
	}
	out.SecondsLoad = time.Since(t0).Seconds()
	if big != "" {
		d, err := mk("bench-big-file", datasets.Open)
		if err != nil {
			return err
		}
		v, err := load(d, big, "big.bin")
		if err != nil {
			return fmt.Errorf("storing %s: %w", big, err)
		}
		out.Big, out.BigKey, out.BigBytes = d.Slug, v.BlobKey, float64(v.Size)
	}
	// The keyed path: a developer applies for the fields the scenario needs,
	// a reviewer approves with masks and a rate high enough never to refuse
	// (the limiter is still consulted on every request), the developer
	// makes a key.
	dev, err := svc.AddUser(ctx, datasets.RoleDeveloper, "", "bench-dev@example.cn", "基準開發者", "correct-horse-battery")
	if err != nil {
		return err
	}
	rev, err := svc.AddUser(ctx, datasets.RoleReviewer, ag.Slug, "bench-rev@example.cn", "基準審核人", "correct-horse-battery")
	if err != nil {
		return err
	}
	app, err := svc.Apply(ctx, dev, portal.ApplyInput{Scenario: "繳費核驗基準", Purpose: "measuring the keyed records path",
		Requests: []datasets.AccessRequest{{DatasetID: cond.ID, Fields: []string{"code", "name", "mobile", "amount", "paid_on", "district"},
			Modes: []datasets.AccessMode{datasets.Query}}},
		To: time.Now().AddDate(0, 1, 0), Volume: "1e9/day"})
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	if _, err := svc.Decide(ctx, rev, app.ID, portal.Decision{Approve: true, Reason: "benchmark",
		Grants: []portal.GrantDecision{{DatasetID: cond.ID,
			Masks: map[string]datasets.MaskRule{"name": datasets.MaskName, "mobile": datasets.MaskMobile},
			Rate:  1_000_000_000, RatePeriod: datasets.PerSecond, Quota: 1_000_000_000, QuotaPeriod: datasets.PerDay}}}); err != nil {
		return fmt.Errorf("decide: %w", err)
	}
	if out.Key, _, err = svc.CreateKey(ctx, dev, app.ID, "bench"); err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func serve(ctx context.Context, dbURL, blobURL, secret, rateStore, addr, pprofAddr string, idle int, batch bool) error {
	st, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if idle > 0 {
		// database/sql keeps 2 idle connections by default: under 64
		// concurrent requests the rest are closed after each use and
		// reopened, and every new SQLite connection re-parses the schema.
		st.DB().SetMaxIdleConns(idle)
	}
	bs, err := blob.Open(ctx, blobURL)
	if err != nil {
		return err
	}
	defer bs.Close()
	svc := &portal.Service{Catalog: st, Rows: st, Blobs: bs, Accounts: st, Access: st,
		Calendar: portal.DefaultCalendar(), Secret: []byte(secret)}
	// Anonymous per-IP limits far above what one machine can send: every
	// request still passes through the limiter, none is refused.
	limits, err := gateway.ParseLimits("downloads=100000000/s,records=100000000/s,search=100000000/s,default=100000000/s")
	if err != nil {
		return err
	}
	var cat datasets.Catalog = st
	if batch {
		b := &batchedCounts{Catalog: st, n: map[string][2]int64{}}
		go b.run(ctx)
		cat = b
	}
	deps := gateway.Deps{Catalog: cat, Rows: st, Blobs: bs, Limits: limits, Portal: svc, Version: "bench"}
	if rateStore != "" {
		if deps.RateStore, err = gateway.RedisStore(rateStore); err != nil {
			return err
		}
	}
	deps.Authorizer = gateway.NewKeyAuthorizer(svc, deps.RateStore)
	srv, err := gateway.New(deps)
	if err != nil {
		return err
	}
	if pprofAddr != "" {
		go func() { log.Println(http.ListenAndServe(pprofAddr, nil)) }()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "kfbench gateway on http://%s (pid %d)\n", addr, os.Getpid())
	return srv.Listen(ln)
}

// batchedCounts is the experiment behind -batch-counts: the gateway calls
// CountUse once per request, and on PostgreSQL every call is an UPDATE of
// the same entry's row, so concurrent requests queue on that row's lock and
// on the pool. Summing in memory and writing once a second shows what a
// batched counter in the gateway would gain.
type batchedCounts struct {
	datasets.Catalog
	mu sync.Mutex
	n  map[string][2]int64
}

func (b *batchedCounts) CountUse(_ context.Context, id string, downloads, apiCalls int64) error {
	b.mu.Lock()
	c := b.n[id]
	b.n[id] = [2]int64{c[0] + downloads, c[1] + apiCalls}
	b.mu.Unlock()
	return nil
}

func (b *batchedCounts) run(ctx context.Context) {
	for range time.Tick(time.Second) {
		b.mu.Lock()
		n := b.n
		b.n = map[string][2]int64{}
		b.mu.Unlock()
		for id, c := range n {
			if err := b.Catalog.CountUse(ctx, id, c[0], c[1]); err != nil {
				log.Println("count use:", err)
			}
		}
	}
}

func presign(ctx context.Context, blobURL, key string) error {
	bs, err := blob.Open(ctx, blobURL)
	if err != nil {
		return err
	}
	defer bs.Close()
	p, ok := bs.(datasets.Presigner)
	if !ok {
		return fmt.Errorf("%s cannot presign", strings.SplitN(blobURL, ":", 2)[0])
	}
	u, err := p.PresignGet(ctx, key, time.Hour, "big.bin")
	if err != nil {
		return err
	}
	fmt.Println(u)
	return nil
}

// files serves dir with http.ServeFile: the plain baseline for downloads
// from the local blob directory.
func files(dir, addr string) error {
	if dir == "" {
		return fmt.Errorf("files needs -dir")
	}
	fmt.Fprintf(os.Stderr, "kfbench files on http://%s (pid %d)\n", addr, os.Getpid())
	return http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, dir+"/"+strings.TrimPrefix(r.URL.Path, "/"))
	}))
}
