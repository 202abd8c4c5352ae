package web

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
)

type agencyCounts struct {
	Agency                                   datasets.Agency
	Total, Open, Conditional, Closed, Public int
	Drafts, InReview, Overdue, LateAnswers   int
}

type calYear struct {
	Year        int
	Provisional bool
}

type adminData struct {
	Agencies []agencyCounts
	Late     []queueRow
	Overdue  []overdueRow
	Years    []calYear
	Warnings []string
}

type overdueRow struct {
	Agency, Slug, Title string
	DaysOverdue         int
	NextDue             *time.Time
}

// handleAdmin is the data authority's overview: every agency's list
// counts, entries late against their frequency, applications past their
// answer deadline, and whether the working-day calendar covers the years
// deadlines are counted in.
func (s *site) handleAdmin(c *fiber.Ctx, v *view) error {
	ctx := c.UserContext()
	u := s.user(c)
	as, err := s.d.Catalog.Agencies(ctx)
	if err != nil {
		return err
	}
	q, err := s.d.Portal.ReviewQueue(ctx, u)
	if err != nil {
		return err
	}
	var ad adminData
	late := map[string]int{}
	for _, it := range q {
		if it.Overdue {
			late[it.AgencyID]++
			ad.Late = append(ad.Late, queueRow{QueueItem: it, Applicant: s.applicantName(c, it.ApplicantID)})
		}
	}
	for _, a := range as {
		ac := agencyCounts{Agency: a, LateAnswers: late[a.ID]}
		ds, _, err := s.d.Portal.AgencyEntries(ctx, u, a.ID, datasets.DatasetFilter{PerPage: 1000})
		if err != nil {
			return err
		}
		for _, d := range ds {
			ac.Total++
			switch d.OpenClass {
			case datasets.Open:
				ac.Open++
			case datasets.Conditional:
				ac.Conditional++
			case datasets.Closed:
				ac.Closed++
			}
			switch d.State {
			case datasets.Draft:
				ac.Drafts++
			case datasets.InReview:
				ac.InReview++
			}
			if d.IsPublic() {
				ac.Public++
			}
		}
		od, err := s.d.Portal.Overdue(ctx, a.ID)
		if err != nil {
			return err
		}
		ac.Overdue = len(od)
		for _, o := range od {
			ad.Overdue = append(ad.Overdue, overdueRow{Agency: a.Name, Slug: o.Slug, Title: o.Title, DaysOverdue: o.DaysOverdue, NextDue: o.NextDue})
		}
		ad.Agencies = append(ad.Agencies, ac)
	}
	cal := s.d.Portal.Calendar
	for y, p := range cal.Years() {
		ad.Years = append(ad.Years, calYear{y, p})
	}
	sort.Slice(ad.Years, func(i, j int) bool { return ad.Years[i].Year < ad.Years[j].Year })
	ad.Warnings = cal.Warnings(time.Now())
	v.Title = v.T("admin.title")
	return s.render(c, v, "admin", ad)
}

type usersData struct {
	Users    []datasets.User
	Agencies map[string]string
	AgList   []datasets.Agency
	Roles    []datasets.Role
	Error    string
	Email    string
	Name     string
	Role     string
	Agency   string
}

func (s *site) renderUsers(c *fiber.Ctx, v *view, ud usersData) error {
	ctx := c.UserContext()
	if s.d.Portal.Accounts == nil {
		return datasets.Errorf(datasets.EUNAVAILABLE, "accounts are not configured")
	}
	us, err := s.d.Portal.Accounts.Users(ctx)
	if err != nil {
		return err
	}
	as, err := s.d.Catalog.Agencies(ctx)
	if err != nil {
		return err
	}
	ud.Users, ud.AgList, ud.Roles, ud.Agencies = us, as, datasets.Roles, map[string]string{}
	for _, a := range as {
		ud.Agencies[a.ID] = a.Name
	}
	v.Title = v.T("users.title")
	return s.render(c, v, "admin_users", ud)
}

func (s *site) handleAdminUsers(c *fiber.Ctx, v *view) error {
	return s.renderUsers(c, v, usersData{Role: string(datasets.RolePublisher)})
}

func (s *site) handleAddUser(c *fiber.Ctx, v *view) error {
	ud := usersData{Email: strings.TrimSpace(c.FormValue("email")), Name: strings.TrimSpace(c.FormValue("name")),
		Role: c.FormValue("role"), Agency: c.FormValue("agency")}
	role := datasets.Role(ud.Role)
	if !slices.Contains(datasets.Roles, role) {
		ud.Error = v.T("error.EINVALID.title")
		v.Status = fiber.StatusUnprocessableEntity
		return s.renderUsers(c, v, ud)
	}
	agency := ud.Agency
	if !role.NeedsAgency() {
		agency = ""
	}
	if _, err := s.d.Portal.AddUser(c.UserContext(), role, agency, ud.Email, ud.Name, c.FormValue("password")); err != nil {
		msg, ok := formErr(v, err)
		if !ok {
			return err
		}
		ud.Error = msg
		return s.renderUsers(c, v, ud)
	}
	return c.Redirect("/admin/users", fiber.StatusSeeOther)
}
