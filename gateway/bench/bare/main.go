// Command bare is the baseline the records API is measured against: a plain
// net/http handler that runs the same SQL the row store runs for a 10-row
// page with one equality filter — every column plus _row, the filter bound
// as a parameter, ORDER BY _row, LIMIT n+1 — through the same drivers
// (modernc sqlite with the same pragmas, pgx pool behind database/sql), and
// JSON-encodes the rows. It has no routing, catalogue lookup, OpenAPI
// validation, rate limit, masking or audit: the difference to the gateway is
// what those cost.
//
//	bare -db sqlite:///path.db|postgres://… -table T -filter code -addr 127.0.0.1:18099
//	GET /?limit=10&code=C00042
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

func quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

func main() {
	dbURL := flag.String("db", "", "database URL: sqlite:///path.db or postgres://…")
	table := flag.String("table", "", "row table")
	filter := flag.String("filter", "code", "the column filtered by equality")
	addr := flag.String("addr", "127.0.0.1:18099", "listen address")
	flag.Parse()
	ctx := context.Background()
	var db *sql.DB
	ph := "$1"
	switch {
	case strings.HasPrefix(*dbURL, "sqlite://"):
		var err error
		db, err = sql.Open("sqlite", strings.TrimPrefix(*dbURL, "sqlite://")+
			"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)")
		if err != nil {
			log.Fatal(err)
		}
		ph = "?"
	case strings.HasPrefix(*dbURL, "postgres://"):
		pool, err := pgxpool.New(ctx, *dbURL)
		if err != nil {
			log.Fatal(err)
		}
		db = stdlib.OpenDBFromPool(pool)
	default:
		log.Fatal("-db must be sqlite:// or postgres://")
	}
	// The column list comes from the table itself, as the gateway's comes
	// from the version's schema; the filter column must be one of them.
	probe, err := db.QueryContext(ctx, "SELECT * FROM "+quote(*table)+" LIMIT 0")
	if err != nil {
		log.Fatal(err)
	}
	all, _ := probe.Columns()
	probe.Close()
	var cols []string
	found := false
	for _, c := range all {
		if c == "_row" {
			continue
		}
		cols = append(cols, c)
		found = found || c == *filter
	}
	if !found {
		log.Fatalf("table %s has no column %q", *table, *filter)
	}
	names := make([]string, 0, len(cols)+1)
	for _, c := range cols {
		names = append(names, quote(c))
	}
	names = append(names, quote("_row"))
	prefix := fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s ORDER BY %s LIMIT ",
		strings.Join(names, ", "), quote(*table), quote(*filter), ph, quote("_row"))

	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, err := strconv.Atoi(q.Get("limit"))
		if err != nil || limit < 1 || limit > 1000 {
			limit = 10
		}
		rows, err := db.QueryContext(r.Context(), prefix+strconv.Itoa(limit+1), q.Get(*filter))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer rows.Close()
		items := []map[string]any{}
		raw := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		for rows.Next() && len(items) < limit {
			if err := rows.Scan(ptrs...); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			item := make(map[string]any, len(cols))
			for i, c := range cols {
				if b, ok := raw[i].([]byte); ok {
					item[c] = string(b)
				} else {
					item[c] = raw[i]
				}
			}
			items = append(items, item)
		}
		if err := rows.Err(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"items": items})
	})
	log.Printf("bare on http://%s: %s?", *addr, prefix)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
