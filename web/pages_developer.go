package web

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
	"kaifang/portal"
)

type applyData struct {
	D        *datasets.Dataset
	Scenario string
	Purpose  string
	Volume   string
	Fields   []string
	Modes    []datasets.AccessMode
	From, To string
	Error    string
	Problems map[string]string
}

// handleApply shows the application form of a conditional entry: only the
// fields the scenario needs are asked for (every box starts unticked).
func (s *site) handleApply(c *fiber.Ctx, v *view) error {
	d, err := s.d.Catalog.PublicDataset(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	if d.OpenClass != datasets.Conditional {
		return c.Redirect("/datasets/"+d.Slug, fiber.StatusSeeOther)
	}
	if v.User == "" {
		return c.Redirect("/login?next="+url.QueryEscape("/datasets/"+d.Slug+"/apply"), fiber.StatusSeeOther)
	}
	v.Title = v.Tf("apply.title", d.Title)
	now := time.Now()
	return s.render(c, v, "apply", applyData{D: d, From: dayOf(now), To: dayOf(now.AddDate(1, 0, 0)), Problems: map[string]string{}})
}

func (s *site) handleApplySubmit(c *fiber.Ctx, v *view) error {
	ctx := c.UserContext()
	d, err := s.d.Catalog.PublicDataset(ctx, c.Params("slug"))
	if err != nil {
		return err
	}
	ad := applyData{D: d, Scenario: c.FormValue("scenario"), Purpose: c.FormValue("purpose"), Volume: c.FormValue("volume"),
		Fields: formValues(c, "field"), From: c.FormValue("from"), To: c.FormValue("to"), Problems: map[string]string{}}
	for _, m := range formValues(c, "mode") {
		ad.Modes = append(ad.Modes, datasets.AccessMode(m))
	}
	in := portal.ApplyInput{Scenario: ad.Scenario, Purpose: ad.Purpose, Volume: ad.Volume,
		Requests: []datasets.AccessRequest{{DatasetID: d.ID, Fields: ad.Fields, Modes: ad.Modes}}}
	from, okF := parseDay(ad.From)
	to, okT := parseDay(ad.To)
	switch {
	case !okF:
		err = datasets.Errorf(datasets.EINVALID, "from: not a date")
		err.(*datasets.Error).Problems = []datasets.Problem{{Field: "from", Message: v.T("form.bad_date")}}
	case !okT:
		err = datasets.Errorf(datasets.EINVALID, "to: not a date")
		err.(*datasets.Error).Problems = []datasets.Problem{{Field: "to", Message: v.T("form.bad_date")}}
	default:
		// A period starting today is left to the portal, which starts it
		// now; other days start at their midnight in Shanghai.
		if dayOf(time.Now()) != ad.From {
			in.From = from
		}
		in.To = to.Add(24*time.Hour - time.Second)
		var a *datasets.Application
		if a, err = s.d.Portal.Apply(ctx, s.user(c), in); err == nil {
			return c.Redirect("/account/applications?created="+url.QueryEscape(a.ID), fiber.StatusSeeOther)
		}
	}
	msg, ok := formErr(v, err)
	if !ok {
		return err
	}
	v.Title = v.Tf("apply.title", d.Title)
	ad.Error, ad.Problems = msg, problemsByField(err)
	return s.render(c, v, "apply", ad)
}

type appRow struct {
	datasets.Application
	Titles       []string
	WorkdaysLeft int
	Overdue      bool
}

func (s *site) appRows(c *fiber.Ctx, apps []datasets.Application) []appRow {
	now := time.Now()
	cal := s.d.Portal.Calendar
	out := make([]appRow, 0, len(apps))
	for _, a := range apps {
		r := appRow{Application: a}
		for _, rq := range a.Requests {
			r.Titles = append(r.Titles, s.titles(c, rq.DatasetID)[rq.DatasetID])
		}
		if a.State == datasets.AppSubmitted {
			r.WorkdaysLeft = cal.WorkdaysBetween(now, a.DueAt)
			r.Overdue = now.After(a.DueAt)
		}
		out = append(out, r)
	}
	return out
}

func (s *site) handleMyApplications(c *fiber.Ctx, v *view) error {
	apps, err := s.d.Portal.MyApplications(c.UserContext(), s.user(c))
	if err != nil {
		return err
	}
	v.Title = v.T("myapps.title")
	return s.render(c, v, "my_applications", map[string]any{"Apps": s.appRows(c, apps), "Created": c.Query("created"), "Withdrawn": c.Query("withdrawn")})
}

// handleWithdraw withdraws one of the developer's own submitted applications.
func (s *site) handleWithdraw(c *fiber.Ctx, v *view) error {
	if _, err := s.d.Portal.Withdraw(c.UserContext(), s.user(c), c.Params("id"), "withdrawn by the applicant"); err != nil {
		return err
	}
	return c.Redirect("/account/applications?withdrawn=1", fiber.StatusSeeOther)
}

type keysData struct {
	Keys     []datasets.APIKey
	Approved []appRow
	NewKey   string
	NewName  string
	Error    string
}

// KeyState says whether a key still works, in the page's language.
func (v *view) KeyState(k datasets.APIKey) string {
	switch {
	case k.RevokedAt != nil:
		return v.T("keys.revoked")
	case !k.ExpiresAt.IsZero() && time.Now().After(k.ExpiresAt):
		return v.T("keys.expired")
	}
	return v.T("keys.active")
}

func (s *site) renderKeys(c *fiber.Ctx, v *view, kd keysData) error {
	ctx := c.UserContext()
	u := s.user(c)
	keys, err := s.d.Portal.Keys(ctx, u)
	if err != nil {
		return err
	}
	apps, err := s.d.Portal.MyApplications(ctx, u)
	if err != nil {
		return err
	}
	var ok []datasets.Application
	for _, a := range apps {
		if a.State == datasets.AppApproved {
			ok = append(ok, a)
		}
	}
	kd.Keys, kd.Approved = keys, s.appRows(c, ok)
	v.Title = v.T("keys.title")
	return s.render(c, v, "keys", kd)
}

func (s *site) handleKeys(c *fiber.Ctx, v *view) error { return s.renderKeys(c, v, keysData{}) }

// handleKeyCreate shows the new key once, in the answer to the POST: it is
// never stored and no later page can show it again.
func (s *site) handleKeyCreate(c *fiber.Ctx, v *view) error {
	name := strings.TrimSpace(c.FormValue("name"))
	plain, k, err := s.d.Portal.CreateKey(c.UserContext(), s.user(c), c.FormValue("application"), name)
	if err != nil {
		msg, ok := formErr(v, err)
		if !ok {
			return err
		}
		return s.renderKeys(c, v, keysData{Error: msg})
	}
	return s.renderKeys(c, v, keysData{NewKey: plain, NewName: k.Name})
}

func (s *site) handleKeyRotate(c *fiber.Ctx, v *view) error {
	plain, k, err := s.d.Portal.RotateKey(c.UserContext(), s.user(c), c.Params("id"))
	if err != nil {
		return err
	}
	return s.renderKeys(c, v, keysData{NewKey: plain, NewName: k.Name})
}

func (s *site) handleKeyRevoke(c *fiber.Ctx, v *view) error {
	if err := s.d.Portal.RevokeKey(c.UserContext(), s.user(c), c.Params("id")); err != nil {
		return err
	}
	return c.Redirect("/account/keys", fiber.StatusSeeOther)
}

type usageSeries struct {
	Name   string  `json:"name"`
	Values []int64 `json:"values"`
}

type usageChart struct {
	Days   []string      `json:"days"`
	Series []usageSeries `json:"series"`
	Y      string        `json:"y"`
}

type usageData struct {
	Rows   []datasets.Usage
	Titles map[string]string
	Keys   map[string]string
	Chart  *usageChart
}

// handleUsage shows the last 30 days of conditional requests, one chart
// series per key and entry; the table below is the same data without JS.
func (s *site) handleUsage(c *fiber.Ctx, v *view) error {
	ctx := c.UserContext()
	u := s.user(c)
	from := time.Now().In(portal.Shanghai).AddDate(0, 0, -29)
	rows, err := s.d.Portal.Usage(ctx, u, datasets.UsageFilter{From: dayOf(from)})
	if err != nil {
		return err
	}
	ud := usageData{Rows: rows, Keys: map[string]string{}}
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.DatasetID)
	}
	ud.Titles = s.titles(c, ids...)
	if keys, err := s.d.Portal.Keys(ctx, u); err == nil {
		for _, k := range keys {
			ud.Keys[k.ID] = k.Name + " (" + k.Prefix + "…)"
		}
	}
	if len(rows) > 0 {
		ch := &usageChart{Y: v.T("usage.requests")}
		for i := 0; i < 30; i++ {
			ch.Days = append(ch.Days, dayOf(from.AddDate(0, 0, i)))
		}
		idx := map[string]int{}
		for i, d := range ch.Days {
			idx[d] = i
		}
		byName := map[string][]int64{}
		for _, r := range rows {
			name := ud.Titles[r.DatasetID] + " · " + keyName(ud.Keys, r.KeyID)
			if byName[name] == nil {
				byName[name] = make([]int64, len(ch.Days))
			}
			if i, ok := idx[r.Day]; ok {
				byName[name][i] += r.Requests
			}
		}
		for n, vals := range byName {
			ch.Series = append(ch.Series, usageSeries{Name: n, Values: vals})
		}
		sort.Slice(ch.Series, func(i, j int) bool { return ch.Series[i].Name < ch.Series[j].Name })
		ud.Chart = ch
	}
	v.Title = v.T("usage.title")
	return s.render(c, v, "usage", ud)
}

func keyName(m map[string]string, id string) string {
	if n, ok := m[id]; ok {
		return n
	}
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// atoi64 reads an optional whole number; empty and malformed are 0 (the
// portal's default).
func atoi64(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
