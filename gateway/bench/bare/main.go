// Command bare serves the records of one row table with net/http and the
// row store alone, as the baseline the records API is measured against.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"strconv"

	"kaifang/datasets"
	"kaifang/datasets/sqlstore"
)

func main() {
	db := flag.String("db", "", "database URL")
	table := flag.String("table", "", "row table")
	addr := flag.String("addr", "127.0.0.1:18099", "listen address")
	flag.Parse()
	st, err := sqlstore.Open(context.Background(), *db)
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		q := datasets.RowQuery{Limit: max(limit, 1)}
		for k, vs := range r.URL.Query() {
			if k != "limit" {
				q.Filters = append(q.Filters, datasets.RowFilter{Field: k, Op: datasets.OpEq, Values: []any{vs[0]}})
				q.Columns = append(q.Columns, datasets.Column{Name: k, Type: datasets.TypeText})
			}
		}
		page, err := st.QueryRows(r.Context(), *table, q)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(page.Rows)
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
