// Package sqltest gives tests a fresh, throw-away database on each backend
// sqlstore supports: a file in a temporary directory for SQLite and a new
// database on the server named by KAIFANG_TEST_POSTGRES for PostgreSQL.
// Other packages' tests use Backends to run the same test on both.
package sqltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"kaifang/datasets/sqlstore"
)

// PostgresEnv names the variable holding the PostgreSQL server for tests.
const PostgresEnv = "KAIFANG_TEST_POSTGRES"

const skipLine = "set " + PostgresEnv + " (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run against PostgreSQL"

// Backend is one database a test can run against.
type Backend struct {
	Name string // "sqlite" or "postgres": use it as the subtest name
	URL  string
}

// SQLiteURL returns the url of a new SQLite database in a temporary directory.
func SQLiteURL(tb testing.TB) string {
	tb.Helper()
	return "sqlite://" + filepath.Join(tb.TempDir(), "kaifang.db")
}

// PostgresURL returns the url of a fresh, empty schema kt_<random> in the
// database named by KAIFANG_TEST_POSTGRES (selected through search_path)
// and drops it, with everything in it, when the test ends. It skips the
// test when the variable is unset. A schema rather than a whole database:
// CREATE DATABASE costs over a second a test, a schema milliseconds, and
// the isolation is the same for code that does not name schemas.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	server := os.Getenv(PostgresEnv)
	if server == "" {
		tb.Skip(skipLine)
	}
	u, err := url.Parse(server)
	if err != nil {
		tb.Fatalf("%s is not a url: %v", PostgresEnv, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "kt_" + hex.EncodeToString(b)
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + name); err != nil {
		tb.Fatalf("create test schema on %s: %v", PostgresEnv, err)
	}
	tb.Cleanup(func() {
		if err := exec("DROP SCHEMA IF EXISTS " + name + " CASCADE"); err != nil {
			tb.Errorf("drop test schema %s: %v", name, err)
		}
	})
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// Backends returns a fresh database on each backend, for table-driven
// tests: run each as a subtest named b.Name and open b.URL with MustOpen.
// Without KAIFANG_TEST_POSTGRES the postgres URL is empty and MustOpen
// skips that subtest with one line naming the variable.
func Backends(tb testing.TB) []Backend {
	tb.Helper()
	pg := ""
	if os.Getenv(PostgresEnv) != "" {
		pg = PostgresURL(tb)
	}
	return []Backend{{Name: "sqlite", URL: SQLiteURL(tb)}, {Name: "postgres", URL: pg}}
}

// Run runs fn as one subtest per backend (named sqlite and postgres), each
// with a fresh database url; the postgres subtest skips without a server.
func Run(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteURL(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresURL(t)) })
}

// MustOpen opens url (applying migrations) and closes it when the test ends.
func MustOpen(tb testing.TB, url string) *sqlstore.Store {
	tb.Helper()
	if url == "" {
		tb.Skip(skipLine)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := sqlstore.Open(ctx, url)
	if err != nil {
		tb.Fatalf("open %s: %v", url, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Names lists the backends, for tests that open several databases each.
var Names = []string{"sqlite", "postgres"}

// Require skips the test, with one line, when backend cannot run here.
func Require(tb testing.TB, backend string) {
	tb.Helper()
	if backend == "postgres" && os.Getenv(PostgresEnv) == "" {
		tb.Skip(skipLine)
	}
}

// URL returns a fresh database url of the named backend.
func URL(tb testing.TB, backend string) string {
	tb.Helper()
	switch backend {
	case "sqlite":
		return SQLiteURL(tb)
	case "postgres":
		return PostgresURL(tb)
	}
	tb.Fatalf("unknown backend %q", backend)
	return ""
}
