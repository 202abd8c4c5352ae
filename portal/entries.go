package portal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"

	"kaifang/datasets"
)

var errSignIn = datasets.Errorf(datasets.EUNAUTHORIZED, "sign in first")

// Rights. Each agency's list belongs to its own publishers and reviewers;
// the data authority (admin) may act on every list.

func isAdmin(u *datasets.User) bool { return u != nil && u.Active() && u.Role == datasets.RoleAdmin }

func ofAgency(u *datasets.User, agencyID string) bool {
	return u != nil && u.Active() && u.Role.NeedsAgency() && u.AgencyID != "" && u.AgencyID == agencyID
}

// canPublish: create, edit, submit, withdraw entries and upload files.
func canPublish(u *datasets.User, agencyID string) bool {
	return isAdmin(u) || (ofAgency(u, agencyID) && u.Role == datasets.RolePublisher)
}

// canReviewEntries: record the opening review.
func canReviewEntries(u *datasets.User, agencyID string) bool {
	return isAdmin(u) || (ofAgency(u, agencyID) && u.Role == datasets.RoleReviewer)
}

// canSeeInternal: the agency's internal list, history and overdue report.
func canSeeInternal(u *datasets.User, agencyID string) bool {
	return isAdmin(u) || ofAgency(u, agencyID)
}

// refuse answers an actor without the right. Entries the public cannot see
// are ENOTFOUND to outsiders, so a refusal does not reveal that a closed
// or draft entry exists.
func refuse(u *datasets.User, d *datasets.Dataset, what string) error {
	if u == nil {
		return errSignIn
	}
	if d != nil && !d.IsPublic() && !canSeeInternal(u, d.Agency.ID) {
		return datasets.Errorf(datasets.ENOTFOUND, "dataset not found")
	}
	return datasets.Errorf(datasets.EFORBIDDEN, "you may not %s for this agency", what)
}

// EntryFields are the editable fields of an entry as a request gives them:
// nil means "not given" (keep on update, default on create).
type EntryFields struct {
	Slug        *string                `json:"slug,omitempty"`
	Title       *string                `json:"title,omitempty"`
	Description *string                `json:"description,omitempty"`
	Category    *datasets.Category     `json:"category,omitempty"`
	OpenClass   *datasets.OpenClass    `json:"open_class,omitempty"`
	Frequency   *datasets.Frequency    `json:"frequency,omitempty"`
	Formats     *[]string              `json:"formats,omitempty"`
	Tags        *[]string              `json:"tags,omitempty"`
	Fields      *[]datasets.Field      `json:"fields,omitempty"`
	AccessModes *[]datasets.AccessMode `json:"access_modes,omitempty"`
	LegalBasis  *string                `json:"legal_basis,omitempty"`
	Reason      *string                `json:"reason,omitempty"`
	License     *string                `json:"license,omitempty"`
}

func (f EntryFields) apply(d *datasets.Dataset) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&d.Slug, f.Slug)
	set(&d.Title, f.Title)
	set(&d.Description, f.Description)
	set(&d.LegalBasis, f.LegalBasis)
	set(&d.Reason, f.Reason)
	set(&d.License, f.License)
	if f.Category != nil {
		d.Category = *f.Category
	}
	if f.OpenClass != nil {
		d.OpenClass = *f.OpenClass
	}
	if f.Frequency != nil {
		d.Frequency = *f.Frequency
	}
	if f.Formats != nil {
		d.Formats = cleanList(*f.Formats, true)
	}
	if f.Tags != nil {
		d.Tags = cleanList(*f.Tags, false)
	}
	if f.Fields != nil {
		d.Fields = slices.Clone(*f.Fields)
	}
	if f.AccessModes != nil {
		d.AccessModes = slices.Clone(*f.AccessModes)
	}
}

func cleanList(in []string, lower bool) []string {
	out := []string{}
	for _, s := range in {
		s = strings.TrimSpace(s)
		if lower {
			s = strings.ToLower(s)
		}
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

var slugUnsafe = regexp.MustCompile(`[^a-z0-9]+`)

// DeriveSlug makes a slug from a title, deterministically. Titles that are
// mostly Latin become readable slugs; Chinese titles (which a slug cannot
// carry) become "ds-" and a short hash of the agency and title, so that
// importing the same list twice finds the same entries.
func DeriveSlug(agencySlug, title string) string {
	title = strings.TrimSpace(title)
	s := strings.Trim(slugUnsafe.ReplaceAllString(strings.ToLower(title), "-"), "-")
	ascii := true
	for _, r := range title {
		if r > 0x7f {
			ascii = false
			break
		}
	}
	if ascii && len(s) >= 2 {
		if len(s) > 80 {
			s = strings.Trim(s[:80], "-")
		}
		return s
	}
	h := sha256.Sum256([]byte(agencySlug + "\x00" + title))
	return "ds-" + hex.EncodeToString(h[:6])
}

// CreateEntry adds a draft entry to an agency's list. Publishers of that
// agency and admins may; a missing slug is derived from the title.
func (s *Service) CreateEntry(ctx context.Context, actor *datasets.User, agencyIDOrSlug string, f EntryFields) (*datasets.Dataset, error) {
	if actor == nil {
		return nil, errSignIn
	}
	a, err := s.Catalog.Agency(ctx, agencyIDOrSlug)
	if err != nil {
		return nil, err
	}
	if !canPublish(actor, a.ID) {
		return nil, refuse(actor, nil, "add entries")
	}
	d := &datasets.Dataset{Agency: a.Ref(), Category: datasets.Other, OpenClass: datasets.Open,
		Frequency: datasets.Irregular, State: datasets.Draft, Formats: []string{}, Tags: []string{},
		Fields: []datasets.Field{}, AccessModes: []datasets.AccessMode{}}
	f.apply(d)
	if d.Slug == "" {
		d.Slug = DeriveSlug(a.Slug, d.Title)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := s.Catalog.CreateDataset(ctx, d, datasets.Change{Actor: actor.ID, Action: "create", Summary: "entry created"}); err != nil {
		return nil, err
	}
	return d, nil
}

// entryFor loads an entry and checks the actor's right over it.
func (s *Service) entryFor(ctx context.Context, actor *datasets.User, id string, right func(*datasets.User, string) bool, what string) (*datasets.Dataset, error) {
	if actor == nil {
		return nil, errSignIn
	}
	d, err := s.Catalog.Dataset(ctx, id)
	if err != nil {
		return nil, err
	}
	if !right(actor, d.Agency.ID) {
		return nil, refuse(actor, d, what)
	}
	return d, nil
}

// UpdateEntry changes the given fields of an entry. A withdrawn entry is
// ECONFLICT; a published entry may not become closed (withdraw it first).
// The change is recorded with a JSON diff of the fields that changed.
func (s *Service) UpdateEntry(ctx context.Context, actor *datasets.User, id string, f EntryFields) (*datasets.Dataset, error) {
	d, err := s.entryFor(ctx, actor, id, canPublish, "edit entries")
	if err != nil {
		return nil, err
	}
	if d.State == datasets.Withdrawn {
		return nil, datasets.Errorf(datasets.ECONFLICT, "the entry is withdrawn; it cannot be edited")
	}
	before := *d
	f.apply(d)
	if d.State == datasets.Published && d.OpenClass == datasets.Closed {
		return nil, datasets.Errorf(datasets.EFORBIDDEN, "a closed entry can never be published: withdraw it before classing it closed")
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if datasets.Diff(&before, d) == "" {
		return d, nil // nothing changed: no change record, no new date
	}
	if err := s.Catalog.UpdateDataset(ctx, d, datasets.Change{Actor: actor.ID, Action: "update", Summary: "entry edited"}); err != nil {
		return nil, err
	}
	return d, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// WithdrawEntry takes an entry off the public list for good, with a reason.
func (s *Service) WithdrawEntry(ctx context.Context, actor *datasets.User, id, reason string) (*datasets.Dataset, error) {
	d, err := s.entryFor(ctx, actor, id, canPublish, "withdraw entries")
	if err != nil {
		return nil, err
	}
	if d.State == datasets.Withdrawn {
		return nil, datasets.Errorf(datasets.ECONFLICT, "the entry is already withdrawn")
	}
	d.State = datasets.Withdrawn
	if err := s.Catalog.UpdateDataset(ctx, d, datasets.Change{Actor: actor.ID, Action: "withdraw", Summary: strings.TrimSpace(reason)}); err != nil {
		return nil, err
	}
	return d, nil
}

// EntryHistory is everything recorded about an entry: its changes and its
// opening reviews, newest first.
type EntryHistory struct {
	Changes []datasets.Change `json:"changes"`
	Reviews []datasets.Review `json:"reviews"`
}

// History returns an entry's changes and reviews to its agency's users and admins.
func (s *Service) History(ctx context.Context, actor *datasets.User, id string) (*EntryHistory, error) {
	d, err := s.entryFor(ctx, actor, id, canSeeInternal, "read the history")
	if err != nil {
		return nil, err
	}
	cs, err := s.Catalog.History(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	h := &EntryHistory{Changes: cs, Reviews: []datasets.Review{}}
	if s.Accounts != nil {
		if h.Reviews, err = s.Accounts.Reviews(ctx, d.ID); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// AgencyEntries is the agency-internal list: every state and class,
// closed entries included, for the agency's own users and admins only.
func (s *Service) AgencyEntries(ctx context.Context, actor *datasets.User, agencyIDOrSlug string, f datasets.DatasetFilter) ([]datasets.Dataset, int, error) {
	if actor == nil {
		return nil, 0, errSignIn
	}
	a, err := s.Catalog.Agency(ctx, agencyIDOrSlug)
	if err != nil {
		return nil, 0, err
	}
	if !canSeeInternal(actor, a.ID) {
		return nil, 0, datasets.Errorf(datasets.EFORBIDDEN, "only the agency's own users see its internal list")
	}
	f.AgencyID = a.ID
	return s.Catalog.Datasets(ctx, f)
}

// CheckPublisher returns the entry if actor may publish files and changes
// for it (a publisher of its agency or an admin); callers use it before
// reading an upload, so that a refused body is never read.
func (s *Service) CheckPublisher(ctx context.Context, actor *datasets.User, id string) (*datasets.Dataset, error) {
	d, err := s.entryFor(ctx, actor, id, canPublish, "upload files")
	if err != nil {
		return nil, err
	}
	if d.State == datasets.Withdrawn {
		return nil, datasets.Errorf(datasets.ECONFLICT, "the entry is withdrawn; it takes no new files")
	}
	return d, nil
}
