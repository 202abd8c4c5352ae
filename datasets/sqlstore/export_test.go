package sqlstore

import (
	"context"
	"io/fs"
)

// MigrateFS applies the migrations of fsys, for tests of failing migrations.
func (s *Store) MigrateFS(ctx context.Context, fsys fs.FS) error { return s.migrateFS(ctx, fsys) }

var ParseURL = parseURL
