package web

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
	"kaifang/portal"
)

// roleRoutes adds the pages of developers, publishers, reviewers and the
// data authority. Each group is gated by role here, and the portal checks
// again (agency, ownership) on every call: the page gate only decides which
// pages someone sees, never what they may change.
func (s *site) roleRoutes(app *fiber.App) {
	g, p := s.secure, s.csrf
	anyone := s.need()
	dev := s.need(datasets.RoleDeveloper, datasets.RoleAdmin, datasets.RolePublisher, datasets.RoleReviewer)
	pub := s.need(datasets.RolePublisher, datasets.RoleAdmin)
	rev := s.need(datasets.RoleReviewer, datasets.RoleAdmin)
	adm := s.need(datasets.RoleAdmin)

	app.Post("/datasets/:slug/apply", g, anyone, p, s.page(s.handleApplySubmit))
	app.Get("/account/applications", g, dev, s.page(s.handleMyApplications))
	app.Post("/account/applications/:id/withdraw", g, dev, p, s.page(s.handleWithdraw))
	app.Get("/account/keys", g, dev, s.page(s.handleKeys))
	app.Post("/account/keys", g, dev, p, s.page(s.handleKeyCreate))
	app.Post("/account/keys/:id/rotate", g, dev, p, s.page(s.handleKeyRotate))
	app.Post("/account/keys/:id/revoke", g, dev, p, s.page(s.handleKeyRevoke))
	app.Get("/account/usage", g, dev, s.page(s.handleUsage))

	app.Get("/publish", g, pub, s.page(s.handlePublish))
	app.Post("/publish/import", g, pub, p, s.page(s.handleImport))
	app.Get("/publish/new", g, pub, s.page(s.handleEntryNew))
	app.Post("/publish/new", g, pub, p, s.page(s.handleEntryCreate))
	app.Get("/publish/entries/:id", g, pub, s.page(s.handleEntryEdit))
	app.Post("/publish/entries/:id", g, pub, p, s.page(s.handleEntryUpdate))
	app.Post("/publish/entries/:id/submit", g, pub, p, s.page(s.handleEntrySubmit))
	app.Post("/publish/entries/:id/versions", g, pub, p, s.page(s.handleVersionUpload))
	app.Get("/publish/entries/:id/versions/:n", g, pub, s.page(s.handleVersionResult))

	app.Get("/review/applications", g, rev, s.page(s.handleReviewQueue))
	app.Get("/review/applications/:id", g, rev, s.page(s.handleReviewApplication))
	app.Post("/review/applications/:id", g, rev, p, s.page(s.handleDecide))
	app.Get("/review/entries", g, rev, s.page(s.handleEntryQueue))
	app.Post("/review/entries/:id", g, rev, p, s.page(s.handleEntryReview))

	app.Get("/admin", g, adm, s.page(s.handleAdmin))
	app.Get("/admin/users", g, adm, s.page(s.handleAdminUsers))
	app.Post("/admin/users", g, adm, p, s.page(s.handleAddUser))
}

// need lets signed-in users of the roles through (any role when none is
// given). Signed-out visitors are sent to sign in and come back; others get
// the 403 page.
func (s *site) need(roles ...datasets.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u := s.user(c)
		if u == nil {
			next := c.OriginalURL()
			if c.Method() != fiber.MethodGet {
				next = "/"
			}
			return c.Redirect("/login?next="+url.QueryEscape(next), fiber.StatusSeeOther)
		}
		if len(roles) > 0 && !slices.Contains(roles, u.Role) {
			return s.renderError(c, datasets.Errorf(datasets.EFORBIDDEN, "role %s may not open %s", u.Role, c.Path()))
		}
		return c.Next()
	}
}

// NavLink is one role link of the main navigation.
type NavLink struct{ Href, Key string }

// RoleNav lists the signed-in user's own pages, most used first.
func (v *view) RoleNav() []NavLink {
	if v.Role == "" {
		return nil
	}
	var out []NavLink
	switch v.Role {
	case datasets.RolePublisher:
		out = append(out, NavLink{"/publish", "nav.publish"})
	case datasets.RoleReviewer:
		out = append(out, NavLink{"/review/applications", "nav.review_apps"}, NavLink{"/review/entries", "nav.review_entries"})
	case datasets.RoleAdmin:
		out = append(out, NavLink{"/admin", "nav.admin"}, NavLink{"/publish", "nav.publish"},
			NavLink{"/review/applications", "nav.review_apps"}, NavLink{"/review/entries", "nav.review_entries"})
	}
	return append(out, NavLink{"/account/applications", "nav.my_apps"}, NavLink{"/account/keys", "nav.keys"}, NavLink{"/account/usage", "nav.usage"})
}

// formValues returns every value of a form field, from an url-encoded or
// a multipart body.
func formValues(c *fiber.Ctx, name string) []string {
	if mf, err := c.MultipartForm(); err == nil && mf != nil {
		return mf.Value[name]
	}
	var out []string
	for _, b := range c.Request().PostArgs().PeekMulti(name) {
		out = append(out, string(b))
	}
	return out
}

// parseDay reads a date input (YYYY-MM-DD) as midnight in Shanghai, where
// every deadline is counted.
func parseDay(s string) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), portal.Shanghai)
	return t, err == nil
}

func dayOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(portal.Shanghai).Format("2006-01-02")
}

// problemsByField maps a portal error's problems to the form fields they
// name, so each message is shown next to its control.
func problemsByField(err error) map[string]string {
	out := map[string]string{}
	for _, p := range datasets.ErrorProblems(err) {
		k := p.Field
		if k == "" {
			k = "_"
		}
		if out[k] != "" {
			out[k] += "; "
		}
		out[k] += p.Message
	}
	return out
}

// formErr turns a refusal the user can fix into a message for the form;
// anything else stays an error for the error page.
func formErr(v *view, err error) (string, bool) {
	code := datasets.ErrorCode(err)
	switch code {
	case datasets.EINVALID, datasets.ECONFLICT, datasets.ETOOLARGE:
	default:
		return "", false
	}
	v.Status = statusOf(code)
	return v.T("error."+code+".title") + ": " + datasets.ErrorMessage(err), true
}

// title names an entry by id for tables; an unknown id shows as itself.
func (s *site) titles(c *fiber.Ctx, ids ...string) map[string]string {
	out := map[string]string{}
	for _, id := range ids {
		if _, ok := out[id]; ok {
			continue
		}
		out[id] = id
		if d, err := s.d.Catalog.Dataset(c.UserContext(), id); err == nil {
			out[id] = d.Title
		}
	}
	return out
}

// State, AppState and Mask name workflow values in the page's language.
func (v *view) State(st datasets.State) string               { return v.T("state." + string(st)) }
func (v *view) AppState(st datasets.ApplicationState) string { return v.T("appstate." + string(st)) }
func (v *view) VState(st datasets.VersionState) string       { return v.T("vstate." + string(st)) }
func (v *view) RoleName(r datasets.Role) string              { return v.T("role." + string(r)) }
func (v *view) Mask(m datasets.MaskRule) string {
	if m == datasets.MaskNone {
		return v.T("mask.none")
	}
	return v.T("mask." + string(m))
}
func (v *view) Day(t time.Time) string { return dayOf(t) }
func (v *view) Has(xs any, x any) bool {
	switch l := xs.(type) {
	case []string:
		s, _ := x.(string)
		return slices.Contains(l, s)
	case []datasets.AccessMode:
		m, _ := x.(datasets.AccessMode)
		return slices.Contains(l, m)
	}
	return false
}
