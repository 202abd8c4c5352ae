package portal

import (
	"context"
	"strings"

	"kaifang/datasets"
)

// errClosedNeverPublic is the one answer to every attempt to put a closed
// entry on the public list.
var errClosedNeverPublic = datasets.Errorf(datasets.EFORBIDDEN,
	"a closed (非開放) entry stays in the agency's internal list and can never be published")

// SubmitEntry sends a draft to the opening review. Closed entries cannot
// be submitted: there is nothing a review could open.
func (s *Service) SubmitEntry(ctx context.Context, actor *datasets.User, id string) (*datasets.Dataset, error) {
	d, err := s.entryFor(ctx, actor, id, canPublish, "submit entries")
	if err != nil {
		return nil, err
	}
	if d.OpenClass == datasets.Closed {
		return nil, errClosedNeverPublic
	}
	if d.State != datasets.Draft {
		return nil, datasets.Errorf(datasets.ECONFLICT, "only a draft can be submitted; the entry is %s", d.State)
	}
	d.State = datasets.InReview
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := s.Catalog.UpdateDataset(ctx, d, datasets.Change{Actor: actor.ID, Action: "submit", Summary: "submitted for the opening review"}); err != nil {
		return nil, err
	}
	return d, nil
}

// ReviewInput is a reviewer's decision on an entry in review. Approval
// needs all three checks passed, each with a note; rejection needs a reason.
type ReviewInput struct {
	Decision        string                `json:"decision"`
	Legality        *datasets.ReviewCheck `json:"legality"`
	Confidentiality *datasets.ReviewCheck `json:"confidentiality"`
	Privacy         *datasets.ReviewCheck `json:"privacy"`
	Reason          string                `json:"reason"`
}

func (in ReviewInput) validate() error {
	var ps []datasets.Problem
	if in.Decision != datasets.Approve && in.Decision != datasets.Reject {
		ps = append(ps, datasets.Problem{Field: "decision", Message: "must be approve or reject"})
	}
	if in.Decision == datasets.Approve {
		for _, c := range []struct {
			name string
			c    *datasets.ReviewCheck
		}{{"legality", in.Legality}, {"confidentiality", in.Confidentiality}, {"privacy", in.Privacy}} {
			switch {
			case c.c == nil:
				ps = append(ps, datasets.Problem{Field: c.name, Message: "the check must be recorded before approval"})
			case !c.c.OK:
				ps = append(ps, datasets.Problem{Field: c.name, Message: "an entry that fails a check cannot be approved"})
			case strings.TrimSpace(c.c.Note) == "":
				ps = append(ps, datasets.Problem{Field: c.name, Message: "needs a note saying what was checked"})
			}
		}
	}
	if in.Decision == datasets.Reject && strings.TrimSpace(in.Reason) == "" {
		ps = append(ps, datasets.Problem{Field: "reason", Message: "a rejection needs a reason"})
	}
	if len(ps) == 0 {
		return nil
	}
	return &datasets.Error{Code: datasets.EINVALID, Message: "incomplete review: " + ps[0].String(), Problems: ps}
}

func check(c *datasets.ReviewCheck) datasets.ReviewCheck {
	if c == nil {
		return datasets.ReviewCheck{}
	}
	return datasets.ReviewCheck{OK: c.OK, Note: strings.TrimSpace(c.Note)}
}

// ReviewEntry records the opening review of an entry in review by a
// reviewer of its agency or an admin: approval publishes it, rejection
// sends it back to draft with the reason. The review record is kept.
func (s *Service) ReviewEntry(ctx context.Context, actor *datasets.User, id string, in ReviewInput) (*datasets.Dataset, error) {
	acc, err := s.accounts()
	if err != nil {
		return nil, err
	}
	d, err := s.entryFor(ctx, actor, id, canReviewEntries, "review entries")
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	if in.Decision == datasets.Approve && d.OpenClass == datasets.Closed {
		return nil, errClosedNeverPublic
	}
	if d.State != datasets.InReview {
		return nil, datasets.Errorf(datasets.ECONFLICT, "only an entry in review can be reviewed; the entry is %s", d.State)
	}
	return s.decideEntry(ctx, acc, actor, d, in)
}

// decideEntry stores the review and moves the entry; callers have checked rights.
func (s *Service) decideEntry(ctx context.Context, acc datasets.Accounts, actor *datasets.User, d *datasets.Dataset, in ReviewInput) (*datasets.Dataset, error) {
	r := &datasets.Review{DatasetID: d.ID, ReviewerID: actor.ID, Decision: in.Decision, Legality: check(in.Legality),
		Confidentiality: check(in.Confidentiality), Privacy: check(in.Privacy), Reason: strings.TrimSpace(in.Reason), At: s.now()}
	c := datasets.Change{Actor: actor.ID}
	if in.Decision == datasets.Approve {
		d.State, c.Action = datasets.Published, "publish"
		c.Summary = "opening review approved: legality: " + r.Legality.Note + "; confidentiality: " + r.Confidentiality.Note + "; privacy: " + r.Privacy.Note
	} else {
		d.State, c.Action = datasets.Draft, "reject"
		c.Summary = "opening review rejected: " + r.Reason
	}
	// The entry must still be valid as published; Validate refuses a closed
	// one too, so the rule holds even if a caller skipped the check above.
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := acc.AddReview(ctx, r); err != nil {
		return nil, err
	}
	if err := s.Catalog.UpdateDataset(ctx, d, c); err != nil {
		return nil, err
	}
	return d, nil
}

// EntryReviewQueue lists entries waiting for review: a reviewer's own agency's,
// or every agency's for an admin.
func (s *Service) EntryReviewQueue(ctx context.Context, actor *datasets.User, page, perPage int) ([]datasets.Dataset, int, error) {
	if actor == nil {
		return nil, 0, errSignIn
	}
	f := datasets.DatasetFilter{States: []datasets.State{datasets.InReview}, Sort: "updated", Page: page, PerPage: perPage}
	switch {
	case isAdmin(actor):
	case actor.Active() && actor.Role == datasets.RoleReviewer && actor.AgencyID != "":
		f.AgencyID = actor.AgencyID
	default:
		return nil, 0, datasets.Errorf(datasets.EFORBIDDEN, "only reviewers and admins have a review queue")
	}
	return s.Catalog.Datasets(ctx, f)
}
