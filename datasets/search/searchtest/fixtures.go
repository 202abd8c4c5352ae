package searchtest

import (
	"embed"
	"encoding/json"
	"testing"
	"time"

	"kaifang/datasets"
)

//go:embed testdata/catalogue.json testdata/judgements.json
var files embed.FS

type entry struct {
	ID          string   `json:"id"`
	Slug        string   `json:"slug"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Agency      string   `json:"agency"`
	Category    string   `json:"category"`
	OpenClass   string   `json:"open_class"`
	Frequency   string   `json:"frequency"`
	Formats     []string `json:"formats"`
	Tags        []string `json:"tags"`
	Updated     string   `json:"updated"`
}

// Judgement is one labelled query: slug -> grade (2 highly, 1 partly relevant).
type Judgement struct {
	Query    string         `json:"query"`
	Relevant map[string]int `json:"relevant"`
}

// MustCatalogue returns the fixed test catalogue: published entries of real
// Xiamen and Jiangxi open lists plus a few written for the test (see
// testdata/PROVENANCE.md). Agency ids are derived from agency names.
func MustCatalogue(tb testing.TB) []datasets.Dataset {
	tb.Helper()
	b, err := files.ReadFile("testdata/catalogue.json")
	if err != nil {
		tb.Fatal(err)
	}
	var es []entry
	if err := json.Unmarshal(b, &es); err != nil {
		tb.Fatalf("catalogue.json: %v", err)
	}
	out := make([]datasets.Dataset, 0, len(es))
	for _, e := range es {
		upd, err := time.Parse(time.RFC3339, e.Updated)
		if err != nil {
			tb.Fatalf("catalogue.json %s: %v", e.Slug, err)
		}
		d := datasets.Dataset{
			ID: e.ID, Slug: e.Slug, Title: e.Title, Description: e.Description,
			Agency:    datasets.AgencyRef{ID: AgencyID(e.Agency), Slug: AgencyID(e.Agency), Name: e.Agency},
			Category:  datasets.Category(e.Category),
			OpenClass: datasets.OpenClass(e.OpenClass),
			Frequency: datasets.Frequency(e.Frequency),
			Formats:   e.Formats, Tags: e.Tags,
			State:     datasets.Published,
			CreatedAt: upd, UpdatedAt: upd,
		}
		if d.OpenClass == datasets.Conditional {
			d.Reason, d.LegalBasis = "contains data of individuals", "test"
		}
		out = append(out, d)
	}
	return out
}

// AgencyID gives the fixture agency of a name a stable id.
func AgencyID(name string) string {
	h := uint32(2166136261)
	for _, c := range []byte(name) {
		h = (h ^ uint32(c)) * 16777619
	}
	const hex = "0123456789abcdef"
	b := []byte("ag-00000000")
	for i := 0; i < 8; i++ {
		b[3+i] = hex[(h>>(28-4*i))&0xf]
	}
	return string(b)
}

// MustJudgements returns the labelled queries.
func MustJudgements(tb testing.TB) []Judgement {
	tb.Helper()
	b, err := files.ReadFile("testdata/judgements.json")
	if err != nil {
		tb.Fatal(err)
	}
	var js []Judgement
	if err := json.Unmarshal(b, &js); err != nil {
		tb.Fatalf("judgements.json: %v", err)
	}
	return js
}
