package sqlstore

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers driver "sqlite"

	"kaifang/datasets"
)

var (
	_ datasets.Catalog = (*Store)(nil)
	_ datasets.Rows    = (*Store)(nil)
)

// DefaultAutoIndex is how many columns LoadRows indexes by default: none.
// Measured on 1M×10 rows, indexing 7 columns made loading 3–4× slower on
// both databases, so indexes are made on demand with IndexColumns.
const DefaultAutoIndex = 0

// Store is the catalogue and the row store on one database.
type Store struct {
	db   *sql.DB
	pool *pgxpool.Pool // PostgreSQL only: CopyFrom needs the native pool
	d    *dialect

	// gen counts catalogue writes made through this Store (see
	// CatalogGeneration).
	gen atomic.Uint64

	// audit queues concurrent AppendAudit calls for one group commit.
	audit auditQueue

	// AutoIndex is the most columns LoadRows indexes (integer, date,
	// datetime and text columns, in schema order); 0 turns it off. Set it
	// before loading.
	AutoIndex int
}

// CatalogGeneration changes after every catalogue write made through this
// Store (entries, versions, agencies), whether it committed or not. A
// cache of catalogue reads in the same process compares it to know that
// what it holds may be stale; writes by other processes are not seen here.
func (s *Store) CatalogGeneration() uint64 { return s.gen.Load() }

// Open connects to the database named by url and applies pending
// migrations. url is sqlite:///abs/path.db, sqlite://relative/path.db or
// postgres://user@host:port/db?…. EINVALID for a malformed url,
// EUNAVAILABLE when the database cannot be reached.
func Open(ctx context.Context, url string) (*Store, error) {
	kind, target, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	s := &Store{AutoIndex: DefaultAutoIndex}
	switch kind {
	case "sqlite":
		if dir := filepath.Dir(target); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, datasets.Wrap(err, datasets.EUNAVAILABLE, "cannot create database directory")
			}
		}
		// immediate: a write transaction takes the write lock at BEGIN, so
		// two writers queue on busy_timeout instead of failing to upgrade.
		dsn := target + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, datasets.Wrap(err, datasets.EUNAVAILABLE, "cannot open database")
		}
		// Keep connections open: a new SQLite connection re-reads the
		// schema, which under load cost more than the queries themselves.
		db.SetMaxIdleConns(32)
		db.SetConnMaxIdleTime(5 * time.Minute)
		s.db, s.d = db, sqliteDialect
	case "postgres":
		pcfg, err := pgxpool.ParseConfig(target)
		if err != nil {
			return nil, datasets.Wrap(err, datasets.EINVALID, "invalid postgres url")
		}
		// pgxpool's default (max(4, cores)) starves a gateway whose
		// requests wait on the network, not the CPU; far more connections
		// than the database has cores made it slower again: on 2 cores,
		// 64 concurrent records requests ran at 1,400–1,600 req/s with a
		// p99 near 1 s through 32 connections and 2,630 req/s with a p99
		// of 160–180 ms through 8 (BENCHMARKS.md). pool_max_conns in the
		// URL still wins.
		if !strings.Contains(target, "pool_max_conns") {
			pcfg.MaxConns = int32(max(8, 4*runtime.NumCPU()))
		}
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return nil, datasets.Wrap(err, datasets.EINVALID, "invalid postgres url")
		}
		// database/sql must not park pgxpool connections as its own idle
		// ones: pgxpool manages idleness, and connections parked in
		// database/sql are unavailable to the store's direct pool users
		// (COPY, transactions), which then wait for ever.
		db := stdlib.OpenDBFromPool(pool)
		db.SetMaxIdleConns(0)
		s.pool, s.db, s.d = pool, db, postgresDialect
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// parseURL splits a database url into its kind and the driver's target.
func parseURL(url string) (kind, target string, err error) {
	switch {
	case strings.HasPrefix(url, "sqlite://"):
		p := strings.TrimPrefix(url, "sqlite://")
		if p == "" || p == "/" || strings.ContainsAny(p, "?#\x00") || strings.HasSuffix(p, "/") {
			return "", "", datasets.Errorf(datasets.EINVALID, "sqlite url needs a file path without ? or #: sqlite:///abs/path.db or sqlite://rel/path.db")
		}
		return "sqlite", filepath.Clean(p), nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		if strings.ContainsRune(url, 0) {
			return "", "", datasets.Errorf(datasets.EINVALID, "postgres url contains a NUL byte")
		}
		return "postgres", url, nil
	}
	return "", "", datasets.Errorf(datasets.EINVALID, "database url must start with sqlite:// or postgres://")
}

// Dialect names the database: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// DB exposes the connection pool for packages that keep their own tables
// in the same database (accounts, applications). They own those tables.
func (s *Store) DB() *sql.DB { return s.db }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "database unavailable")
	}
	return nil
}

// Close releases every connection.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// tx runs fn in a transaction, committing if it returns nil.
func (s *Store) tx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(err, op)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return s.fail(err, op)
	}
	if err := tx.Commit(); err != nil {
		return s.fail(err, op)
	}
	return nil
}
