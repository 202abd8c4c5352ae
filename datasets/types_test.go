package datasets_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"kaifang/datasets"
)

func entry() *datasets.Dataset {
	return &datasets.Dataset{Slug: "bus-routes", Title: "公交線路", Agency: datasets.AgencyRef{ID: "a"}, Category: datasets.Transport,
		OpenClass: datasets.Open, Frequency: datasets.Monthly, State: datasets.Draft,
		Fields: []datasets.Field{{Name: "線路", Type: datasets.TypeText}}}
}

func TestValidateNamesEachWrongField(t *testing.T) {
	d := entry()
	if err := d.Validate(); err != nil {
		t.Fatalf("a good entry is refused: %v", err)
	}
	d.Slug, d.Category, d.OpenClass = "Bad Slug", "sports", datasets.Conditional
	d.Fields = append(d.Fields, datasets.Field{Name: "線路", Type: "money"})
	err := d.Validate()
	if !datasets.IsCode(err, datasets.EINVALID) {
		t.Fatalf("Validate = %v, want EINVALID", err)
	}
	got := map[string]bool{}
	for _, p := range datasets.ErrorProblems(err) {
		got[p.Field] = true
	}
	for _, f := range []string{"slug", "category", "fields", "reason", "legal_basis"} {
		if !got[f] {
			t.Errorf("no problem names %s: %v", f, datasets.ErrorProblems(err))
		}
	}
}

func TestClosedEntryCannotBePublished(t *testing.T) {
	d := entry()
	d.OpenClass, d.Reason, d.LegalBasis, d.State = datasets.Closed, "隱私", "個人信息保護法", datasets.Published
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("a published closed entry validates: %v", err)
	}
	if d.IsPublic() {
		t.Error("a closed entry claims to be public")
	}
}

func TestDiffListsOnlyChangedFields(t *testing.T) {
	a, b := entry(), entry()
	if d := datasets.Diff(a, b); d != "" {
		t.Errorf("equal entries differ: %s", d)
	}
	b.Tags = []string{} // nil and empty lists are the same list
	if d := datasets.Diff(a, b); d != "" {
		t.Errorf("nil vs empty tags differ: %s", d)
	}
	b.Title = "公交線路（更新）"
	d := datasets.Diff(a, b)
	if !strings.Contains(d, `"title":["公交線路","公交線路（更新）"]`) || strings.Contains(d, "slug") {
		t.Errorf("diff = %s, want only the title with old and new", d)
	}
}

func TestNextDue(t *testing.T) {
	last := time.Date(2026, 1, 31, 8, 0, 0, 0, time.UTC)
	for f, want := range map[datasets.Frequency]string{datasets.Daily: "2026-02-01", datasets.Weekly: "2026-02-07", datasets.Quarterly: "2026-05-01", datasets.Yearly: "2027-01-31"} {
		got, ok := f.NextDue(last)
		if !ok || got.Format("2006-01-02") != want {
			t.Errorf("%s after %s = %s, want %s", f, last.Format("2006-01-02"), got.Format("2006-01-02"), want)
		}
	}
	if _, ok := datasets.Irregular.NextDue(last); ok {
		t.Error("irregular entries are never due")
	}
}

func TestErrorCodeAndMessageThroughWrapping(t *testing.T) {
	inner := datasets.Wrap(errors.New("pq: connection refused at 10.0.0.3"), datasets.EUNAVAILABLE, "database unavailable")
	err := fmt.Errorf("listing: %w", inner)
	if datasets.ErrorCode(err) != datasets.EUNAVAILABLE || datasets.ErrorMessage(err) != "database unavailable" {
		t.Errorf("code %q message %q", datasets.ErrorCode(err), datasets.ErrorMessage(err))
	}
	if datasets.ErrorCode(errors.New("boom")) != datasets.EINTERNAL || datasets.ErrorMessage(errors.New("secret detail")) != "internal error" {
		t.Error("a plain error must be EINTERNAL with a generic message")
	}
	p := datasets.Problem{Row: 3, Column: 2, Field: "開放類型", Message: "unknown class"}
	if p.String() != `row 3 column 2 field "開放類型": unknown class` {
		t.Errorf("problem reads %q", p.String())
	}
}
