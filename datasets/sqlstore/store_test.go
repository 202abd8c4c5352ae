package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"kaifang/datasets"
	"kaifang/datasets/sqlstore"
	"kaifang/datasets/sqlstore/catalogtest"
	"kaifang/datasets/sqlstore/rowstest"
	"kaifang/datasets/sqlstore/sqltest"
)

// schema describes every table and column, to compare before and after.
func schema(t *testing.T, s *sqlstore.Store) []string {
	t.Helper()
	q := `SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY 1`
	if s.Dialect() == "postgres" {
		q = `SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1`
	}
	rows, err := s.DB().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	sqltest.Run(t, func(t *testing.T, url string) {
		s := sqltest.MustOpen(t, url)
		ms, err := s.Migrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 || ms[0].Version != 1 || ms[0].Name != "0001_init.sql" || ms[0].AppliedAt.IsZero() {
			t.Fatalf("Migrations = %+v", ms)
		}
		t.Run("again is a no-op", func(t *testing.T) {
			before := schema(t, s)
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			again, _ := s.Migrations(ctx)
			if !slices.Equal(schema(t, s), before) || len(again) != len(ms) {
				t.Fatal("a second Migrate changed something")
			}
		})
		t.Run("broken migration changes nothing", func(t *testing.T) {
			before := schema(t, s)
			broken := fstest.MapFS{
				"0001_init.sql":   {Data: []byte("this is never run, 0001 is applied")},
				"9001_good.sql":   {Data: []byte("CREATE TABLE extra (id INTEGER PRIMARY KEY);")},
				"9002_broken.sql": {Data: []byte("ALTER TABLE agencies ADD COLUMN motto TEXT; CREATE TABLE half (id INTEGER); SELECT * FROM no_such_table;")},
				"9003_later.sql":  {Data: []byte("CREATE TABLE later (id INTEGER);")},
			}
			err := s.MigrateFS(ctx, broken)
			if err == nil || !strings.Contains(err.Error(), "9002_broken.sql") {
				t.Fatalf("MigrateFS error = %v, want one naming 9002_broken.sql", err)
			}
			want := append(slices.Clone(before), "extra.id")
			slices.Sort(want)
			if got := schema(t, s); !slices.Equal(got, want) {
				t.Fatalf("schema after the failure:\n%v\nwant (9001 applied, 9002 and 9003 not):\n%v", got, want)
			}
			applied, _ := s.Migrations(ctx)
			if len(applied) != len(ms)+1 || applied[len(applied)-1].Version != 9001 {
				t.Fatalf("applied = %+v", applied)
			}
		})
		t.Run("badly named file", func(t *testing.T) {
			err := s.MigrateFS(ctx, fstest.MapFS{"init.sql": {Data: []byte("SELECT 1")}})
			if err == nil {
				t.Fatal("a file without a version was accepted")
			}
		})
	})
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	t.Run("relative sqlite path creates its directory", func(t *testing.T) {
		t.Chdir(t.TempDir())
		s, err := sqlstore.Open(ctx, "sqlite://data/sub/kaifang.db")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := os.Stat(filepath.Join("data", "sub", "kaifang.db")); err != nil {
			t.Fatalf("database file: %v", err)
		}
		var mode string
		if err := s.DB().QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
		}
		var fk int
		if err := s.DB().QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
			t.Fatalf("foreign_keys = %d, %v", fk, err)
		}
	})
	t.Run("reopen keeps data", func(t *testing.T) {
		url := sqltest.SQLiteURL(t)
		s := sqltest.MustOpen(t, url)
		catalogtest.MustAgency(t, s, "kept", "Kept")
		s.Close()
		s2 := sqltest.MustOpen(t, url)
		if _, err := s2.Agency(ctx, "kept"); err != nil {
			t.Fatal(err)
		}
	})
	for _, url := range []string{"", "mysql://x", "sqlite://", "sqlite:///", "sqlite://a.db?mode=ro", "sqlite://dir/"} {
		t.Run(fmt.Sprintf("bad url %q", url), func(t *testing.T) {
			_, err := sqlstore.Open(ctx, url)
			if datasets.ErrorCode(err) != datasets.EINVALID {
				t.Fatalf("error = %v, want EINVALID", err)
			}
		})
	}
	t.Run("unreachable postgres", func(t *testing.T) {
		_, err := sqlstore.Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
		if datasets.ErrorCode(err) != datasets.EUNAVAILABLE {
			t.Fatalf("error = %v, want EUNAVAILABLE", err)
		}
	})
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"sqlite:///abs/kaifang.db", "sqlite://rel/k.db", "postgres://u@h:5432/db?sslmode=disable",
		"postgresql://h/db", "sqlite://", "sqlite://a?b", "file:///x", "sqlite://../../etc/passwd", "sqlite://\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, url string) {
		kind, target, err := sqlstore.ParseURL(url)
		if err != nil {
			if datasets.ErrorCode(err) != datasets.EINVALID {
				t.Fatalf("error code %s for %q", datasets.ErrorCode(err), url)
			}
			return
		}
		if kind != "sqlite" && kind != "postgres" || target == "" || strings.ContainsAny(target, "\x00") {
			t.Fatalf("ParseURL(%q) = %q, %q", url, kind, target)
		}
		if kind == "sqlite" && strings.ContainsAny(target, "?#") {
			t.Fatalf("sqlite target %q would smuggle driver parameters", target)
		}
	})
}

// Concurrent writers on SQLite queue on the write lock instead of failing
// with SQLITE_BUSY.
func TestConcurrentWriters(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		s := sqltest.MustOpen(t, url)
		ctx := context.Background()
		a := catalogtest.MustAgency(t, s, "busy", "Busy")
		var wg sync.WaitGroup
		errs := make(chan error, 41)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 10 {
					d := catalogtest.NewDataset(a, fmt.Sprintf("w%d-e%d", w, i))
					errs <- s.CreateDataset(ctx, d, datasets.Change{})
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.LoadRows(ctx, "busy_rows", rowstest.AQIColumns, rowstest.Source(rowstest.AQIRows(t)))
			errs <- err
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		_, total, err := s.Datasets(ctx, datasets.DatasetFilter{})
		if err != nil || total != 40 {
			t.Fatalf("total = %d, %v", total, err)
		}
		es, _ := s.Outbox(ctx, 0, 0)
		if len(es) != 40 {
			t.Fatalf("outbox has %d events, want 40", len(es))
		}
	})
}

func TestIndexColumns(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		s := sqltest.MustOpen(t, url)
		ctx := context.Background()
		s.AutoIndex = 0
		if _, err := s.LoadRows(ctx, "aqi", rowstest.AQIColumns, rowstest.Source(rowstest.AQIRows(t))); err != nil {
			t.Fatal(err)
		}
		count := func() int {
			q := `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'aqi'`
			if s.Dialect() == "postgres" {
				q = `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'aqi'`
			}
			var n int
			if err := s.DB().QueryRow(q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		base := count()
		if err := s.IndexColumns(ctx, "aqi", []string{"PM2.5", "County"}); err != nil {
			t.Fatal(err)
		}
		if err := s.IndexColumns(ctx, "aqi", []string{"PM2.5"}); err != nil {
			t.Fatalf("indexing twice: %v", err)
		}
		if got := count(); got != base+2 {
			t.Fatalf("%d indexes, want %d", got, base+2)
		}
		if err := s.IndexColumns(ctx, "aqi", []string{"nope"}); datasets.ErrorCode(err) != datasets.EINVALID {
			t.Fatalf("unknown column: %v", err)
		}
		if err := s.IndexColumns(ctx, "missing", []string{"a"}); datasets.ErrorCode(err) != datasets.ENOTFOUND {
			t.Fatalf("missing table: %v", err)
		}
		s.AutoIndex = 8
		if _, err := s.LoadRows(ctx, "aqi_auto", rowstest.AQIColumns, rowstest.Source(rowstest.AQIRows(t))); err != nil {
			t.Fatal(err)
		}
	})
}
