package portal_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/blob"
	"kaifang/datasets/sqlstore"
	"kaifang/datasets/sqlstore/sqltest"
	"kaifang/portal"
)

const testPassword = "correct horse battery"

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// env is a portal over a real database and blob directory, with two
// agencies and one user of each role.
type env struct {
	svc    *portal.Service
	store  *sqlstore.Store
	clock  *clock
	agA    *datasets.Agency
	agB    *datasets.Agency
	admin  *datasets.User
	pubA   *datasets.User
	revA   *datasets.User
	pubB   *datasets.User
	revB   *datasets.User
	dev    *datasets.User
	byName map[string]*datasets.User
}

func MustEnv(tb testing.TB, url string) *env {
	tb.Helper()
	ctx := context.Background()
	st := sqltest.MustOpen(tb, url)
	blobs, err := blob.OpenLocal(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	e := &env{store: st, clock: c, byName: map[string]*datasets.User{}}
	e.svc = &portal.Service{Catalog: st, Rows: st, Blobs: blobs, Accounts: st, Secret: []byte("test-secret-0123456789abcdef"),
		Now: c.Now, TempDir: tb.TempDir(), MaxUpload: 1 << 20}
	e.agA = &datasets.Agency{Slug: "transport-bureau", Name: "交通运输局"}
	e.agB = &datasets.Agency{Slug: "health-bureau", Name: "卫生健康委员会"}
	for _, a := range []*datasets.Agency{e.agA, e.agB} {
		if err := st.CreateAgency(ctx, a); err != nil {
			tb.Fatal(err)
		}
	}
	add := func(name string, role datasets.Role, agency string) *datasets.User {
		u, err := e.svc.AddUser(ctx, role, agency, name+"@example.org", name, testPassword)
		if err != nil {
			tb.Fatalf("add %s: %v", name, err)
		}
		e.byName[name] = u
		return u
	}
	e.admin = add("admin", datasets.RoleAdmin, "")
	e.pubA = add("pubA", datasets.RolePublisher, e.agA.Slug)
	e.revA = add("revA", datasets.RoleReviewer, e.agA.Slug)
	e.pubB = add("pubB", datasets.RolePublisher, e.agB.Slug)
	e.revB = add("revB", datasets.RoleReviewer, e.agB.Slug)
	e.dev = add("dev", datasets.RoleDeveloper, "")
	return e
}

func ptr[T any](v T) *T { return &v }

// MustEntry creates a draft entry of agency a as admin.
func (e *env) MustEntry(tb testing.TB, a *datasets.Agency, slug string, class datasets.OpenClass) *datasets.Dataset {
	tb.Helper()
	f := portal.EntryFields{Slug: ptr(slug), Title: ptr("条目 " + slug), OpenClass: ptr(class), Frequency: ptr(datasets.Monthly)}
	if class != datasets.Open {
		f.Reason, f.LegalBasis = ptr("含个人信息"), ptr("《个人信息保护法》第二十八条")
	}
	d, err := e.svc.CreateEntry(context.Background(), e.admin, a.Slug, f)
	if err != nil {
		tb.Fatalf("create entry %s: %v", slug, err)
	}
	return d
}

var approve = portal.ReviewInput{Decision: datasets.Approve,
	Legality:        &datasets.ReviewCheck{OK: true, Note: "符合《数据安全法》"},
	Confidentiality: &datasets.ReviewCheck{OK: true, Note: "不涉及国家秘密"},
	Privacy:         &datasets.ReviewCheck{OK: true, Note: "无个人信息"}}

// MustPublish submits and approves an entry.
func (e *env) MustPublish(tb testing.TB, d *datasets.Dataset) *datasets.Dataset {
	tb.Helper()
	ctx := context.Background()
	if _, err := e.svc.SubmitEntry(ctx, e.admin, d.ID); err != nil {
		tb.Fatalf("submit %s: %v", d.Slug, err)
	}
	out, err := e.svc.ReviewEntry(ctx, e.admin, d.ID, approve)
	if err != nil {
		tb.Fatalf("approve %s: %v", d.Slug, err)
	}
	return out
}

func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if code == "" && err != nil {
		tb.Fatalf("got error %v, want success", err)
	}
	if code != "" && !datasets.IsCode(err, code) {
		tb.Fatalf("got %v, want %s", err, code)
	}
}
