package search

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"

	"kaifang/datasets"
)

// Open opens the index named by a KAIFANG_SEARCH URL:
//
//	bleve:///abs/dir or bleve://rel/dir   embedded, created if missing
//	meilisearch://host:port?key=…&index=datasets[&secure=true]
//
// Both accept synonyms=/path/file to extend the embedded synonym table.
func Open(ctx context.Context, rawURL string) (datasets.Index, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, datasets.Errorf(datasets.EINVALID, "search URL is not a URL")
	}
	syn, err := LoadSynonyms(u.Query().Get("synonyms"))
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "bleve":
		dir := u.Host + u.Path
		if u.Opaque != "" {
			dir = u.Opaque
		}
		if strings.TrimSpace(dir) == "" {
			return nil, datasets.Errorf(datasets.EINVALID, "bleve URL needs a directory: bleve:///abs/dir or bleve://rel/dir")
		}
		return OpenBleve(filepath.Clean(dir), syn)
	case "meilisearch":
		if u.Host == "" {
			return nil, datasets.Errorf(datasets.EINVALID, "meilisearch URL needs host:port")
		}
		scheme := "http"
		if u.Query().Get("secure") == "true" {
			scheme = "https"
		}
		index := u.Query().Get("index")
		if index == "" {
			index = "datasets"
		}
		m, err := OpenMeili(ctx, MeiliConfig{URL: scheme + "://" + u.Host, Key: u.Query().Get("key"), Index: index, Synonyms: syn})
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, datasets.Errorf(datasets.EINVALID, "search URL scheme must be bleve or meilisearch")
}
