package search_test

import (
	"testing"

	"kaifang/datasets"
	"kaifang/datasets/search"
	"kaifang/datasets/search/searchtest"
)

// MustBleve opens an on-disk bleve index in a temporary directory.
func MustBleve(t *testing.T) datasets.Index {
	t.Helper()
	idx, err := search.OpenBleve(t.TempDir(), nil)
	if err != nil {
		t.Fatalf("OpenBleve: %v", err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx
}

func TestQualityBleve(t *testing.T) { searchtest.RunQuality(t, MustBleve) }

func TestContractBleve(t *testing.T) { searchtest.Run(t, MustBleve) }
