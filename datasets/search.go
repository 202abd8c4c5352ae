package datasets

import "context"

// SearchQuery asks the catalogue index for one page of entries.
type SearchQuery struct {
	Text        string
	AgencyIDs   []string
	Categories  []Category
	OpenClasses []OpenClass // only open and conditional are ever indexed
	Formats     []string
	Frequencies []Frequency
	Tags        []string
	Sort        string // "relevance" (default), "updated", "popular"
	Page        int    // 1-based
	PerPage     int    // default 20, max 100
	Explain     bool   // fill SearchHit.Explanation
}

// SearchHit is one entry found; the caller loads the entry itself from the catalogue.
type SearchHit struct {
	ID          string              `json:"id"`
	Score       float64             `json:"score"`
	Highlights  map[string][]string `json:"highlights,omitempty"` // field -> fragments with <mark>
	Explanation map[string]any      `json:"explanation,omitempty"`
}

// SearchResult is one page of hits with the total and facet counts of every
// filter field over the whole result (facet -> value -> count).
type SearchResult struct {
	Hits   []SearchHit               `json:"hits"`
	Total  int                       `json:"total"`
	Facets map[string]map[string]int `json:"facets"`
}

// Suggestion is one title completion.
type Suggestion struct {
	ID    string `json:"id"`
	Slug  string `json:"slug"`
	Title string `json:"title"`
}

// Index is the derived search index of the catalogue. Only public entries
// (published, open or conditional) may be put in it; Upsert of any other
// entry removes it instead. Unreachable engines are EUNAVAILABLE.
type Index interface {
	// Upsert adds or replaces entries (idempotent).
	Upsert(ctx context.Context, ds ...Dataset) error
	// Delete removes entries by id; missing ids are not an error.
	Delete(ctx context.Context, ids ...string) error
	// Search runs q.
	Search(ctx context.Context, q SearchQuery) (SearchResult, error)
	// Suggest completes a title prefix, best first.
	Suggest(ctx context.Context, prefix string, n int) ([]Suggestion, error)
	// Reset empties the index.
	Reset(ctx context.Context) error
	// Ping checks that the engine answers.
	Ping(ctx context.Context) error
	Close() error
}
