package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"kaifang/datasets"
)

// fail translates a driver error into a datasets.Error whose message names
// op. Errors that already are datasets.Errors pass through.
func (s *Store) fail(err error, op string) error {
	if err == nil {
		return nil
	}
	var de *datasets.Error
	if errors.As(err, &de) {
		return err
	}
	return datasets.Wrap(err, classify(err), "%s: %s", op, phrase(classify(err)))
}

func phrase(code string) string {
	switch code {
	case datasets.ENOTFOUND:
		return "not found"
	case datasets.ECONFLICT:
		return "already exists"
	case datasets.EINVALID:
		return "value refused by the schema"
	case datasets.EUNAVAILABLE:
		return "database unavailable"
	}
	return "database error"
}

func classify(err error) string {
	if errors.Is(err, sql.ErrNoRows) {
		return datasets.ENOTFOUND
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrConnDone) {
		return datasets.EUNAVAILABLE
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return datasets.ECONFLICT
		case pe.Code == "42P01":
			return datasets.ENOTFOUND
		case strings.HasPrefix(pe.Code, "23"), strings.HasPrefix(pe.Code, "22"):
			return datasets.EINVALID
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "53"),
			strings.HasPrefix(pe.Code, "57P"), pe.Code == "40001", pe.Code == "40P01":
			return datasets.EUNAVAILABLE
		}
		return datasets.EINTERNAL
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return datasets.ECONFLICT
		}
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_RANGE:
			return datasets.EINVALID
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR,
			sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return datasets.EUNAVAILABLE
		case sqlite3.SQLITE_ERROR:
			if strings.Contains(se.Error(), "no such table") {
				return datasets.ENOTFOUND
			}
		}
		return datasets.EINTERNAL
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) {
		return datasets.EUNAVAILABLE
	}
	return datasets.EINTERNAL
}
