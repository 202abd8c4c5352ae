package portal

import (
	"context"
	"sort"
	"time"

	"kaifang/datasets"
)

// Timeliness is an entry's update status against its declared frequency
// (art. 24: an entry late against its update frequency is flagged).
type Timeliness struct {
	LastUpdate  time.Time  `json:"last_update"`
	NextDue     *time.Time `json:"next_due,omitempty"` // nil: irregular entries are never due
	Overdue     bool       `json:"overdue"`
	DaysOverdue int        `json:"days_overdue,omitempty"`
}

// lastUpdate is when the entry's data last changed: its current version,
// or, before any file, its publication (an entry owes its first file from
// the day it went public), or its creation.
func lastUpdate(d *datasets.Dataset) time.Time {
	if v := d.CurrentVersion; v != nil {
		if v.ReadyAt != nil {
			return *v.ReadyAt
		}
		return v.CreatedAt
	}
	if d.PublishedAt != nil {
		return *d.PublishedAt
	}
	return d.CreatedAt
}

// TimelinessOf computes when the entry is next due and whether it is late at now.
func TimelinessOf(d *datasets.Dataset, now time.Time) Timeliness {
	t := Timeliness{LastUpdate: lastUpdate(d).UTC()}
	due, ok := d.Frequency.NextDue(t.LastUpdate)
	if !ok {
		return t
	}
	t.NextDue = &due
	if now.After(due) {
		t.Overdue = true
		t.DaysOverdue = int(now.Sub(due) / (24 * time.Hour))
	}
	return t
}

// OverdueEntry is one late entry of an agency.
type OverdueEntry struct {
	ID        string             `json:"id"`
	Slug      string             `json:"slug"`
	Title     string             `json:"title"`
	Frequency datasets.Frequency `json:"frequency"`
	Timeliness
}

// publicEntries lists every published open and conditional entry of an agency.
func (s *Service) publicEntries(ctx context.Context, agencyID string) ([]datasets.Dataset, error) {
	var all []datasets.Dataset
	for page := 1; ; page++ {
		ds, total, err := s.Catalog.PublicDatasets(ctx, datasets.DatasetFilter{AgencyID: agencyID, Sort: "title", Page: page, PerPage: 1000})
		if err != nil {
			return nil, err
		}
		all = append(all, ds...)
		if len(ds) == 0 || len(all) >= total {
			return all, nil
		}
	}
}

// Overdue lists an agency's published entries that are late against their
// frequency, the latest first. Update status is public (art. 24), so no
// sign-in is needed; only public entries can appear.
func (s *Service) Overdue(ctx context.Context, agencyIDOrSlug string) ([]OverdueEntry, error) {
	a, err := s.Catalog.Agency(ctx, agencyIDOrSlug)
	if err != nil {
		return nil, err
	}
	ds, err := s.publicEntries(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []OverdueEntry{}
	for i := range ds {
		t := TimelinessOf(&ds[i], now)
		if t.Overdue {
			out = append(out, OverdueEntry{ID: ds[i].ID, Slug: ds[i].Slug, Title: ds[i].Title, Frequency: ds[i].Frequency, Timeliness: t})
		}
	}
	// Most overdue first: that is what an agency must fix first.
	sort.SliceStable(out, func(i, j int) bool { return out[i].NextDue.Before(*out[j].NextDue) })
	return out, nil
}
