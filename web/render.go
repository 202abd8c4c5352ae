package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
	"kaifang/gateway"
)

//go:embed templates/*.html
var templateFS embed.FS

// view is what every template gets: the request's language, session and
// the page's own data. Its methods are the templates' vocabulary.
type view struct {
	s      *site
	Lang   string
	Path   string // the request path and query, for the language links
	CSRF   string
	User   string
	Role   datasets.Role // the signed-in user's role, "" when signed out
	Title  string        // translated page title ("" on the home page)
	Q      string        // the search box's value
	Data   any
	Status int
}

// T returns the UI string of key in the page's language.
func (v *view) T(key string) string { return v.s.msgs.text(v.Lang, key) }

// Tf formats the UI string of key with args.
func (v *view) Tf(key string, args ...any) string { return fmt.Sprintf(v.T(key), args...) }

// Cat, Class, Freq, Mode and FType name domain values in the page's language.
func (v *view) Cat(c datasets.Category) string    { return v.T("cat." + string(c)) }
func (v *view) Class(c datasets.OpenClass) string { return v.T("class." + string(c)) }
func (v *view) Freq(f datasets.Frequency) string  { return v.T("freq." + string(f)) }
func (v *view) Mode(m datasets.AccessMode) string { return v.T("mode." + string(m)) }
func (v *view) FType(t datasets.FieldType) string { return v.T("type." + string(t)) }
func (v *view) Asset(name string) string          { return v.s.assets.url(name) }
func (v *view) Date(t time.Time) string           { return fmtDate(t) }
func (v *view) DatePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return fmtDate(*t)
}
func (v *view) Bytes(n int64) string { return fmtBytes(n) }
func (v *view) Num(n any) string     { return fmtNum(n) }

type langLink struct {
	Code, Label, URL string
	Current          bool
}

// Langs lists the language switch: each link stores the choice and comes
// back to the same page.
func (v *view) Langs() []langLink {
	out := make([]langLink, 0, len(languages))
	for _, l := range languages {
		out = append(out, langLink{
			Code: l, Label: v.s.msgs.text(l, "lang.self"), Current: l == v.Lang,
			URL: "/lang?to=" + url.QueryEscape(l) + "&next=" + url.QueryEscape(v.Path),
		})
	}
	return out
}

func fmtDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

func fmtBytes(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.1f MiB", float64(n)/1024/1024)
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/1024/1024/1024)
}

// fmtNum groups the digits of integers by thousands.
func fmtNum(n any) string {
	var i int64
	switch x := n.(type) {
	case int:
		i = int64(x)
	case int64:
		i = x
	default:
		return fmt.Sprint(n)
	}
	s := fmt.Sprint(i)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for j, r := range s {
		if j > 0 && (len(s)-j)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

var templateFuncs = template.FuncMap{
	"add":  func(a, b int) int { return a + b },
	"cell": cellText,
	"join": strings.Join,
	"list": func(xs ...any) []any { return xs },
}

// parseTemplates parses each page together with the layout.
func (s *site) parseTemplates() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", base, err)
		}
		pages[base] = t
	}
	return pages, nil
}

func (s *site) newView(c *fiber.Ctx) *view {
	lang, _ := c.Locals(localLang).(string)
	if lang == "" {
		lang = languages[0]
	}
	sess := sessionOf(c)
	v := &view{
		s: s, Lang: lang, Path: c.OriginalURL(), CSRF: s.csrfToken(sess),
		Q: c.Query("q"), Status: fiber.StatusOK,
	}
	if u := s.user(c); u != nil {
		v.User = u.Name
		v.Role = u.Role
		if v.User == "" {
			v.User = u.Email
		}
	}
	return v
}

// page adapts a page handler: it gets a view, and any error it returns is
// rendered as the HTML error page.
func (s *site) page(h func(c *fiber.Ctx, v *view) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := h(c, s.newView(c)); err != nil {
			return s.renderError(c, err)
		}
		return nil
	}
}

// render executes a page template into the response.
func (s *site) render(c *fiber.Ctx, v *view, page string, data any) error {
	t, ok := s.pages[page]
	if !ok {
		return datasets.Errorf(datasets.EINTERNAL, "no template %s", page)
	}
	v.Data = data
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "rendering %s", page)
	}
	c.Status(v.Status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

type errorPage struct {
	Code    string
	Message string
	Status  int
}

// renderError shows err as a page. The status comes from the gateway's one
// mapping of error codes; internal causes are logged and never shown.
func (s *site) renderError(c *fiber.Ctx, err error) error {
	v := s.newView(c)
	code := datasets.ErrorCode(err)
	status := gateway.StatusOf(code)
	var fe *fiber.Error
	if errors.As(err, &fe) {
		status = fe.Code
		switch fe.Code {
		case fiber.StatusNotFound:
			code = datasets.ENOTFOUND
		case fiber.StatusForbidden:
			code = datasets.EFORBIDDEN
		default:
			code = datasets.EINVALID
			if fe.Code >= 500 {
				code = datasets.EINTERNAL
			}
		}
	}
	if code == datasets.EINTERNAL || code == datasets.EUNAVAILABLE {
		s.log.Error("web page", "path", c.Path(), "code", code, "err", err)
	}
	v.Status = status
	v.Title = v.T("error." + code + ".title")
	ep := errorPage{Code: code, Status: status}
	if code == datasets.EINVALID {
		ep.Message = datasets.ErrorMessage(err)
	}
	if rerr := s.render(c, v, "error", ep); rerr != nil {
		s.log.Error("web error page", "err", rerr)
		return c.Status(status).SendString(v.Title)
	}
	return nil
}

// Action names a change in the history; an action the catalogue learns
// later than the catalogues shows as its code rather than a missing key.
func (v *view) Action(a string) string {
	if _, ok := v.s.msgs.byLang[v.Lang]["action."+a]; ok {
		return v.T("action." + a)
	}
	return a
}

// cellText shows one row value: dates without a midnight time, nil as empty.
func cellText(x any) string {
	switch v := x.(type) {
	case nil:
		return ""
	case time.Time:
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 {
			return v.Format("2006-01-02")
		}
		return v.Format("2006-01-02 15:04:05")
	}
	return fmt.Sprint(x)
}

// SRI is the subresource integrity value of an asset, so a tampered copy
// (a proxy, a cache) is refused by the browser.
func (v *view) SRI(name string) string { return v.s.assets.sri[name] }
