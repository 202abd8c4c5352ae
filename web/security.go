package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
)

// contentSecurityPolicy allows scripts and styles from the site itself only.
// JSON-LD and chart data are <script type="application/…json"> blocks, which
// browsers never execute, so no inline script is needed anywhere.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

const (
	sessionCookie = "kf_session"
	langCookie    = "kf_lang"
	sessionTTL    = 12 * time.Hour
	localSession  = "kaifang.web.session"
	localLang     = "kaifang.web.lang"
	localUser     = "kaifang.web.user"
)

// session is what the signed session cookie carries. The id binds the CSRF
// token; User is empty until someone signs in.
type session struct {
	ID      string
	Token   string // the personal access token issued at sign-in, "" when signed out
	TokenID string
	Expires int64 // unix seconds
}

// encodeSession signs s as base64url("id|token|tokenID|expires") + "." + mac.
func (st *site) encodeSession(s session) string {
	payload := s.ID + "|" + s.Token + "|" + s.TokenID + "|" + strconv.FormatInt(s.Expires, 10)
	b := base64.RawURLEncoding.EncodeToString([]byte(payload))
	return b + "." + st.mac("session", b)
}

// decodeSession checks the signature and expiry of a cookie value; anything
// else (tampered, expired, malformed) is simply no session.
func decodeSession(secret []byte, v string, now time.Time) (session, bool) {
	b, sig, ok := strings.Cut(v, ".")
	if !ok || len(v) > 1024 {
		return session{}, false
	}
	want := macWith(secret, "session", b)
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return session{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(b)
	if err != nil {
		return session{}, false
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 4 || len(parts[0]) != 32 {
		return session{}, false
	}
	exp, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || now.Unix() >= exp {
		return session{}, false
	}
	return session{ID: parts[0], Token: parts[1], TokenID: parts[2], Expires: exp}, true
}

func macWith(secret []byte, purpose, msg string) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("kaifang-web:" + purpose + ":"))
	h.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

func (st *site) mac(purpose, msg string) string { return macWith(st.d.Secret, purpose, msg) }

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// csrfToken is derived from the session id, so it needs no storage and is
// worthless without the matching HttpOnly cookie.
func (st *site) csrfToken(s session) string { return st.mac("csrf", s.ID) }

func (st *site) setSession(c *fiber.Ctx, s session) {
	c.Cookie(&fiber.Cookie{
		Name: sessionCookie, Value: st.encodeSession(s), Path: "/",
		Expires: time.Unix(s.Expires, 0), HTTPOnly: true, Secure: st.d.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode,
	})
	c.Locals(localSession, s)
}

// secure sets the security headers of every page, loads (or starts) the
// session and picks the language.
func (st *site) secure(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderReferrerPolicy, "strict-origin-when-cross-origin")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	c.Set(fiber.HeaderCacheControl, "no-store")

	now := time.Now()
	s, ok := decodeSession(st.d.Secret, c.Cookies(sessionCookie), now)
	if !ok {
		s = session{ID: newSessionID(), Expires: now.Add(sessionTTL).Unix()}
		st.setSession(c, s)
	} else {
		c.Locals(localSession, s)
	}
	c.Locals(localLang, st.msgs.pick(c.Cookies(langCookie), c.Get(fiber.HeaderAcceptLanguage)))
	return c.Next()
}

func sessionOf(c *fiber.Ctx) session {
	s, _ := c.Locals(localSession).(session)
	return s
}

// csrf refuses a form whose token does not match the session's.
func (st *site) csrf(c *fiber.Ctx) error {
	got := c.FormValue("_csrf")
	if got == "" {
		got = c.Get("X-CSRF-Token")
	}
	want := st.csrfToken(sessionOf(c))
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return st.renderError(c, datasets.Errorf(datasets.EFORBIDDEN, "csrf"))
	}
	return c.Next()
}

// safeNext returns a local path to go back to, or "/" for anything that
// could lead off the site (absolute URLs, //host, backslashes).
func safeNext(next string) string {
	if next == "" || len(next) > 2000 || next[0] != '/' || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	return next
}

// handleLang stores the chosen language and goes back to the page.
func (st *site) handleLang(c *fiber.Ctx) error {
	to := c.Query("to")
	if st.msgs.has(to) {
		c.Cookie(&fiber.Cookie{
			Name: langCookie, Value: to, Path: "/", MaxAge: 365 * 24 * 3600,
			Secure: st.d.SecureCookies, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		})
	}
	return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
}
