package gateway

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/ulule/limiter/v3"

	"kaifang/datasets"
	"kaifang/portal"
)

// Conditional access at the gateway: API keys, grants, per-key limits,
// masking and the audit chain. KeyAuthorizer is the Deps.Authorizer; the
// records handler calls FilterPage (see PageFilter) and the lead mounts
// AuditMiddleware on the conditional routes.

var _ Authorizer = (*KeyAuthorizer)(nil)

const (
	localAccess       = "kaifang.access"
	localAuditDefered = "kaifang.audit.deferred"
)

// PageFilter is implemented by authorizers that narrow and mask the rows a
// caller receives. handleDatasetRecords calls it on every page of a
// conditional entry before encoding it.
type PageFilter interface {
	FilterPage(c *fiber.Ctx, page *datasets.RowPage)
}

// KeyAuthorizer admits API keys to conditional entries through their grants.
// Keys are cached in process for a short time (portal.AuthenticateKey); a
// revocation still holds on every gateway at the next request because the
// audit commit re-checks the key, and a use refused there leaves as a 403
// with none of its data.
type KeyAuthorizer struct {
	svc    *portal.Service
	limits *keyLimits // per-grant counters in the limiter store, taken in leases

	grantLimits  sync.Map     // grant ID → *grantLimits (see grantLimitsOf)
	grantLimitsN atomic.Int64 // entries stored since grantLimits was last emptied
}

// NewKeyAuthorizer returns the authorizer; store keeps the per-key counters
// (use the same Redis store on every gateway so limits hold across them).
func NewKeyAuthorizer(svc *portal.Service, store limiter.Store) *KeyAuthorizer {
	return &KeyAuthorizer{svc: svc, limits: newKeyLimits(store)}
}

// access is what one admitted request may do; it rides in Locals.
type access struct {
	ka     *portal.KeyAccess
	grant  *datasets.Grant
	d      *datasets.Dataset
	mode   datasets.AccessMode
	fields []string
	filter string
	rows   int64
}

// Recognizes reports whether the request carries a key this process
// admitted recently (the key cache; no store is asked).
func (k *KeyAuthorizer) Recognizes(c *fiber.Ctx) bool {
	p, ok := k.presented(c)
	return ok && k.svc.KnownPresented(p)
}

const localPresented = "kaifang.key.presented"

// presented returns the request's key hashed, hashing it once per request
// (Recognizes and Authorize both need it); false when no key was sent.
func (k *KeyAuthorizer) presented(c *fiber.Ctx) (portal.PresentedKey, bool) {
	if p, ok := c.Locals(localPresented).(portal.PresentedKey); ok {
		return p, true
	}
	secret := presentedKey(c)
	if secret == "" {
		return portal.PresentedKey{}, false
	}
	p := k.svc.PresentKey(secret)
	c.Locals(localPresented, p)
	return p, true
}

// presentedKey reads the key from Authorization: Bearer or X-API-Key.
func presentedKey(c *fiber.Ctx) string {
	if k := strings.TrimSpace(c.Get("X-API-Key")); k != "" {
		return k
	}
	scheme, tok, ok := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	if ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok)
	}
	return ""
}

// Authorize admits the request if its key holds a grant in force for d in
// mode, asks only for granted fields and is within the grant's limits.
// Refusals of a known key are audited too.
func (k *KeyAuthorizer) Authorize(c *fiber.Ctx, d *datasets.Dataset, mode datasets.AccessMode) error {
	p, sent := k.presented(c)
	if !sent {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="kaifang"`)
		return datasets.Errorf(datasets.EUNAUTHORIZED, "dataset %s is conditionally open: send an API key (Authorization: Bearer or X-API-Key)", d.Slug)
	}
	ctx := c.UserContext()
	ka, err := k.svc.AuthenticatePresented(ctx, p)
	if err != nil {
		if ka != nil {
			return k.refuse(c, &access{ka: ka, d: d, mode: mode}, err)
		}
		return err
	}
	a := &access{ka: ka, d: d, mode: mode, filter: string(c.Request().URI().QueryString())}
	g, err := ka.GrantFor(d.ID, mode, time.Now())
	if err != nil {
		return k.refuse(c, a, err)
	}
	a.grant = g
	if mode == datasets.Query {
		asked := askedFields(c, d)
		if err := portal.CheckFields(g, asked); err != nil {
			return k.refuse(c, a, err)
		}
		// Naming the fields is required: whatever the handler does, no
		// column beyond the grant is selected.
		sel := c.Query("fields")
		if sel == "" {
			return k.refuse(c, a, datasets.Errorf(datasets.EFORBIDDEN,
				"name the granted fields with fields= (granted: %s)", strings.Join(g.Fields, ",")))
		}
		a.fields = strings.Split(sel, ",")
	} else {
		a.fields = g.Fields
	}
	if err := k.limit(c, g); err != nil {
		return k.refuse(c, a, err)
	}
	c.Locals(localAccess, a)
	if c.Locals(localAuditDefered) == nil {
		// No AuditMiddleware around this route: record the admission now,
		// before any byte is produced.
		if err := k.audit(c, a, fiber.StatusOK, -1); err != nil {
			return err
		}
	}
	return nil
}

// askedFields lists every field a records request names in fields, sort
// or a filter: each must be granted, or the query could infer it. A filter
// key may carry an operator suffix; one that starts with no known field is
// taken whole, so an unknown name is refused rather than let through.
func askedFields(c *fiber.Ctx, d *datasets.Dataset) []string {
	var out []string
	add := func(n []byte) {
		if len(n) > 0 && !slices.ContainsFunc(out, func(o string) bool { return o == string(n) }) {
			out = append(out, string(n))
		}
	}
	// longest is the longest field name that key starts with, or key.
	longest := func(key []byte) []byte {
		best, found := key, false
		try := func(n string) {
			if bytes.HasPrefix(key, []byte(n)) && (!found || len(n) > len(best)) {
				best, found = key[:len(n)], true
			}
		}
		for _, f := range d.Fields {
			try(f.Name)
		}
		if d.CurrentVersion != nil {
			for _, f := range d.CurrentVersion.Columns {
				try(f.Name)
			}
		}
		return best
	}
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		switch string(k) {
		case "fields", "sort":
			for n := range bytes.SplitSeq(v, []byte(",")) {
				add(bytes.TrimPrefix(n, []byte("-")))
			}
		case "limit", "cursor", "total", "format", "version":
		default:
			add(longest(k))
		}
	})
	return out
}

func periodOf(p string) time.Duration {
	switch p {
	case datasets.PerSecond:
		return time.Second
	case datasets.PerMinute:
		return time.Minute
	case datasets.PerDay:
		return 24 * time.Hour
	case datasets.PerMonth:
		return 30 * 24 * time.Hour
	}
	return time.Minute
}

// limit spends one request of the grant's rate and, if that is not spent,
// of its quota. The counters are per grant, in the shared store, so every
// key of a grant (a rotated one too) draws on the same allowance; a large
// allowance is taken from the store in leases (keylimit.go). Most requests
// are answered from a lease in memory, so what limit does besides take is
// kept small: the per-grant parts come from grantLimitsOf, and the
// per-request headers are built in one stack buffer.
func (k *KeyAuthorizer) limit(c *fiber.Ctx, g *datasets.Grant) error {
	gl := k.grantLimitsOf(g)
	c.Set("RateLimit-Policy", gl.policy)
	// One second for the store calls of both counters together; take makes
	// a context only when it calls the store.
	deadline := time.Now().Add(time.Second)
	h := &c.Response().Header
	var buf [64]byte // room for the longest header value below
	for i, p := range [2]struct {
		name string
		r    limiter.Rate
	}{{"key-rate", gl.rate}, {"key-quota", gl.quota}} {
		lc, err := k.limits.take(deadline, gl.keys[i], p.r)
		if err != nil {
			// Unlike the anonymous limit, a grant's quota is part of the
			// decision: without the store it cannot be enforced.
			return datasets.Wrap(err, datasets.EUNAVAILABLE, "rate-limit store unavailable")
		}
		reset := max(lc.Reset-time.Now().Unix(), 0)
		// SetBytesV copies the value, so buf is free again once it returns.
		b := append(buf[:0], '"')
		b = append(b, p.name...)
		b = append(b, `";r=`...)
		b = strconv.AppendInt(b, lc.Remaining, 10)
		b = append(b, ";t="...)
		b = strconv.AppendInt(b, reset, 10)
		h.SetBytesV("RateLimit", b)
		h.SetBytesV("X-RateLimit-Limit", strconv.AppendInt(buf[:0], lc.Limit, 10))
		h.SetBytesV("X-RateLimit-Remaining", strconv.AppendInt(buf[:0], lc.Remaining, 10))
		h.SetBytesV("X-RateLimit-Reset", strconv.AppendInt(buf[:0], lc.Reset, 10))
		if lc.Reached {
			c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(max(reset, 1), 10))
			what := "rate"
			if p.name == "key-quota" {
				what = "quota"
			}
			return datasets.Errorf(datasets.ERATELIMIT, "this key's %s of %d requests per %s is spent; retry after %d s",
				what, p.r.Limit, p.r.Period, max(reset, 1))
		}
	}
	return nil
}

// grantLimits is what limit needs of a grant that is the same on every
// request: its rate and quota, their counters' keys in the store, and the
// RateLimit-Policy value. Building these per request cost more than taking
// the units from a lease.
type grantLimits struct {
	rate, quota limiter.Rate
	keys        [2]string // the rate's counter, then the quota's
	policy      string
}

// grantLimitsMax bounds the grantLimits a KeyAuthorizer keeps. Grants in
// use are few; past the bound the cache is emptied rather than evicted
// entry by entry, which costs one rebuild per grant.
const grantLimitsMax = 10000

// grantLimitsOf returns g's grantLimits, from the cache when the grant's
// rate and quota are still those it was built with (a cached entry whose
// numbers differ is rebuilt, so a changed grant is never limited by its
// old numbers).
func (k *KeyAuthorizer) grantLimitsOf(g *datasets.Grant) *grantLimits {
	rate := limiter.Rate{Period: periodOf(g.RatePeriod), Limit: g.Rate}
	quota := limiter.Rate{Period: periodOf(g.QuotaPeriod), Limit: g.Quota}
	if v, ok := k.grantLimits.Load(g.ID); ok {
		if gl := v.(*grantLimits); gl.rate == rate && gl.quota == quota {
			return gl
		}
	}
	gl := &grantLimits{rate: rate, quota: quota,
		keys: [2]string{"key:key-rate:" + g.ID, "key:key-quota:" + g.ID},
		policy: fmt.Sprintf("%q;q=%d;w=%d, %q;q=%d;w=%d", "key-rate", rate.Limit, int64(rate.Period/time.Second),
			"key-quota", quota.Limit, int64(quota.Period/time.Second))}
	if k.grantLimitsN.Add(1) > grantLimitsMax {
		k.grantLimits.Clear()
		k.grantLimitsN.Store(1)
	}
	k.grantLimits.Store(g.ID, gl)
	return gl
}

// refuse audits a refused request of a known key, then returns err. If the
// record cannot be written the refusal stands anyway.
func (k *KeyAuthorizer) refuse(c *fiber.Ctx, a *access, err error) error {
	if aerr := k.audit(c, a, StatusOf(datasets.ErrorCode(err)), 0); aerr != nil {
		return aerr
	}
	return err
}

func (k *KeyAuthorizer) audit(c *fiber.Ctx, a *access, status int, rows int64) error {
	r := &datasets.AuditRecord{
		KeyID: a.ka.Key.ID, UserID: a.ka.Key.UserID, ApplicationID: a.ka.Key.ApplicationID,
		AgencyID: a.d.Agency.ID, DatasetID: a.d.ID, Mode: a.mode, Fields: a.fields, Filter: clip(a.filter, 2000),
		Rows: rows, Status: status, RequestID: requestID(c),
	}
	if a.grant != nil {
		r.GrantID = a.grant.ID
	}
	// The response waits for this record: a use that is not recorded
	// must not happen (Shanghai art. 24).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), 5*time.Second)
	defer cancel()
	if err := k.svc.RecordUse(ctx, r); err != nil {
		if datasets.IsCode(err, datasets.EFORBIDDEN) {
			// The store found the key, its application or its grant
			// revoked since it was cached: the use is recorded as refused
			// and must be.
			return err
		}
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "the audit log is unavailable")
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// FilterPage keeps only the granted columns of a page and masks them.
func (k *KeyAuthorizer) FilterPage(c *fiber.Ctx, page *datasets.RowPage) {
	a, ok := c.Locals(localAccess).(*access)
	if !ok || a.grant == nil {
		return
	}
	var keep []int
	for i, col := range page.Columns {
		if slices.Contains(a.grant.Fields, col.Name) {
			keep = append(keep, i)
		}
	}
	cols := make([]datasets.Column, len(keep))
	for j, i := range keep {
		cols[j] = page.Columns[i]
	}
	// Compacted in place: keep ascends, so keep[j] >= j and no value is
	// overwritten before it is moved. The page's rows are its own.
	for r, row := range page.Rows {
		if len(row) < len(keep) { // not from QueryRows: copy
			row = append(make([]any, 0, len(keep)), row...)
			row = row[:len(keep)]
		}
		for j, i := range keep {
			if i < len(row) {
				row[j] = row[i]
			} else {
				row[j] = nil
			}
		}
		clear(row[len(keep):])
		page.Rows[r] = row[:len(keep):len(keep)]
	}
	k.svc.MaskRows(a.grant, cols, page.Rows)
	page.Columns = portal.MaskedColumns(a.grant, cols)
	a.rows += int64(len(page.Rows))
	// A cursor carries sort values; the fields were checked as granted,
	// but masked ones must not travel in clear inside it.
	for _, s := range page.Columns {
		if r, ok := a.grant.Masks[s.Name]; ok && r != datasets.MaskNone {
			page.Next = nil
			break
		}
	}
}

// AuditMiddleware records every admitted conditional request after its
// handler ran, with the final status and the rows returned, and replaces
// the response with a 503 if the record cannot be made durable, or with a
// 403 if the audit commit finds the key revoked (see KeyAuthorizer). The
// response is not sent before either. Mount it before the handler on
// records, verify and download.
func (k *KeyAuthorizer) AuditMiddleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(localAuditDefered, true)
		err := c.Next()
		a, ok := c.Locals(localAccess).(*access)
		if !ok {
			return err
		}
		status := c.Response().StatusCode()
		if err != nil {
			status = StatusOf(datasets.ErrorCode(err))
		}
		if aerr := k.audit(c, a, status, a.rows); aerr != nil {
			return aerr
		}
		return err
	}
}

// handleDatasetVerify answers 比對驗證: do rows exist whose given fields
// equal the given values? Only match or no match is returned. Every field
// must be granted; the per-key rate and quota bound enumeration.
func (s *Server) handleDatasetVerify(c *fiber.Ctx) error {
	d, err := s.publicDataset(c)
	if err != nil {
		return err
	}
	if !slices.Contains(d.AccessModes, datasets.Verify) {
		return datasets.Errorf(datasets.EFORBIDDEN, "dataset %s is not opened for verification", d.Slug)
	}
	if err := s.authorize(c, d, datasets.Verify); err != nil {
		return err
	}
	var in struct {
		Values map[string]string `json:"values"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	if len(in.Values) == 0 || len(in.Values) > 10 {
		return invalidParam("values", "give 1 to 10 field values to compare")
	}
	if a, ok := c.Locals(localAccess).(*access); ok {
		names := make([]string, 0, len(in.Values))
		for n := range in.Values {
			names = append(names, n)
		}
		slices.Sort(names)
		if err := portal.CheckFields(a.grant, names); err != nil {
			return err
		}
		a.fields = names
	}
	v, err := s.entryVersion(c, d, 0)
	if err != nil {
		return err
	}
	if !v.Tabular() {
		return datasets.Errorf(datasets.EINVALID, "dataset %s has no records to verify against", d.Slug)
	}
	cols := columnsOf(v)
	q := datasets.RowQuery{Columns: cols, Limit: 1, Select: []string{cols[0].Name}}
	for name, val := range in.Values {
		i := slices.IndexFunc(cols, func(col datasets.Column) bool { return col.Name == name })
		if i < 0 {
			return invalidParam(name, "is not a field of this dataset")
		}
		tv, err := convertValue(cols[i].Type, val)
		if err != nil {
			return invalidParam(name, "does not fit the field's type")
		}
		q.Filters = append(q.Filters, datasets.RowFilter{Field: name, Op: datasets.OpEq, Values: []any{tv}})
	}
	page, err := s.d.Rows.QueryRows(reqCtx(c), v.RowTable, q)
	if err != nil {
		return err
	}
	s.countUse(d.ID, 0, 1)
	return sendJSON(c, fiber.StatusOK, fiber.Map{"match": len(page.Rows) > 0})
}

// accessRoutes registers applications, keys and usage under api (/api/v1),
// authenticated with personal access tokens; pre runs before each.
func accessRoutes(api fiber.Router, svc *portal.Service, pre ...fiber.Handler) {
	h := &accessAPI{svc: svc}
	auth := (&portalAPI{svc: svc}).authenticate
	r := func(hs ...fiber.Handler) []fiber.Handler {
		return append(slices.Clone(pre), append([]fiber.Handler{auth}, hs...)...)
	}
	api.Post("/applications", r(h.handleApply)...)
	api.Get("/applications", r(h.handleApplications)...)
	api.Get("/applications/queue", r(h.handleQueue)...)
	api.Get("/applications/:aid", r(h.handleApplication)...)
	api.Post("/applications/:aid/decision", r(h.handleDecide)...)
	api.Post("/applications/:aid/withdraw", r(h.handleWithdraw)...)
	api.Post("/applications/:aid/revoke", r(h.handleRevoke)...)
	api.Get("/keys", r(h.handleKeys)...)
	api.Post("/keys", r(h.handleKeyCreate)...)
	api.Post("/keys/:kid/rotate", r(h.handleKeyRotate)...)
	api.Delete("/keys/:kid", r(h.handleKeyRevoke)...)
	api.Get("/me/usage", r(h.handleUsage)...)
}

type accessAPI struct{ svc *portal.Service }

func (h *accessAPI) handleApply(c *fiber.Ctx) error {
	var in portal.ApplyInput
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	a, err := h.svc.Apply(c.UserContext(), UserOf(c), in)
	if err != nil {
		return err
	}
	c.Location("/api/v1/applications/" + a.ID)
	return sendJSON(c, fiber.StatusCreated, a)
}

func (h *accessAPI) handleApplications(c *fiber.Ctx) error {
	as, err := h.svc.MyApplications(c.UserContext(), UserOf(c))
	if err != nil {
		return err
	}
	if as == nil {
		as = []datasets.Application{}
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"items": as, "total": len(as)})
}

func (h *accessAPI) handleQueue(c *fiber.Ctx) error {
	q, err := h.svc.ReviewQueue(c.UserContext(), UserOf(c))
	if err != nil {
		return err
	}
	if q == nil {
		q = []portal.QueueItem{}
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"items": q, "total": len(q)})
}

func (h *accessAPI) handleApplication(c *fiber.Ctx) error {
	v, err := h.svc.ApplicationFor(c.UserContext(), UserOf(c), c.Params("aid"))
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, v)
}

func (h *accessAPI) handleDecide(c *fiber.Ctx) error {
	var in portal.Decision
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	v, err := h.svc.Decide(c.UserContext(), UserOf(c), c.Params("aid"), in)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, v)
}

type reasonBody struct {
	Reason string `json:"reason"`
}

func (h *accessAPI) handleWithdraw(c *fiber.Ctx) error {
	var in reasonBody
	if err := decodeOptionalBody(c, &in); err != nil {
		return err
	}
	v, err := h.svc.Withdraw(c.UserContext(), UserOf(c), c.Params("aid"), in.Reason)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, v)
}

func (h *accessAPI) handleRevoke(c *fiber.Ctx) error {
	var in reasonBody
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	v, err := h.svc.Revoke(c.UserContext(), UserOf(c), c.Params("aid"), in.Reason)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, v)
}

func (h *accessAPI) handleKeys(c *fiber.Ctx) error {
	ks, err := h.svc.Keys(c.UserContext(), UserOf(c))
	if err != nil {
		return err
	}
	if ks == nil {
		ks = []datasets.APIKey{}
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"items": ks, "total": len(ks)})
}

type keyCreated struct {
	*datasets.APIKey
	Key string `json:"key"` // shown this once
}

func (h *accessAPI) handleKeyCreate(c *fiber.Ctx) error {
	var in struct {
		ApplicationID string `json:"application_id"`
		Name          string `json:"name"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	secret, k, err := h.svc.CreateKey(c.UserContext(), UserOf(c), in.ApplicationID, in.Name)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusCreated, keyCreated{k, secret})
}

func (h *accessAPI) handleKeyRotate(c *fiber.Ctx) error {
	secret, k, err := h.svc.RotateKey(c.UserContext(), UserOf(c), c.Params("kid"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusCreated, keyCreated{k, secret})
}

func (h *accessAPI) handleKeyRevoke(c *fiber.Ctx) error {
	if err := h.svc.RevokeKey(c.UserContext(), UserOf(c), c.Params("kid")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *accessAPI) handleUsage(c *fiber.Ctx) error {
	f := datasets.UsageFilter{From: c.Query("from"), To: c.Query("to"), DatasetID: c.Query("dataset"), KeyID: c.Query("key"), UserID: c.Query("user")}
	for _, d := range []string{f.From, f.To} {
		if d != "" {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				return invalidParam("from/to", "must be YYYY-MM-DD")
			}
		}
	}
	u, err := h.svc.Usage(c.UserContext(), UserOf(c), f)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"items": u, "total": len(u)})
}

// grantShape is what a bulk grant lets a download carry: the granted
// columns, in the version's order, masked. It is computed while the
// request is live because conversions stream after the handler returned.
type grantShape struct {
	svc  *portal.Service
	g    *datasets.Grant
	keep []int
	cols []datasets.Column // output columns, masked ones retyped as text
}

// shapeFor returns the shape of the request's grant over cols, or nil when
// the request carries no grant (an open entry).
func (k *KeyAuthorizer) shapeFor(c *fiber.Ctx, cols []datasets.Column) *grantShape {
	a, ok := c.Locals(localAccess).(*access)
	if !ok || a.grant == nil {
		return nil
	}
	sh := &grantShape{svc: k.svc, g: a.grant}
	var kept []datasets.Column
	for i, col := range cols {
		if slices.Contains(a.grant.Fields, col.Name) {
			sh.keep = append(sh.keep, i)
			kept = append(kept, col)
		}
	}
	sh.cols = portal.MaskedColumns(a.grant, kept)
	return sh
}

// whole reports whether the shape is the identity: every column granted and
// none masked, so the original file reveals nothing beyond the grant. A
// version without columns (not tabular) is whole when nothing is masked.
func (sh *grantShape) whole(cols []datasets.Column) bool {
	if len(sh.keep) != len(cols) {
		return false
	}
	for _, r := range sh.g.Masks {
		if r != datasets.MaskNone {
			return false
		}
	}
	return true
}

// source wraps src so that every row leaves shaped.
func (sh *grantShape) source(src datasets.RowSource) datasets.RowSource {
	return shapedSource{sh: sh, src: src}
}

type shapedSource struct {
	sh  *grantShape
	src datasets.RowSource
}

func (s shapedSource) Next() ([]any, error) {
	row, err := s.src.Next()
	if err != nil {
		return nil, err
	}
	out := make([]any, len(s.sh.keep))
	for j, i := range s.sh.keep {
		if i < len(row) {
			out[j] = row[i]
		}
	}
	rows := [][]any{out}
	// MaskRows matches columns by name, so it gets the unretyped names.
	s.sh.svc.MaskRows(s.sh.g, s.sh.cols, rows)
	return rows[0], nil
}
