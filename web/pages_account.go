package web

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
)

type loginData struct {
	Next  string
	Email string
	Name  string
	Error string
	Mode  string // "login" or "register"
}

// user returns the signed-in user, or nil. The session carries the personal
// access token issued by portal.Login, so revoking it signs the browser out too.
func (s *site) user(c *fiber.Ctx) *datasets.User {
	if u, ok := c.Locals(localUser).(*datasets.User); ok {
		return u
	}
	sess := sessionOf(c)
	if sess.Token == "" || s.d.Portal == nil {
		return nil
	}
	u, err := s.d.Portal.Authenticate(c.UserContext(), sess.Token)
	if err != nil {
		return nil
	}
	c.Locals(localUser, u)
	return u
}

func (s *site) handleLoginForm(c *fiber.Ctx, v *view) error {
	mode := "login"
	if c.Query("register") == "1" {
		mode = "register"
	}
	v.Title = v.T(mode + ".title")
	return s.render(c, v, "login", loginData{Next: safeNext(c.Query("next")), Mode: mode})
}

// handleLogin signs in (or registers, then signs in) through the portal,
// whose Login counts failures per email and address: the site keeps no
// throttle of its own.
func (s *site) handleLogin(c *fiber.Ctx, v *view) error {
	if s.d.Portal == nil {
		return datasets.Errorf(datasets.EUNAVAILABLE, "accounts are not configured")
	}
	ctx := c.UserContext()
	email, pw := strings.TrimSpace(c.FormValue("email")), c.FormValue("password")
	ld := loginData{Next: safeNext(c.FormValue("next")), Email: email, Name: c.FormValue("name"), Mode: "login"}
	if c.FormValue("mode") == "register" {
		ld.Mode = "register"
	}
	v.Title = v.T(ld.Mode + ".title")
	if ld.Mode == "register" {
		if _, err := s.d.Portal.Register(ctx, email, ld.Name, pw); err != nil {
			return s.formError(c, v, ld, err)
		}
	}
	plain, tok, _, err := s.d.Portal.Login(ctx, email, pw, c.IP(), "web")
	if err != nil {
		return s.formError(c, v, ld, err)
	}
	// A fresh session id on sign-in, so a token planted before it is useless.
	s.setSession(c, session{ID: newSessionID(), Token: plain, TokenID: tok.ID, Expires: time.Now().Add(sessionTTL).Unix()})
	return c.Redirect(ld.Next, fiber.StatusSeeOther)
}

// formError shows the form again with the portal's message and its status.
func (s *site) formError(c *fiber.Ctx, v *view, ld loginData, err error) error {
	code := datasets.ErrorCode(err)
	switch code {
	case datasets.EINVALID, datasets.EUNAUTHORIZED, datasets.ECONFLICT, datasets.ERATELIMIT:
	default:
		return err
	}
	v.Status = statusOf(code)
	ld.Error = v.T("error." + code + ".title")
	if code == datasets.EINVALID {
		ld.Error += ": " + datasets.ErrorMessage(err)
	}
	return s.render(c, v, "login", ld)
}

func (s *site) handleLogout(c *fiber.Ctx, v *view) error {
	sess := sessionOf(c)
	if u := s.user(c); u != nil && sess.TokenID != "" {
		if err := s.d.Portal.RevokeToken(c.UserContext(), u, sess.TokenID); err != nil {
			s.log.Warn("web: revoking the session token", "err", err)
		}
	}
	s.setSession(c, session{ID: newSessionID(), Expires: time.Now().Add(sessionTTL).Unix()})
	return c.Redirect("/", fiber.StatusSeeOther)
}
