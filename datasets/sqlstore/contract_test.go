package sqlstore_test

import (
	"testing"

	"kaifang/datasets"
	"kaifang/datasets/sqlstore/catalogtest"
	"kaifang/datasets/sqlstore/rowstest"
	"kaifang/datasets/sqlstore/sqltest"
)

func TestCatalogContract(t *testing.T) {
	for _, backend := range sqltest.Names {
		t.Run(backend, func(t *testing.T) {
			sqltest.Require(t, backend)
			catalogtest.Run(t, func(t *testing.T) datasets.Catalog { return sqltest.MustOpen(t, sqltest.URL(t, backend)) })
		})
	}
}

func TestRowsContract(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		rowstest.Run(t, func(t *testing.T) datasets.Rows { return sqltest.MustOpen(t, url) })
	})
}
