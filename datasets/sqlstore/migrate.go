package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"time"

	"kaifang/datasets"
)

//go:embed migrations
var migrationsFS embed.FS

// Migration is one applied schema migration.
type Migration struct {
	Version   int       `json:"version"`
	Name      string    `json:"name"`
	AppliedAt time.Time `json:"applied_at"`
}

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// Migrate applies every embedded migration not yet applied, each in its own
// transaction: a migration that fails leaves the schema as it was before it
// and stops the run. Open calls it; `kaifang migrate` may call it again.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrationsFS, "migrations/"+s.d.name)
	if err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "migrations missing")
	}
	return s.migrateFS(ctx, sub)
}

func (s *Store) migrateFS(ctx context.Context, fsys fs.FS) error {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "cannot read migrations")
	}
	type file struct {
		version int
		name    string
	}
	var files []file
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return datasets.Errorf(datasets.EINTERNAL, "migration file %q is not named NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		files = append(files, file{v, e.Name()})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].version < files[j].version })

	tsType := "TEXT"
	if !s.d.timeAsText {
		tsType = "TIMESTAMPTZ"
	}
	err = s.tx(ctx, "migrate", func(tx *sql.Tx) error {
		if err := s.serialize(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at `+tsType+` NOT NULL)`)
		return err
	})
	if err != nil {
		return err
	}
	for _, f := range files {
		body, err := fs.ReadFile(fsys, f.name)
		if err != nil {
			return datasets.Wrap(err, datasets.EINTERNAL, "cannot read migration %s", f.name)
		}
		err = s.tx(ctx, "migration "+f.name, func(tx *sql.Tx) error {
			// Two processes starting together: the second waits here, then
			// sees the version applied and skips it.
			if err := s.serialize(ctx, tx); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, s.d.q(`SELECT count(*) FROM schema_migrations WHERE version = ?`), f.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", f.name, err)
			}
			_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				f.version, f.name, s.d.ts(now()))
			return err
		})
		if err != nil {
			return datasets.Wrap(err, datasets.EINTERNAL, "migration %s failed; the schema is as it was before it", f.name)
		}
	}
	return nil
}

// serialize makes the transaction wait for others that must commit in order.
func (s *Store) serialize(ctx context.Context, tx *sql.Tx) error {
	if s.d.serialize == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.d.serialize)
	return err
}

// Migrations lists the applied migrations, oldest first.
func (s *Store) Migrations(ctx context.Context) ([]Migration, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, s.fail(err, "list migrations")
	}
	defer rows.Close()
	var ms []Migration
	for rows.Next() {
		var m Migration
		var at timeScan
		if err := rows.Scan(&m.Version, &m.Name, &at); err != nil {
			return nil, s.fail(err, "list migrations")
		}
		m.AppliedAt = at.t
		ms = append(ms, m)
	}
	return ms, s.fail(rows.Err(), "list migrations")
}
