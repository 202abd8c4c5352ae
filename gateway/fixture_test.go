package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"

	"kaifang/datasets"
	"kaifang/datasets/blob/blobtest"
	"kaifang/datasets/sqlstore"
	"kaifang/datasets/sqlstore/sqltest"
	"kaifang/datasets/tabular"
)

// env is one gateway running on real stores, listening on 127.0.0.1:0.
type env struct {
	srv   *Server
	url   string
	store *sqlstore.Store
	blobs datasets.Blobs
	ag    *datasets.Agency
	// entries by role
	open, cond, closed, plain *datasets.Dataset
	openFile                  []byte // the bytes of the open entry's current version
}

type envOpt func(*Deps)

// MustEnv starts a gateway on the database at dbURL and the blob store
// blobs, with four entries: an open tabular one (the AQI file), a
// conditional one, a closed one and an open non-tabular one.
func MustEnv(tb testing.TB, dbURL string, blobs datasets.Blobs, opts ...envOpt) *env {
	tb.Helper()
	st := sqltest.MustOpen(tb, dbURL)
	ctx := context.Background()
	e := &env{store: st, blobs: blobs}
	e.ag = &datasets.Agency{Slug: "moenv", Name: "環境部"}
	if err := st.CreateAgency(ctx, e.ag); err != nil {
		tb.Fatalf("CreateAgency: %v", err)
	}
	aqi := MustRead(tb, "testdata/aqi.csv")
	e.openFile = aqi
	e.open = MustDataset(tb, e, "aqi-hourly", "空氣品質指標(AQI)", datasets.Open)
	MustVersion(tb, e, e.open, "aqi.csv", aqi, true)
	e.cond = MustDataset(tb, e, "aqi-conditional", "空氣品質原始監測值", datasets.Conditional)
	MustVersion(tb, e, e.cond, "aqi.csv", aqi, true)
	e.closed = MustDataset(tb, e, "aqi-secret", "監測站維修紀錄", datasets.Closed)
	e.plain = MustDataset(tb, e, "aqi-report", "空氣品質年報", datasets.Open)
	MustVersion(tb, e, e.plain, "report.pdf", []byte("%PDF-1.4 not really a pdf but bytes all the same\n"), false)
	// The closed entry gets a file and rows too, so that a leak would show.
	MustVersion(tb, e, e.closed, "aqi.csv", aqi, true)

	d := Deps{Catalog: st, Rows: st, Blobs: blobs, Logger: slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn})), Version: "test",
		Checks: map[string]func(context.Context) error{"database": st.Ping, "blobs": blobs.Ping}}
	for _, o := range opts {
		o(&d)
	}
	srv, err := New(d)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	go func() { _ = srv.Listen(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	e.srv, e.url = srv, "http://"+ln.Addr().String()
	// Reload so entries carry their current versions.
	for _, p := range []**datasets.Dataset{&e.open, &e.cond, &e.closed, &e.plain} {
		got, err := st.Dataset(ctx, (*p).ID)
		if err != nil {
			tb.Fatalf("reload: %v", err)
		}
		*p = got
	}
	return e
}

func withRateStore(s limiter.Store, l Limits) envOpt {
	return func(d *Deps) { d.RateStore, d.Limits = s, l }
}

func MustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func MustDataset(tb testing.TB, e *env, slug, title string, class datasets.OpenClass) *datasets.Dataset {
	tb.Helper()
	d := &datasets.Dataset{
		Slug: slug, Title: title, Description: "測試用 " + title, Agency: e.ag.Ref(), Category: datasets.Environment,
		OpenClass: class, Frequency: datasets.Daily, Formats: []string{"csv"}, Tags: []string{"空氣"},
		AccessModes: []datasets.AccessMode{datasets.Query, datasets.Bulk}, State: datasets.Published,
	}
	if class != datasets.Open {
		d.Reason, d.LegalBasis = "測試", "測試辦法第1條"
	}
	if class == datasets.Closed {
		d.State = datasets.Draft
	}
	if err := e.store.CreateDataset(context.Background(), d, datasets.Change{Actor: "system", Action: "create"}); err != nil {
		tb.Fatalf("CreateDataset %s: %v", slug, err)
	}
	return d
}

// MustVersion stores data as the next version of d; tabular files are
// sniffed and loaded into the row store with the tabular package.
func MustVersion(tb testing.TB, e *env, d *datasets.Dataset, filename string, data []byte, isTable bool) *datasets.Version {
	tb.Helper()
	ctx := context.Background()
	v := &datasets.Version{DatasetID: d.ID, Filename: filename, State: datasets.VersionPending, CreatedBy: "system"}
	if err := e.store.CreateVersion(ctx, v); err != nil {
		tb.Fatalf("CreateVersion: %v", err)
	}
	key := fmt.Sprintf("datasets/%s/v%d/%s", d.ID, v.Number, filename)
	media := "application/pdf"
	if isTable {
		media = "text/csv"
	}
	info, err := e.blobs.Put(ctx, key, strings.NewReader(string(data)), int64(len(data)), media)
	if err != nil {
		tb.Fatalf("Put: %v", err)
	}
	sum := sha256.Sum256(data)
	v.BlobKey, v.Size, v.SHA256, v.MediaType = key, info.Size, hex.EncodeToString(sum[:]), media
	if isTable {
		path := filepath.Join(tb.TempDir(), filename)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			tb.Fatal(err)
		}
		ti, err := tabular.Sniff(path, tabular.Options{})
		if err != nil {
			tb.Fatalf("Sniff: %v", err)
		}
		r, err := tabular.Open(path, ti)
		if err != nil {
			tb.Fatalf("Open: %v", err)
		}
		defer r.Close()
		v.RowTable = fmt.Sprintf("r_%s_%d", strings.ReplaceAll(d.ID, "-", "")[:16], v.Number)
		n, err := e.store.LoadRows(ctx, v.RowTable, ti.Columns, r)
		if err != nil {
			tb.Fatalf("LoadRows: %v", err)
		}
		v.Rows = n
		for _, c := range ti.Columns {
			v.Columns = append(v.Columns, datasets.Field{Name: c.Name, Type: c.Type})
		}
		v.Encoding = ti.Encoding
	}
	v.State = datasets.VersionReady
	if err := e.store.FinishVersion(ctx, v); err != nil {
		tb.Fatalf("FinishVersion: %v", err)
	}
	return v
}

// MustGet sends a GET with optional header pairs and returns the response
// with its body read.
func MustGet(tb testing.TB, url string, headers ...string) (*http.Response, []byte) {
	tb.Helper()
	return MustDo(tb, http.MethodGet, url, headers...)
}

func MustDo(tb testing.TB, method, url string, headers ...string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read %s: %v", url, err)
	}
	return resp, b
}

// stores runs fn on each database × blob store pair, each with fresh
// stores; pairs whose server is not configured skip naming the variable.
func stores(t *testing.T, fn func(t *testing.T, dbURL string, blobs datasets.Blobs)) {
	dbs := []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", sqltest.SQLiteURL}, {"postgres", sqltest.PostgresURL}}
	for _, db := range dbs {
		for _, b := range blobtest.Backends(t) {
			t.Run(db.name+"/"+b.Name, func(t *testing.T) {
				fn(t, db.url(t), b.Open(t))
			})
		}
	}
}

// tbWriter sends the gateway's warnings and errors to the test log.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(b []byte) (int, error) {
	w.tb.Helper()
	w.tb.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
