package portal

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"kaifang/datasets"
)

// DefaultAnswerDays is how many working days an agency has to answer an
// application for conditional data (Shenyang: on the spot or within 15).
const DefaultAnswerDays = 15

var (
	answerMu   sync.RWMutex
	answerDays = map[string]int{}
)

// SetAnswerDays sets an agency's answer deadline in working days; n <= 0
// restores the default. Configuration calls it at start-up.
func SetAnswerDays(agencyID string, n int) {
	answerMu.Lock()
	defer answerMu.Unlock()
	if n <= 0 {
		delete(answerDays, agencyID)
		return
	}
	answerDays[agencyID] = n
}

// AnswerDays returns an agency's answer deadline in working days.
func AnswerDays(agencyID string) int {
	answerMu.RLock()
	defer answerMu.RUnlock()
	if n, ok := answerDays[agencyID]; ok {
		return n
	}
	return DefaultAnswerDays
}

// Default limits of a grant when the reviewer sets none.
const (
	DefaultRate        = 60
	DefaultRatePeriod  = datasets.PerMinute
	DefaultQuota       = 10000
	DefaultQuotaPeriod = datasets.PerDay
)

// ApplyInput is what a developer submits.
type ApplyInput struct {
	Scenario string                   `json:"scenario"`
	Purpose  string                   `json:"purpose"`
	Requests []datasets.AccessRequest `json:"requests"`
	From     time.Time                `json:"from"`
	To       time.Time                `json:"to"`
	Volume   string                   `json:"expected_volume"`
}

func invalid(field, msg string) error {
	return &datasets.Error{Code: datasets.EINVALID, Message: field + ": " + msg,
		Problems: []datasets.Problem{{Field: field, Message: msg}}}
}

func needUser(u *datasets.User) error {
	if !u.Active() {
		return datasets.Errorf(datasets.EUNAUTHORIZED, "sign in with a personal access token")
	}
	return nil
}

// Apply submits an application for conditional entries of one agency. Every
// entry must be public, conditional and offer the modes asked; the fields
// must be in its schema. The due date is counted in working days.
func (s *Service) Apply(ctx context.Context, u *datasets.User, in ApplyInput) (*datasets.Application, error) {
	if err := needUser(u); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Scenario) == "" {
		return nil, invalid("scenario", "state the use scenario (應用場景)")
	}
	if strings.TrimSpace(in.Purpose) == "" {
		return nil, invalid("purpose", "is required")
	}
	if len(in.Requests) == 0 {
		return nil, invalid("requests", "ask for at least one entry")
	}
	now := s.now()
	if in.From.IsZero() {
		in.From = now
	}
	if !in.To.After(in.From) {
		return nil, invalid("to", "the period must end after it starts")
	}
	if in.To.Sub(in.From) > 3*366*24*time.Hour {
		return nil, invalid("to", "a period is at most three years")
	}
	agency := ""
	seen := map[string]bool{}
	for i := range in.Requests {
		r := &in.Requests[i]
		d, err := s.Catalog.PublicDataset(ctx, r.DatasetID)
		if err != nil {
			return nil, err
		}
		if d.OpenClass != datasets.Conditional {
			return nil, invalid("requests", d.Slug+" is not conditionally open: no application is needed or possible")
		}
		if seen[d.ID] {
			return nil, invalid("requests", d.Slug+" is asked for twice")
		}
		seen[d.ID] = true
		if agency == "" {
			agency = d.Agency.ID
		} else if agency != d.Agency.ID {
			return nil, invalid("requests", "apply separately to each agency: "+d.Slug+" belongs to another one")
		}
		r.DatasetID = d.ID
		if len(r.Fields) == 0 {
			return nil, invalid("requests", "name the fields of "+d.Slug+" your scenario needs")
		}
		for _, f := range r.Fields {
			if !slices.ContainsFunc(d.Fields, func(x datasets.Field) bool { return x.Name == f }) {
				return nil, invalid("requests", d.Slug+" has no field "+f)
			}
		}
		if len(r.Modes) == 0 {
			return nil, invalid("requests", "name the access modes wanted for "+d.Slug)
		}
		for _, m := range r.Modes {
			if !slices.Contains(d.AccessModes, m) {
				return nil, invalid("requests", d.Slug+" is not opened in mode "+string(m))
			}
		}
	}
	a := &datasets.Application{
		ApplicantID: u.ID, AgencyID: agency, Scenario: strings.TrimSpace(in.Scenario), Purpose: strings.TrimSpace(in.Purpose),
		Requests: in.Requests, From: in.From, To: in.To, Volume: in.Volume,
		State: datasets.AppSubmitted, DueAt: s.Calendar.Deadline(now, AnswerDays(agency)), CreatedAt: now,
	}
	err := s.Access.CreateApplication(ctx, a, datasets.ApplicationEvent{Actor: u.ID, To: datasets.AppSubmitted, At: now})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// canReview reports whether u reviews applications to agencyID.
func canReview(u *datasets.User, agencyID string) bool {
	if !u.Active() {
		return false
	}
	return u.Role == datasets.RoleAdmin || (u.Role == datasets.RoleReviewer && u.AgencyID == agencyID)
}

// ApplicationView is an application with its history and grants.
type ApplicationView struct {
	datasets.Application
	Events []datasets.ApplicationEvent `json:"events"`
	Grants []datasets.Grant            `json:"grants"`
}

// ApplicationFor returns an application to its applicant, its agency's
// reviewers and admins; anyone else gets ENOTFOUND.
func (s *Service) ApplicationFor(ctx context.Context, u *datasets.User, id string) (*ApplicationView, error) {
	if err := needUser(u); err != nil {
		return nil, err
	}
	a, err := s.Access.Application(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.ApplicantID != u.ID && !canReview(u, a.AgencyID) {
		return nil, datasets.Errorf(datasets.ENOTFOUND, "no such application")
	}
	v := &ApplicationView{Application: *a}
	if v.Events, err = s.Access.ApplicationEvents(ctx, id); err != nil {
		return nil, err
	}
	if v.Grants, err = s.Access.Grants(ctx, id); err != nil {
		return nil, err
	}
	return v, nil
}

// MyApplications lists the user's own applications.
func (s *Service) MyApplications(ctx context.Context, u *datasets.User) ([]datasets.Application, error) {
	if err := needUser(u); err != nil {
		return nil, err
	}
	return s.Access.Applications(ctx, datasets.ApplicationFilter{ApplicantID: u.ID})
}

// QueueItem is an application waiting for review.
type QueueItem struct {
	datasets.Application
	Overdue      bool `json:"overdue"`
	WorkdaysLeft int  `json:"workdays_left"` // negative once overdue
}

// ReviewQueue lists the submitted applications a reviewer answers, by due
// date, overdue ones marked. Admins see every agency's.
func (s *Service) ReviewQueue(ctx context.Context, u *datasets.User) ([]QueueItem, error) {
	if err := needUser(u); err != nil {
		return nil, err
	}
	f := datasets.ApplicationFilter{States: []datasets.ApplicationState{datasets.AppSubmitted}}
	switch {
	case u.Role == datasets.RoleAdmin:
	case u.Role == datasets.RoleReviewer && u.AgencyID != "":
		f.AgencyID = u.AgencyID
	default:
		return nil, datasets.Errorf(datasets.EFORBIDDEN, "only reviewers see the review queue")
	}
	apps, err := s.Access.Applications(ctx, f)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]QueueItem, len(apps))
	for i, a := range apps {
		out[i] = QueueItem{Application: a, Overdue: now.After(a.DueAt), WorkdaysLeft: s.Calendar.WorkdaysBetween(now, a.DueAt)}
	}
	return out, nil
}

// GrantDecision narrows what one requested entry opens. Zero values take
// what was requested (fields, modes, period) or the defaults (limits).
type GrantDecision struct {
	DatasetID   string                       `json:"dataset_id"`
	Fields      []string                     `json:"fields,omitempty"`
	Modes       []datasets.AccessMode        `json:"modes,omitempty"`
	Masks       map[string]datasets.MaskRule `json:"masks,omitempty"`
	Rate        int64                        `json:"rate,omitempty"`
	RatePeriod  string                       `json:"rate_period,omitempty"`
	Quota       int64                        `json:"quota,omitempty"`
	QuotaPeriod string                       `json:"quota_period,omitempty"`
	From        time.Time                    `json:"from,omitzero"`
	To          time.Time                    `json:"to,omitzero"`
}

// Decision is a reviewer's answer.
type Decision struct {
	Approve bool            `json:"approve"`
	Reason  string          `json:"reason"`
	Grants  []GrantDecision `json:"grants,omitempty"` // entries left out are granted as requested
}

// Decide approves or rejects a submitted application. A rejection needs a
// reason. An approval may narrow fields, modes, limits and period but never
// widen them; it creates one grant per requested entry.
func (s *Service) Decide(ctx context.Context, u *datasets.User, id string, d Decision) (*ApplicationView, error) {
	if err := needUser(u); err != nil {
		return nil, err
	}
	a, err := s.Access.Application(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canReview(u, a.AgencyID) {
		if a.ApplicantID == u.ID {
			return nil, datasets.Errorf(datasets.EFORBIDDEN, "applicants cannot review their own applications")
		}
		return nil, datasets.Errorf(datasets.ENOTFOUND, "no such application")
	}
	if a.ApplicantID == u.ID {
		return nil, datasets.Errorf(datasets.EFORBIDDEN, "applicants cannot review their own applications")
	}
	if a.State != datasets.AppSubmitted {
		return nil, datasets.Errorf(datasets.ECONFLICT, "application is %s; only submitted ones are decided", a.State)
	}
	now := s.now()
	reason := strings.TrimSpace(d.Reason)
	var grants []datasets.Grant
	if d.Approve {
		if grants, err = s.grantsFor(a, d.Grants); err != nil {
			return nil, err
		}
		a.State = datasets.AppApproved
	} else {
		if reason == "" {
			return nil, invalid("reason", "a rejection must give its reason")
		}
		a.State = datasets.AppRejected
	}
	a.DecidedAt, a.DecidedBy, a.Reason = &now, u.ID, reason
	ev := datasets.ApplicationEvent{Actor: u.ID, Reason: reason, At: now}
	if err := s.Access.DecideApplication(ctx, a, datasets.AppSubmitted, ev, grants); err != nil {
		return nil, err
	}
	return s.ApplicationFor(ctx, u, id)
}

func (s *Service) grantsFor(a *datasets.Application, ds []GrantDecision) ([]datasets.Grant, error) {
	byID := map[string]GrantDecision{}
	for _, gd := range ds {
		if !slices.ContainsFunc(a.Requests, func(r datasets.AccessRequest) bool { return r.DatasetID == gd.DatasetID }) {
			return nil, invalid("grants", "entry "+gd.DatasetID+" was not requested")
		}
		byID[gd.DatasetID] = gd
	}
	var out []datasets.Grant
	for _, r := range a.Requests {
		gd := byID[r.DatasetID]
		g := datasets.Grant{
			ApplicationID: a.ID, HolderID: a.ApplicantID, AgencyID: a.AgencyID, DatasetID: r.DatasetID,
			Fields: r.Fields, Modes: r.Modes, Masks: map[string]datasets.MaskRule{},
			Rate: DefaultRate, RatePeriod: DefaultRatePeriod, Quota: DefaultQuota, QuotaPeriod: DefaultQuotaPeriod,
			From: a.From, To: a.To,
		}
		// Fields left out (nil) mean "as requested"; an explicit empty
		// list would open nothing, which is a rejection, not a grant.
		if gd.Fields != nil && len(gd.Fields) == 0 {
			return nil, invalid("grants", "no field granted for entry "+r.DatasetID+": narrow to at least one field, or reject")
		}
		if len(gd.Fields) > 0 {
			for _, f := range gd.Fields {
				if !slices.Contains(r.Fields, f) {
					return nil, invalid("grants", "field "+f+" was not requested: a grant may narrow, never widen")
				}
			}
			g.Fields = gd.Fields
		}
		if len(gd.Modes) > 0 {
			for _, m := range gd.Modes {
				if !slices.Contains(r.Modes, m) {
					return nil, invalid("grants", "mode "+string(m)+" was not requested")
				}
			}
			g.Modes = gd.Modes
		}
		for f, rule := range gd.Masks {
			if !slices.Contains(g.Fields, f) {
				return nil, invalid("grants", "mask for field "+f+", which is not granted")
			}
			if !slices.Contains(datasets.MaskRules, rule) {
				return nil, invalid("grants", "unknown mask rule "+string(rule))
			}
			if rule != datasets.MaskNone {
				g.Masks[f] = rule
			}
		}
		if gd.Rate < 0 || gd.Quota < 0 {
			return nil, invalid("grants", "rate and quota must be positive")
		}
		if gd.Rate > 0 {
			g.Rate = gd.Rate
		}
		if gd.RatePeriod != "" {
			if gd.RatePeriod != datasets.PerSecond && gd.RatePeriod != datasets.PerMinute {
				return nil, invalid("grants", "rate_period must be second or minute")
			}
			g.RatePeriod = gd.RatePeriod
		}
		if gd.Quota > 0 {
			g.Quota = gd.Quota
		}
		if gd.QuotaPeriod != "" {
			if gd.QuotaPeriod != datasets.PerDay && gd.QuotaPeriod != datasets.PerMonth {
				return nil, invalid("grants", "quota_period must be day or month")
			}
			g.QuotaPeriod = gd.QuotaPeriod
		}
		if !gd.From.IsZero() {
			if gd.From.Before(a.From) {
				return nil, invalid("grants", "the period may only be shortened")
			}
			g.From = gd.From
		}
		if !gd.To.IsZero() {
			if gd.To.After(a.To) {
				return nil, invalid("grants", "the period may only be shortened")
			}
			g.To = gd.To
		}
		if !g.To.After(g.From) {
			return nil, invalid("grants", "the period must end after it starts")
		}
		out = append(out, g)
	}
	return out, nil
}

// Withdraw lets an applicant take back a submitted application.
func (s *Service) Withdraw(ctx context.Context, u *datasets.User, id, reason string) (*ApplicationView, error) {
	if err := needUser(u); err != nil {
		return nil, err
	}
	a, err := s.Access.Application(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.ApplicantID != u.ID {
		return nil, datasets.Errorf(datasets.ENOTFOUND, "no such application")
	}
	now := s.now()
	a.State, a.DecidedAt, a.DecidedBy, a.Reason = datasets.AppWithdrawn, &now, u.ID, strings.TrimSpace(reason)
	if err := s.Access.DecideApplication(ctx, a, datasets.AppSubmitted, datasets.ApplicationEvent{Actor: u.ID, Reason: a.Reason, At: now}, nil); err != nil {
		return nil, err
	}
	return s.ApplicationFor(ctx, u, id)
}

// Revoke ends an approved application early: its grants are revoked and
// every key bound to it stops working on the next request.
func (s *Service) Revoke(ctx context.Context, u *datasets.User, id, reason string) (*ApplicationView, error) {
	if err := needUser(u); err != nil {
		return nil, err
	}
	a, err := s.Access.Application(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canReview(u, a.AgencyID) {
		return nil, datasets.Errorf(datasets.ENOTFOUND, "no such application")
	}
	if strings.TrimSpace(reason) == "" {
		return nil, invalid("reason", "a revocation must give its reason")
	}
	now := s.now()
	a.State, a.DecidedAt, a.DecidedBy, a.Reason = datasets.AppRevoked, &now, u.ID, strings.TrimSpace(reason)
	defer s.ForgetApplication(id)
	if err := s.Access.DecideApplication(ctx, a, datasets.AppApproved, datasets.ApplicationEvent{Actor: u.ID, Reason: a.Reason, At: now}, nil); err != nil {
		return nil, err
	}
	if err := s.Access.RevokeGrants(ctx, id, now); err != nil {
		return nil, err
	}
	return s.ApplicationFor(ctx, u, id)
}

// ExpireApplications marks approved applications whose period has ended as
// expired; a periodic job calls it. Keys stop working at the end of the
// period anyway: this keeps the states honest.
func (s *Service) ExpireApplications(ctx context.Context) (int, error) {
	apps, err := s.Access.Applications(ctx, datasets.ApplicationFilter{States: []datasets.ApplicationState{datasets.AppApproved}})
	if err != nil {
		return 0, err
	}
	now, n := s.now(), 0
	for i := range apps {
		a := &apps[i]
		if now.Before(a.To) {
			continue
		}
		a.State, a.DecidedAt, a.DecidedBy, a.Reason = datasets.AppExpired, &now, "system", "period ended"
		err := s.Access.DecideApplication(ctx, a, datasets.AppApproved, datasets.ApplicationEvent{Actor: "system", Reason: a.Reason, At: now}, nil)
		if err != nil && !datasets.IsCode(err, datasets.ECONFLICT) {
			return n, err
		}
		if err == nil {
			s.ForgetApplication(a.ID)
			n++
		}
	}
	return n, nil
}
