package portal_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/blob"
	"kaifang/datasets/blob/blobtest"
	"kaifang/datasets/sqlstore"
	"kaifang/datasets/sqlstore/sqltest"
	"kaifang/portal"
)

// blobURLs are the blob stores every version test runs on: a local
// directory always, and a fresh MinIO bucket when KAIFANG_TEST_S3 is set.
func blobURLs(t *testing.T) map[string]string {
	urls := map[string]string{"local": "file://" + t.TempDir()}
	if os.Getenv(blobtest.EnvS3) != "" {
		urls["s3"] = blobtest.S3URL(t)
	} else {
		t.Log("s3 cases skipped: set KAIFANG_TEST_S3 to run them against MinIO")
	}
	return urls
}

// versionFixture is a portal over one database and one blob store with an
// agency and an entry.
func versionFixture(t *testing.T, dbURL, blobURL string) (*portal.Service, *sqlstore.Store, *datasets.Dataset) {
	t.Helper()
	ctx := context.Background()
	st := sqltest.MustOpen(t, dbURL)
	bs, err := blob.Open(ctx, blobURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	svc := &portal.Service{Catalog: st, Rows: st, Blobs: bs, Accounts: st, Secret: []byte("test-secret-0123456789abcdef"), TempDir: t.TempDir(), MaxUpload: 64 << 20}
	a := &datasets.Agency{Slug: "stats-bureau", Name: "统计局"}
	if err := st.CreateAgency(ctx, a); err != nil {
		t.Fatal(err)
	}
	d := &datasets.Dataset{Slug: "population", Title: "年末常住人口", Agency: a.Ref(), Category: datasets.Other, OpenClass: datasets.Open,
		Frequency: datasets.Yearly, State: datasets.Draft, Formats: []string{"csv"}, Tags: []string{}, Fields: []datasets.Field{}, AccessModes: []datasets.AccessMode{datasets.Bulk}}
	if err := st.CreateDataset(ctx, d, datasets.Change{Actor: "test", Action: "create"}); err != nil {
		t.Fatal(err)
	}
	return svc, st, d
}

func mustFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func upload(body []byte, name string) portal.Upload {
	return portal.Upload{Body: strings.NewReader(string(body)), Filename: name, Size: int64(len(body)), Actor: "test"}
}

func TestAddVersionOnEveryBackend(t *testing.T) {
	gbk := mustFile(t, filepath.Join("..", "cmd", "kaifang", "demodata", "cn_nbs_province_population_annual_gbk.csv"))
	for _, dbName := range sqltest.Names {
		for name, blobURL := range blobURLs(t) {
			t.Run(dbName+"/"+name, func(t *testing.T) {
				ctx := context.Background()
				dbURL := sqltest.URL(t, dbName)
				svc, st, d := versionFixture(t, dbURL, blobURL)

				v1, err := svc.AddVersion(ctx, d.ID, upload(gbk, "分省年度数据.csv"))
				if err != nil {
					t.Fatalf("GBK CSV: %v", err)
				}
				if v1.State != datasets.VersionReady || v1.Rows != 31 || v1.Encoding != "GB18030" || len(v1.SHA256) != 64 {
					t.Fatalf("v1 = %+v, want ready, 31 rows, GB18030, a sha256", v1)
				}
				r, info, err := svc.Blobs.Get(ctx, v1.BlobKey, 0, -1)
				if err != nil {
					t.Fatal(err)
				}
				stored, _ := io.ReadAll(r)
				r.Close()
				if string(stored) != string(gbk) || info.Size != int64(len(gbk)) {
					t.Errorf("stored bytes differ from the upload (%d vs %d bytes)", len(stored), len(gbk))
				}
				page, err := st.QueryRows(ctx, v1.RowTable, datasets.RowQuery{Columns: columnsOf(v1), Filters: []datasets.RowFilter{{Field: "地区", Op: datasets.OpEq, Values: []any{"上海市"}}}, Limit: 5})
				if err != nil || len(page.Rows) != 1 {
					t.Fatalf("rows of v1: %v %v", page.Rows, err)
				}

				// A ragged file fails with its line, and v1 stays current.
				v2, err := svc.AddVersion(ctx, d.ID, upload([]byte("地区,2024年\n北京市,2183\n上海市,2480,多余\n"), "bad.csv"))
				if !datasets.IsCode(err, datasets.EINVALID) || v2 == nil || v2.State != datasets.VersionFailed || !strings.Contains(v2.Error, "line 3") {
					t.Fatalf("ragged upload: err %v, version %+v; want EINVALID failed version naming line 3", err, v2)
				}
				// An upload past the limit is refused before anything is stored.
				svc.MaxUpload = 10
				if _, err := svc.AddVersion(ctx, d.ID, upload(gbk, "big.csv")); !datasets.IsCode(err, datasets.ETOOLARGE) {
					t.Fatalf("oversize upload: %v, want ETOOLARGE", err)
				}
				// An upload whose size is unknown is cut off at the limit.
				unknown := portal.Upload{Body: strings.NewReader(string(gbk)), Filename: "chunked.csv", Size: -1}
				if v, err := svc.AddVersion(ctx, d.ID, unknown); !datasets.IsCode(err, datasets.ETOOLARGE) || v == nil || v.State != datasets.VersionFailed {
					t.Fatalf("chunked oversize upload: %v %+v, want ETOOLARGE and a failed version", err, v)
				}
				cur, err := st.Dataset(ctx, d.ID)
				if err != nil {
					t.Fatal(err)
				}
				if cur.CurrentVersion == nil || cur.CurrentVersion.Number != v1.Number {
					t.Errorf("current version = %+v after failed uploads, want %d", cur.CurrentVersion, v1.Number)
				}
			})
		}
	}
}

func columnsOf(v *datasets.Version) []datasets.Column {
	cols := make([]datasets.Column, len(v.Columns))
	for i, f := range v.Columns {
		cols[i] = datasets.Column{Name: f.Name, Type: f.Type}
	}
	return cols
}

// The child side of TestKillDuringIngestion: ingest a big file and be killed.
func TestIngestChild(t *testing.T) {
	if os.Getenv("KAIFANG_INGEST_CHILD") == "" {
		t.Skip("child process of TestKillDuringIngestionKeepsPreviousVersion")
	}
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, os.Getenv("KAIFANG_INGEST_DB"))
	if err != nil {
		t.Fatal(err)
	}
	bs, err := blob.Open(ctx, os.Getenv("KAIFANG_INGEST_BLOB"))
	if err != nil {
		t.Fatal(err)
	}
	svc := &portal.Service{Catalog: st, Rows: st, Blobs: bs, TempDir: os.Getenv("KAIFANG_INGEST_TMP"), MaxUpload: 1 << 30}
	f, err := os.Open(os.Getenv("KAIFANG_INGEST_FILE"))
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	fmt.Println("ingesting")
	_, err = svc.AddVersion(ctx, os.Getenv("KAIFANG_INGEST_DATASET"), portal.Upload{Body: f, Filename: "big.csv", Size: fi.Size()})
	fmt.Println("finished", err)
}

func TestKillDuringIngestionKeepsPreviousVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	// A file big enough that storing and loading it takes a while.
	big := filepath.Join(t.TempDir(), "big.csv")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "编号,地区,人数,比例,日期")
	for i := 0; i < 300000; i++ {
		fmt.Fprintf(w, "%d,区%d,%d,%.3f,2026-%02d-%02d\n", i, i%97, i*7%100000, float64(i%1000)/7, i%12+1, i%28+1)
	}
	w.Flush()
	f.Close()

	for _, dbName := range sqltest.Names {
		for name, blobURL := range blobURLs(t) {
			t.Run(dbName+"/"+name, func(t *testing.T) {
				ctx := context.Background()
				dbURL := sqltest.URL(t, dbName)
				svc, st, d := versionFixture(t, dbURL, blobURL)
				v1, err := svc.AddVersion(ctx, d.ID, upload([]byte("编号,地区\n1,北京\n2,上海\n"), "small.csv"))
				if err != nil {
					t.Fatal(err)
				}
				interrupted := 0
				for _, delay := range []time.Duration{50 * time.Millisecond, 400 * time.Millisecond, 1200 * time.Millisecond} {
					cmd := exec.Command(os.Args[0], "-test.run=^TestIngestChild$", "-test.v")
					cmd.Env = append(os.Environ(), "KAIFANG_INGEST_CHILD=1", "KAIFANG_INGEST_DB="+dbURL, "KAIFANG_INGEST_BLOB="+blobURL,
						"KAIFANG_INGEST_FILE="+big, "KAIFANG_INGEST_DATASET="+d.ID, "KAIFANG_INGEST_TMP="+t.TempDir())
					out, _ := cmd.StdoutPipe()
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					sc := bufio.NewScanner(out)
					for sc.Scan() && !strings.Contains(sc.Text(), "ingesting") {
					}
					time.Sleep(delay)
					_ = cmd.Process.Kill()
					rest, _ := io.ReadAll(out)
					_ = cmd.Wait()
					if !strings.Contains(string(rest), "finished") {
						interrupted++
					}
					cur, err := st.Dataset(ctx, d.ID)
					if err != nil {
						t.Fatal(err)
					}
					if cur.CurrentVersion == nil {
						t.Fatalf("after kill at %v the entry has no current version", delay)
					}
					// Whatever is current is whole: either v1, or a new version
					// whose every row is loaded.
					cv := cur.CurrentVersion
					page, err := st.QueryRows(ctx, cv.RowTable, datasets.RowQuery{Columns: columnsOf(cv), Limit: 1, Total: true})
					if err != nil {
						t.Fatalf("current version %d after kill at %v: %v", cv.Number, delay, err)
					}
					if page.Total != cv.Rows {
						t.Errorf("current version %d has %d rows loaded, records %d", cv.Number, page.Total, cv.Rows)
					}
					if cv.Number != v1.Number && cv.Rows != 300000 {
						t.Errorf("a half-ingested version %d (%d rows) became current", cv.Number, cv.Rows)
					}
				}
				if interrupted == 0 {
					t.Fatal("no kill landed during ingestion; the test proved nothing")
				}
				cur, _ := st.Dataset(ctx, d.ID)
				if cur.CurrentVersion.Number != v1.Number {
					t.Logf("a version finished before its kill; current is %d", cur.CurrentVersion.Number)
				}
			})
		}
	}
}
