package web

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
	"kaifang/portal"
)

type queueRow struct {
	portal.QueueItem
	Applicant string
	Titles    []string
}

// handleReviewQueue lists applications waiting for an answer, by due date
// (the portal's order), late ones marked.
func (s *site) handleReviewQueue(c *fiber.Ctx, v *view) error {
	q, err := s.d.Portal.ReviewQueue(c.UserContext(), s.user(c))
	if err != nil {
		return err
	}
	rows := make([]queueRow, 0, len(q))
	for _, it := range q {
		r := queueRow{QueueItem: it, Applicant: s.applicantName(c, it.ApplicantID)}
		for _, rq := range it.Requests {
			r.Titles = append(r.Titles, s.titles(c, rq.DatasetID)[rq.DatasetID])
		}
		rows = append(rows, r)
	}
	v.Title = v.T("revq.title")
	return s.render(c, v, "review_queue", rows)
}

func (s *site) applicantName(c *fiber.Ctx, id string) string {
	if s.d.Portal.Accounts == nil {
		return id
	}
	u, err := s.d.Portal.Accounts.User(c.UserContext(), id)
	if err != nil {
		return id
	}
	if u.Name == "" {
		return u.Email
	}
	return u.Name + " <" + u.Email + ">"
}

type reviewReq struct {
	datasets.AccessRequest
	Title string
	Grant *datasets.Grant
}

type reviewData struct {
	App       *portal.ApplicationView
	Applicant string
	Requests  []reviewReq
	Masks     []datasets.MaskRule
	Error     string
}

func (s *site) renderApplication(c *fiber.Ctx, v *view, errMsg string) error {
	av, err := s.d.Portal.ApplicationFor(c.UserContext(), s.user(c), c.Params("id"))
	if err != nil {
		return err
	}
	rd := reviewData{App: av, Applicant: s.applicantName(c, av.ApplicantID), Masks: datasets.MaskRules, Error: errMsg}
	for _, rq := range av.Requests {
		r := reviewReq{AccessRequest: rq, Title: s.titles(c, rq.DatasetID)[rq.DatasetID]}
		for i := range av.Grants {
			if av.Grants[i].DatasetID == rq.DatasetID {
				r.Grant = &av.Grants[i]
			}
		}
		rd.Requests = append(rd.Requests, r)
	}
	v.Title = v.T("reva.title")
	return s.render(c, v, "review_application", rd)
}

func (s *site) handleReviewApplication(c *fiber.Ctx, v *view) error {
	return s.renderApplication(c, v, "")
}

// handleDecide approves (narrowed to the ticked fields and modes, with the
// chosen masking) or rejects an application. An unticked request would mean
// "as requested" to the portal, so approving with no field left is refused
// here rather than silently widened.
func (s *site) handleDecide(c *fiber.Ctx, v *view) error {
	ctx := c.UserContext()
	u := s.user(c)
	av, err := s.d.Portal.ApplicationFor(ctx, u, c.Params("id"))
	if err != nil {
		return err
	}
	d := portal.Decision{Approve: c.FormValue("decision") == "approve", Reason: strings.TrimSpace(c.FormValue("reason"))}
	if d.Approve {
		for _, rq := range av.Requests {
			id := rq.DatasetID
			gd := portal.GrantDecision{DatasetID: id, Fields: formValues(c, "f:"+id),
				Rate: atoi64(c.FormValue("rate:" + id)), Quota: atoi64(c.FormValue("quota:" + id))}
			if len(gd.Fields) == 0 {
				return s.renderApplication(c, v.withStatus(fiber.StatusUnprocessableEntity), v.T("reva.no_fields"))
			}
			for _, m := range formValues(c, "mode:"+id) {
				gd.Modes = append(gd.Modes, datasets.AccessMode(m))
			}
			if len(gd.Modes) == 0 {
				return s.renderApplication(c, v.withStatus(fiber.StatusUnprocessableEntity), v.T("reva.no_modes"))
			}
			for _, f := range gd.Fields {
				if m := datasets.MaskRule(c.FormValue("m:" + id + ":" + f)); m != datasets.MaskNone {
					if gd.Masks == nil {
						gd.Masks = map[string]datasets.MaskRule{}
					}
					gd.Masks[f] = m
				}
			}
			// Dates left as requested are sent as zero ("as requested"): a
			// date input cannot hold the requested instant, and midnight of
			// the first day would widen the period.
			if f := c.FormValue("from:" + id); f != dayOf(av.From) {
				if t, ok := parseDay(f); ok {
					gd.From = t
				}
			}
			if f := c.FormValue("to:" + id); f != dayOf(av.To) {
				if t, ok := parseDay(f); ok {
					gd.To = t.Add(24*time.Hour - time.Second)
				}
			}
			d.Grants = append(d.Grants, gd)
		}
	}
	if _, err := s.d.Portal.Decide(ctx, u, av.ID, d); err != nil {
		msg, ok := formErr(v, err)
		if !ok {
			return err
		}
		return s.renderApplication(c, v, msg)
	}
	return c.Redirect("/review/applications/"+av.ID, fiber.StatusSeeOther)
}

func (v *view) withStatus(st int) *view { v.Status = st; return v }

type entryQueueData struct {
	Entries []datasets.Dataset
	Error   string
}

func (s *site) renderEntryQueue(c *fiber.Ctx, v *view, msg string) error {
	ds, _, err := s.d.Portal.EntryReviewQueue(c.UserContext(), s.user(c), 1, 100)
	if err != nil {
		return err
	}
	v.Title = v.T("reve.title")
	return s.render(c, v, "review_entries", entryQueueData{Entries: ds, Error: msg})
}

func (s *site) handleEntryQueue(c *fiber.Ctx, v *view) error { return s.renderEntryQueue(c, v, "") }

// handleEntryReview records the opening review: legality, confidentiality
// and privacy, each ticked with a note.
func (s *site) handleEntryReview(c *fiber.Ctx, v *view) error {
	check := func(name string) *datasets.ReviewCheck {
		return &datasets.ReviewCheck{OK: c.FormValue(name+"_ok") == "on", Note: strings.TrimSpace(c.FormValue(name + "_note"))}
	}
	in := portal.ReviewInput{Decision: c.FormValue("decision"), Legality: check("legality"),
		Confidentiality: check("confidentiality"), Privacy: check("privacy"), Reason: strings.TrimSpace(c.FormValue("reason"))}
	if _, err := s.d.Portal.ReviewEntry(c.UserContext(), s.user(c), c.Params("id"), in); err != nil {
		msg, ok := formErr(v, err)
		if !ok {
			return err
		}
		return s.renderEntryQueue(c, v, msg)
	}
	return c.Redirect("/review/entries", fiber.StatusSeeOther)
}
