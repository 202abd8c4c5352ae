package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
	"kaifang/portal"
)

// localUser is the fiber Locals key under which the signed-in user rides.
const localUser = "user"

// portalRoutes registers the accounts, open-list and opening-review API
// under api (the /api/v1 group); pre (the rate limit) runs before each.
func portalRoutes(api fiber.Router, svc *portal.Service, pre ...fiber.Handler) {
	h := &portalAPI{svc: svc}
	auth := h.authenticate
	r := func(hs ...fiber.Handler) []fiber.Handler { return append(slices.Clone(pre), hs...) }
	api.Post("/register", r(h.handleRegister)...)
	api.Post("/login", r(h.handleLogin)...)
	api.Get("/me", r(auth, h.handleMe)...)
	api.Get("/me/tokens", r(auth, h.handleTokenList)...)
	api.Post("/me/tokens", r(auth, h.handleTokenCreate)...)
	api.Delete("/me/tokens/:tid", r(auth, h.handleTokenRevoke)...)

	api.Get("/agencies/:id/open-list", r(h.handleOpenListGet)...)
	api.Post("/agencies/:id/open-list", r(auth, h.handleEntryCreate)...)
	api.Post("/agencies/:id/open-list/import", r(auth, h.handleOpenListImport)...)
	api.Get("/agencies/:id/entries", r(auth, h.handleAgencyEntries)...)
	api.Get("/agencies/:id/overdue", r(h.handleOverdue)...)

	api.Patch("/datasets/:id", r(auth, h.handleEntryUpdate)...)
	api.Post("/datasets/:id/withdraw", r(auth, h.handleEntryWithdraw)...)
	api.Post("/datasets/:id/submit", r(auth, h.handleEntrySubmit)...)
	api.Post("/datasets/:id/review", r(auth, h.handleEntryReview)...)
	api.Get("/datasets/:id/history", r(auth, h.handleEntryHistory)...)
	api.Post("/datasets/:id/versions", r(auth, h.handleVersionUpload)...)
	api.Get("/reviews/entries", r(auth, h.handleEntryReviewQueue)...)
}

type portalAPI struct{ svc *portal.Service }

// authenticate requires Authorization: Bearer <personal access token> and
// puts the user in c.Locals("user").
func (h *portalAPI) authenticate(c *fiber.Ctx) error {
	authz := c.Get(fiber.HeaderAuthorization)
	scheme, token, ok := strings.Cut(authz, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="kaifang"`)
		return datasets.Errorf(datasets.EUNAUTHORIZED, "send Authorization: Bearer <personal access token>")
	}
	u, err := h.svc.Authenticate(c.UserContext(), strings.TrimSpace(token))
	if err != nil {
		if datasets.IsCode(err, datasets.EUNAUTHORIZED) {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="kaifang", error="invalid_token"`)
		}
		return err
	}
	c.Locals(localUser, u)
	return c.Next()
}

// UserOf returns the user the request signed in as, or nil.
func UserOf(c *fiber.Ctx) *datasets.User {
	u, _ := c.Locals(localUser).(*datasets.User)
	return u
}

// decodeBody reads a JSON request body into v, refusing unknown fields so
// that a misspelt field is an error instead of being silently ignored.
func decodeBody(c *fiber.Ctx, v any) error {
	b, err := jsonBody(c)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return datasets.Wrap(err, datasets.EINVALID, "the body is not the JSON expected: %s", clipErr(err))
	}
	return nil
}

// maxJSONBody bounds a JSON request body. With StreamRequestBody a large
// body arrives as a stream, and c.Body() would read all of it into memory.
const maxJSONBody = 1 << 20

// jsonBody reads the request body up to maxJSONBody and leaves it in place,
// so c.Body() answers from memory afterwards.
func jsonBody(c *fiber.Ctx) ([]byte, error) {
	s := c.Context().RequestBodyStream()
	if s == nil {
		return c.Body(), nil
	}
	b, err := io.ReadAll(io.LimitReader(s, maxJSONBody+1))
	if err != nil {
		return nil, datasets.Wrap(err, datasets.EINVALID, "reading the body failed")
	}
	if len(b) > maxJSONBody {
		c.Context().SetConnectionClose() // the rest is unread
		return nil, datasets.Errorf(datasets.ETOOLARGE, "a JSON body may have at most %d bytes", maxJSONBody)
	}
	c.Request().SetBody(b)
	return b, nil
}

// decodeOptionalBody is decodeBody for bodies that may be left out.
func decodeOptionalBody(c *fiber.Ctx, v any) error {
	b, err := jsonBody(c)
	if err != nil || len(b) == 0 {
		return err
	}
	return decodeBody(c, v)
}

func clipErr(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func (h *portalAPI) handleRegister(c *fiber.Ctx) error {
	var in struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	u, err := h.svc.Register(c.UserContext(), in.Email, in.Name, in.Password)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusCreated, u)
}

type tokenAnswer struct {
	Token string          `json:"token"` // shown once
	Info  *datasets.Token `json:"token_info"`
	User  *datasets.User  `json:"user,omitempty"`
}

func (h *portalAPI) handleLogin(c *fiber.Ctx) error {
	var in struct {
		Email     string `json:"email"`
		Password  string `json:"password"`
		TokenName string `json:"token_name"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	plain, tok, u, err := h.svc.Login(c.UserContext(), in.Email, in.Password, c.IP(), in.TokenName)
	if err != nil {
		if d := portal.RetryAfter(err); d > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int((d+time.Second-1)/time.Second)))
		}
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusCreated, tokenAnswer{Token: plain, Info: tok, User: u})
}

func (h *portalAPI) handleMe(c *fiber.Ctx) error { return sendJSON(c, fiber.StatusOK, UserOf(c)) }

func (h *portalAPI) handleTokenList(c *fiber.Ctx) error {
	ts, err := h.svc.Tokens(c.UserContext(), UserOf(c))
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"items": ts, "total": len(ts)})
}

func (h *portalAPI) handleTokenCreate(c *fiber.Ctx) error {
	var in struct {
		Name          string `json:"name"`
		ExpiresInDays int    `json:"expires_in_days"`
	}
	if err := decodeOptionalBody(c, &in); err != nil {
		return err
	}
	if in.ExpiresInDays < 0 || in.ExpiresInDays > 366 {
		return datasets.Errorf(datasets.EINVALID, "expires_in_days must be between 1 and 366")
	}
	plain, tok, err := h.svc.CreateToken(c.UserContext(), UserOf(c).ID, in.Name, time.Duration(in.ExpiresInDays)*24*time.Hour)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusCreated, tokenAnswer{Token: plain, Info: tok})
}

func (h *portalAPI) handleTokenRevoke(c *fiber.Ctx) error {
	if err := h.svc.RevokeToken(c.UserContext(), UserOf(c), c.Params("tid")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// wantsFormat picks json, csv or xlsx from ?format= or Accept.
func wantsFormat(c *fiber.Ctx) string {
	switch f := strings.ToLower(c.Query("format")); f {
	case "csv", "xlsx", "json":
		return f
	case "":
	default:
		return "?" + f
	}
	switch c.Accepts(fiber.MIMEApplicationJSON, "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") {
	case "text/csv":
		return "csv"
	case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
		return "xlsx"
	}
	return "json"
}

func (h *portalAPI) handleOpenListGet(c *fiber.Ctx) error {
	format := wantsFormat(c)
	if strings.HasPrefix(format, "?") {
		return datasets.Errorf(datasets.EINVALID, "format must be json, csv or xlsx")
	}
	l, err := h.svc.PublicOpenList(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	name := l.Agency.Slug + "-open-list"
	c.Vary(fiber.HeaderAccept)
	switch format {
	case "csv":
		var b bytes.Buffer
		if err := l.WriteCSV(&b); err != nil {
			return datasets.Wrap(err, datasets.EINTERNAL, "writing the list")
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`.csv"`)
		return c.Send(b.Bytes())
	case "xlsx":
		var b bytes.Buffer
		if err := l.WriteXLSX(&b); err != nil {
			return datasets.Wrap(err, datasets.EINTERNAL, "writing the list")
		}
		c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`.xlsx"`)
		return c.Send(b.Bytes())
	}
	return sendJSON(c, fiber.StatusOK, l)
}

func (h *portalAPI) handleEntryCreate(c *fiber.Ctx) error {
	var in portal.EntryFields
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	d, err := h.svc.CreateEntry(c.UserContext(), UserOf(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusCreated, d)
}

func (h *portalAPI) handleEntryUpdate(c *fiber.Ctx) error {
	var in portal.EntryFields
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	d, err := h.svc.UpdateEntry(c.UserContext(), UserOf(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, d)
}

func (h *portalAPI) handleEntryWithdraw(c *fiber.Ctx) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeOptionalBody(c, &in); err != nil {
		return err
	}
	d, err := h.svc.WithdrawEntry(c.UserContext(), UserOf(c), c.Params("id"), in.Reason)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, d)
}

func (h *portalAPI) handleEntrySubmit(c *fiber.Ctx) error {
	d, err := h.svc.SubmitEntry(c.UserContext(), UserOf(c), c.Params("id"))
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, d)
}

func (h *portalAPI) handleEntryReview(c *fiber.Ctx) error {
	var in portal.ReviewInput
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	d, err := h.svc.ReviewEntry(c.UserContext(), UserOf(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, d)
}

func (h *portalAPI) handleEntryHistory(c *fiber.Ctx) error {
	hist, err := h.svc.History(c.UserContext(), UserOf(c), c.Params("id"))
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, hist)
}

func pageArgs(c *fiber.Ctx) (int, int) {
	page, _ := strconv.Atoi(c.Query("page"))
	per, _ := strconv.Atoi(c.Query("per_page"))
	if page < 1 {
		page = 1
	}
	if per < 1 || per > 1000 {
		per = 100
	}
	return page, per
}

func (h *portalAPI) handleAgencyEntries(c *fiber.Ctx) error {
	page, per := pageArgs(c)
	f := datasets.DatasetFilter{Page: page, PerPage: per, Sort: "updated"}
	if st := c.Query("state"); st != "" {
		f.States = []datasets.State{datasets.State(st)}
	}
	ds, total, err := h.svc.AgencyEntries(c.UserContext(), UserOf(c), c.Params("id"), f)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"items": ds, "total": total, "page": page, "per_page": per})
}

func (h *portalAPI) handleEntryReviewQueue(c *fiber.Ctx) error {
	page, per := pageArgs(c)
	ds, total, err := h.svc.EntryReviewQueue(c.UserContext(), UserOf(c), page, per)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"items": ds, "total": total, "page": page, "per_page": per})
}

func (h *portalAPI) handleOverdue(c *fiber.Ctx) error {
	es, err := h.svc.Overdue(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"items": es, "total": len(es)})
}

// uploadBody returns the uploaded file: the multipart part "file", or the
// raw body streamed (the app sets StreamRequestBody) with ?filename=.
func (h *portalAPI) uploadBody(c *fiber.Ctx) (io.Reader, string, int64, func(), error) {
	noop := func() {}
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		fh, err := c.FormFile("file")
		if err != nil {
			return nil, "", 0, noop, datasets.Wrap(err, datasets.EINVALID, "the multipart body needs a part named file")
		}
		f, err := fh.Open()
		if err != nil {
			return nil, "", 0, noop, datasets.Wrap(err, datasets.EINVALID, "cannot read the uploaded file")
		}
		return f, fh.Filename, fh.Size, func() { f.Close() }, nil
	}
	name := c.Query("filename")
	if name == "" {
		return nil, "", 0, noop, datasets.Errorf(datasets.EINVALID, "name the file: ?filename=…")
	}
	size := int64(c.Request().Header.ContentLength())
	if size < 0 {
		size = -1 // chunked: the service cuts it off at the limit
	}
	if s := c.Context().RequestBodyStream(); s != nil {
		return s, name, size, noop, nil
	}
	return bytes.NewReader(c.Body()), name, int64(len(c.Body())), noop, nil
}

// tooLarge refuses a body whose declared length passes the limit before
// any of it is read.
func (h *portalAPI) tooLarge(c *fiber.Ctx) error {
	limit := h.svc.MaxUpload
	if limit <= 0 {
		limit = 2 << 30
	}
	if n := c.Request().Header.ContentLength(); n > 0 && int64(n) > limit {
		// The unread body must not be taken for the next request.
		c.Context().SetConnectionClose()
		return datasets.Errorf(datasets.ETOOLARGE, "the body is %d bytes; the limit is %d", n, limit)
	}
	return nil
}

func (h *portalAPI) handleVersionUpload(c *fiber.Ctx) error {
	if err := h.tooLarge(c); err != nil {
		return err
	}
	ctx := c.UserContext()
	u := UserOf(c)
	d, err := h.svc.CheckPublisher(ctx, u, c.Params("id"))
	if err != nil {
		return err
	}
	body, name, size, done, err := h.uploadBody(c)
	if err != nil {
		return err
	}
	defer done()
	v, err := h.svc.AddVersion(ctx, d.ID, portal.Upload{Body: body, Filename: name, Size: size, Actor: u.ID})
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusCreated, v)
}

func (h *portalAPI) handleOpenListImport(c *fiber.Ctx) error {
	if err := h.tooLarge(c); err != nil {
		return err
	}
	body, name, _, done, err := h.uploadBody(c)
	if err != nil {
		return err
	}
	defer done()
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".csv", ".xlsx", ".json", ".tsv", ".txt":
	default:
		return datasets.Errorf(datasets.EINVALID, "the list must be a .csv, .xlsx or .json file")
	}
	dir, err := os.MkdirTemp(h.svc.TempDir, "kaifang-list-*")
	if err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "cannot spool the list")
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "list"+ext)
	if err := spool(c.UserContext(), path, body, h.svc.MaxUpload); err != nil {
		return err
	}
	opts := portal.ImportOptions{Publish: c.QueryBool("publish"), ReviewNote: c.Query("review_note")}
	rep, err := h.svc.ImportList(c.UserContext(), UserOf(c), c.Params("id"), path, opts)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, rep)
}

func spool(ctx context.Context, path string, r io.Reader, limit int64) error {
	if limit <= 0 {
		limit = 2 << 30
	}
	f, err := os.Create(path)
	if err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "cannot spool the list")
	}
	defer f.Close()
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	if err != nil {
		if ctx.Err() != nil {
			return datasets.Wrap(err, datasets.EINVALID, "upload interrupted")
		}
		return datasets.Wrap(err, datasets.EINVALID, "reading the upload failed")
	}
	if n > limit {
		return datasets.Errorf(datasets.ETOOLARGE, "the list passes the limit of %d bytes", limit)
	}
	return f.Close()
}
