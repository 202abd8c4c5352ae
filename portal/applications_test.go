package portal

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/sqlstore"
	"kaifang/datasets/sqlstore/sqltest"
)

// accessFixture is a catalogue with one agency, a conditional entry with
// personal fields, an open entry, and the people of the workflow.
type accessFixture struct {
	svc       *Service
	store     *sqlstore.Store
	cond      *datasets.Dataset
	open      *datasets.Dataset
	dev       *datasets.User
	other     *datasets.User
	reviewer  *datasets.User
	foreigner *datasets.User // reviewer of another agency
	admin     *datasets.User
	clock     *time.Time
}

func MustAccessFixture(tb testing.TB, url string) *accessFixture {
	tb.Helper()
	ctx := context.Background()
	st := sqltest.MustOpen(tb, url)
	ag := &datasets.Agency{Slug: "shebao-ju", Name: "社保局"}
	if err := st.CreateAgency(ctx, ag); err != nil {
		tb.Fatal(err)
	}
	mk := func(slug string, class datasets.OpenClass) *datasets.Dataset {
		d := &datasets.Dataset{Slug: slug, Title: slug, Agency: ag.Ref(), Category: datasets.SocialSecurity, OpenClass: class,
			Frequency: datasets.Monthly, State: datasets.Published, Reason: "個人信息", LegalBasis: "個人信息保護法第13條",
			AccessModes: []datasets.AccessMode{datasets.Verify, datasets.Query, datasets.Bulk},
			Fields: []datasets.Field{{Name: "姓名", Type: datasets.TypeText}, {Name: "身份證號", Type: datasets.TypeText},
				{Name: "手機", Type: datasets.TypeText}, {Name: "地址", Type: datasets.TypeText}, {Name: "繳費月數", Type: datasets.TypeInteger}}}
		if err := st.CreateDataset(ctx, d, datasets.Change{Actor: "system", Action: "create"}); err != nil {
			tb.Fatal(err)
		}
		return d
	}
	clock := time.Date(2026, 9, 30, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai, the eve of National Day
	f := &accessFixture{
		store: st, clock: &clock,
		cond:      mk("shebao-jiaofei", datasets.Conditional),
		open:      mk("shebao-tongji", datasets.Open),
		dev:       &datasets.User{ID: "u-dev", Role: datasets.RoleDeveloper},
		other:     &datasets.User{ID: "u-other", Role: datasets.RoleDeveloper},
		reviewer:  &datasets.User{ID: "u-rev", Role: datasets.RoleReviewer, AgencyID: ag.ID},
		foreigner: &datasets.User{ID: "u-for", Role: datasets.RoleReviewer, AgencyID: "00000000-0000-0000-0000-000000000000"},
		admin:     &datasets.User{ID: "u-admin", Role: datasets.RoleAdmin},
	}
	f.svc = &Service{Catalog: st, Rows: st, Access: st, Calendar: DefaultCalendar(),
		Secret: []byte("test secret of at least sixteen bytes"), Now: func() time.Time { return *f.clock }}
	return f
}

func (f *accessFixture) MustApply(tb testing.TB) *datasets.Application {
	tb.Helper()
	a, err := f.svc.Apply(context.Background(), f.dev, ApplyInput{
		Scenario: "社保繳費核驗", Purpose: "貸款審批前核驗繳費月數",
		Requests: []datasets.AccessRequest{{DatasetID: f.cond.Slug, Fields: []string{"姓名", "身份證號", "手機", "繳費月數"},
			Modes: []datasets.AccessMode{datasets.Verify, datasets.Query}}},
		To: f.clock.AddDate(0, 6, 0), Volume: "1000/day",
	})
	if err != nil {
		tb.Fatalf("Apply: %v", err)
	}
	return a
}

func TestApplicationWorkflow(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		f := MustAccessFixture(t, url)
		a := f.MustApply(t)

		t.Run("due date counts working days across National Day", func(t *testing.T) {
			// 09-30 + 15 working days: 10-08, 09, 10 (調休 Saturday), 12–16, 19–23, 26, 27 → 10-27.
			want := time.Date(2026, 10, 27, 23, 59, 59, 0, Shanghai)
			if !a.DueAt.Equal(want) {
				t.Errorf("DueAt = %s, want %s", a.DueAt.In(Shanghai), want)
			}
		})
		t.Run("queue of the agency's reviewer", func(t *testing.T) {
			q, err := f.svc.ReviewQueue(ctx, f.reviewer)
			if err != nil || len(q) != 1 || q[0].ID != a.ID || q[0].Overdue || q[0].WorkdaysLeft != 15 {
				t.Fatalf("ReviewQueue = %+v, %v; want the one application, 15 working days left", q, err)
			}
		})
		t.Run("queue marks overdue", func(t *testing.T) {
			saved := *f.clock
			*f.clock = time.Date(2026, 10, 28, 2, 0, 0, 0, time.UTC)
			defer func() { *f.clock = saved }()
			q, err := f.svc.ReviewQueue(ctx, f.reviewer)
			if err != nil || len(q) != 1 || !q[0].Overdue || q[0].WorkdaysLeft != -1 {
				t.Fatalf("ReviewQueue after the due date = %+v, %v; want overdue by 1", q, err)
			}
		})
		t.Run("other agency's reviewer sees nothing", func(t *testing.T) {
			q, err := f.svc.ReviewQueue(ctx, f.foreigner)
			if err != nil || len(q) != 0 {
				t.Fatalf("foreign ReviewQueue = %d items, %v", len(q), err)
			}
			if _, err := f.svc.Decide(ctx, f.foreigner, a.ID, Decision{Approve: true}); !datasets.IsCode(err, datasets.ENOTFOUND) {
				t.Fatalf("foreign Decide = %v, want ENOTFOUND", err)
			}
		})
		t.Run("rejection needs a reason", func(t *testing.T) {
			if _, err := f.svc.Decide(ctx, f.reviewer, a.ID, Decision{}); !datasets.IsCode(err, datasets.EINVALID) {
				t.Fatalf("Decide without reason = %v, want EINVALID", err)
			}
		})
		t.Run("approval may not widen", func(t *testing.T) {
			_, err := f.svc.Decide(ctx, f.reviewer, a.ID, Decision{Approve: true,
				Grants: []GrantDecision{{DatasetID: f.cond.ID, Fields: []string{"地址"}}}})
			if !datasets.IsCode(err, datasets.EINVALID) {
				t.Fatalf("widening Decide = %v, want EINVALID", err)
			}
		})
		t.Run("approval granting no field is refused", func(t *testing.T) {
			_, err := f.svc.Decide(ctx, f.reviewer, a.ID, Decision{Approve: true,
				Grants: []GrantDecision{{DatasetID: f.cond.ID, Fields: []string{}}}})
			if !datasets.IsCode(err, datasets.EINVALID) {
				t.Fatalf("Decide with an empty field list = %v, want EINVALID (it must not grant everything)", err)
			}
		})
		var view *ApplicationView
		t.Run("approval narrows and masks", func(t *testing.T) {
			var err error
			view, err = f.svc.Decide(ctx, f.reviewer, a.ID, Decision{Approve: true, Reason: "場景合理",
				Grants: []GrantDecision{{DatasetID: f.cond.ID, Fields: []string{"姓名", "身份證號", "繳費月數"},
					Masks: map[string]datasets.MaskRule{"身份證號": datasets.MaskIDCard, "姓名": datasets.MaskName},
					Rate:  5, RatePeriod: datasets.PerSecond, Quota: 100, QuotaPeriod: datasets.PerDay}}})
			if err != nil {
				t.Fatal(err)
			}
			if view.State != datasets.AppApproved || len(view.Grants) != 1 {
				t.Fatalf("after approval: state %s, %d grants", view.State, len(view.Grants))
			}
			g := view.Grants[0]
			if strings.Join(g.Fields, ",") != "姓名,身份證號,繳費月數" || g.Masks["身份證號"] != datasets.MaskIDCard || g.Rate != 5 || g.Quota != 100 {
				t.Errorf("grant = %+v", g)
			}
			if len(view.Events) != 2 || view.Events[1].Actor != f.reviewer.ID || view.Events[1].From != datasets.AppSubmitted {
				t.Errorf("events = %+v", view.Events)
			}
		})
		t.Run("decided twice is a conflict", func(t *testing.T) {
			if _, err := f.svc.Decide(ctx, f.reviewer, a.ID, Decision{Reason: "no"}); !datasets.IsCode(err, datasets.ECONFLICT) {
				t.Fatalf("second Decide = %v, want ECONFLICT", err)
			}
		})
		t.Run("another developer cannot see it", func(t *testing.T) {
			if _, err := f.svc.ApplicationFor(ctx, f.other, a.ID); !datasets.IsCode(err, datasets.ENOTFOUND) {
				t.Fatalf("ApplicationFor(other) = %v, want ENOTFOUND", err)
			}
		})

		secret, key, err := f.svc.CreateKey(ctx, f.dev, a.ID, "prod")
		if err != nil {
			t.Fatalf("CreateKey: %v", err)
		}
		t.Run("key shape and storage", func(t *testing.T) {
			if !strings.HasPrefix(secret, "kf_") || len(secret) < 3+52 || !strings.HasPrefix(secret, key.Prefix) {
				t.Errorf("secret %q / prefix %q", secret, key.Prefix)
			}
			stored, err := f.store.Key(ctx, key.ID)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(stored.Hash), secret) || len(stored.Hash) != 32 {
				t.Error("the key must be stored only as a 32-byte HMAC")
			}
			if !stored.ExpiresAt.Equal(a.To.Truncate(time.Microsecond)) {
				t.Errorf("key expires %s, want the grant's end %s", stored.ExpiresAt, a.To)
			}
		})
		t.Run("authenticate and scope", func(t *testing.T) {
			ka, err := f.svc.AuthenticateKey(ctx, secret)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ka.GrantFor(f.cond.ID, datasets.Query, *f.clock); err != nil {
				t.Errorf("query grant: %v", err)
			}
			if _, err := ka.GrantFor(f.cond.ID, datasets.Bulk, *f.clock); !datasets.IsCode(err, datasets.EFORBIDDEN) {
				t.Errorf("bulk = %v, want EFORBIDDEN", err)
			}
			if _, err := ka.GrantFor(f.open.ID, datasets.Query, *f.clock); !datasets.IsCode(err, datasets.EFORBIDDEN) {
				t.Errorf("other entry = %v, want EFORBIDDEN", err)
			}
			g, _ := ka.GrantFor(f.cond.ID, datasets.Query, *f.clock)
			err = CheckFields(g, []string{"姓名", "手機", "地址"})
			if !datasets.IsCode(err, datasets.EFORBIDDEN) || !strings.Contains(err.Error(), "手機, 地址") {
				t.Errorf("CheckFields = %v, want EFORBIDDEN naming 手機, 地址", err)
			}
		})
		t.Run("a presented key is judged as the key itself", func(t *testing.T) {
			// The gateway hashes a request's key once and asks twice.
			p := f.svc.PresentKey("  " + secret + " ")
			if !f.svc.KnownPresented(p) || !f.svc.KnownKey(secret) {
				t.Error("a key admitted a moment ago is not known")
			}
			ka, err := f.svc.AuthenticatePresented(ctx, p)
			if err != nil || ka.Key.ID != key.ID {
				t.Fatalf("AuthenticatePresented = %v, %v; want key %s", ka, err, key.ID)
			}
			for _, bad := range []string{"", "kf", "sk_" + secret[3:], secret + strings.Repeat("x", 128)} {
				p := f.svc.PresentKey(bad)
				if f.svc.KnownPresented(p) {
					t.Errorf("%q is known", bad)
				}
				if _, err := f.svc.AuthenticatePresented(ctx, p); !datasets.IsCode(err, datasets.EUNAUTHORIZED) {
					t.Errorf("%q = %v, want EUNAUTHORIZED", bad, err)
				}
			}
			if f.svc.KnownPresented(f.svc.PresentKey(secret[:len(secret)-1] + "x")) {
				t.Error("an unknown key of the right shape is known")
			}
		})
		t.Run("unknown key", func(t *testing.T) {
			if _, err := f.svc.AuthenticateKey(ctx, secret[:len(secret)-1]+"x"); !datasets.IsCode(err, datasets.EUNAUTHORIZED) {
				t.Fatalf("unknown key = %v, want EUNAUTHORIZED", err)
			}
		})
		t.Run("expired key", func(t *testing.T) {
			saved := *f.clock
			*f.clock = a.To.Add(time.Second)
			defer func() { *f.clock = saved }()
			if _, err := f.svc.AuthenticateKey(ctx, secret); !datasets.IsCode(err, datasets.EFORBIDDEN) {
				t.Fatalf("expired key = %v, want EFORBIDDEN", err)
			}
		})
		t.Run("rotate revokes the old key", func(t *testing.T) {
			s2, k2, err := f.svc.RotateKey(ctx, f.dev, key.ID)
			if err != nil {
				t.Fatal(err)
			}
			if k2.Name != "prod" {
				t.Errorf("rotated name %q", k2.Name)
			}
			if _, err := f.svc.AuthenticateKey(ctx, secret); !datasets.IsCode(err, datasets.EFORBIDDEN) {
				t.Errorf("old key after rotation = %v, want EFORBIDDEN", err)
			}
			if _, err := f.svc.AuthenticateKey(ctx, s2); err != nil {
				t.Errorf("new key: %v", err)
			}
			if err := f.svc.RevokeKey(ctx, f.other, k2.ID); !datasets.IsCode(err, datasets.ENOTFOUND) {
				t.Errorf("revoking someone else's key = %v, want ENOTFOUND", err)
			}
			if _, err := f.svc.Revoke(ctx, f.reviewer, a.ID, "場景已結束"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.AuthenticateKey(ctx, s2); !datasets.IsCode(err, datasets.EFORBIDDEN) {
				t.Errorf("key of a revoked application = %v, want EFORBIDDEN", err)
			}
		})
		t.Run("withdraw", func(t *testing.T) {
			b := f.MustApply(t)
			v, err := f.svc.Withdraw(ctx, f.dev, b.ID, "不再需要")
			if err != nil || v.State != datasets.AppWithdrawn {
				t.Fatalf("Withdraw = %v, %v", v, err)
			}
			if _, _, err := f.svc.CreateKey(ctx, f.dev, b.ID, ""); !datasets.IsCode(err, datasets.ECONFLICT) {
				t.Errorf("key for a withdrawn application = %v, want ECONFLICT", err)
			}
		})
		t.Run("apply refuses", func(t *testing.T) {
			for name, in := range map[string]ApplyInput{
				"no scenario":   {Purpose: "x", Requests: []datasets.AccessRequest{{DatasetID: f.cond.ID, Fields: []string{"姓名"}, Modes: []datasets.AccessMode{datasets.Query}}}, To: f.clock.AddDate(0, 1, 0)},
				"open entry":    {Scenario: "x", Purpose: "x", Requests: []datasets.AccessRequest{{DatasetID: f.open.ID, Fields: []string{"姓名"}, Modes: []datasets.AccessMode{datasets.Query}}}, To: f.clock.AddDate(0, 1, 0)},
				"unknown field": {Scenario: "x", Purpose: "x", Requests: []datasets.AccessRequest{{DatasetID: f.cond.ID, Fields: []string{"密碼"}, Modes: []datasets.AccessMode{datasets.Query}}}, To: f.clock.AddDate(0, 1, 0)},
				"no period":     {Scenario: "x", Purpose: "x", Requests: []datasets.AccessRequest{{DatasetID: f.cond.ID, Fields: []string{"姓名"}, Modes: []datasets.AccessMode{datasets.Query}}}},
			} {
				if _, err := f.svc.Apply(ctx, f.dev, in); !datasets.IsCode(err, datasets.EINVALID) {
					t.Errorf("%s: Apply = %v, want EINVALID", name, err)
				}
			}
		})
	})
}

func TestAnswerOnTheSpot(t *testing.T) {
	f := MustAccessFixture(t, sqltest.SQLiteURL(t))
	a := f.MustApply(t)
	v, err := f.svc.Decide(context.Background(), f.reviewer, a.ID, Decision{Approve: true})
	if err != nil || v.DecidedAt == nil || !v.DecidedAt.Equal(*f.clock) {
		t.Fatalf("immediate approval: %+v, %v", v, err)
	}
}

func TestVerifyAuditNamesTamperedRecord(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		f := MustAccessFixture(t, url)
		for i := range 5 {
			r := &datasets.AuditRecord{KeyID: "k1", UserID: f.dev.ID, ApplicationID: "a1", AgencyID: f.cond.Agency.ID,
				DatasetID: f.cond.ID, Mode: datasets.Query, Fields: []string{"姓名"}, Rows: int64(i), Status: 200}
			if err := f.svc.RecordUse(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := f.svc.VerifyAudit(ctx); err != nil || n != 5 {
			t.Fatalf("VerifyAudit on an intact chain = %d, %v", n, err)
		}
		db := f.store.DB()
		q := func(s string) string {
			if f.store.Dialect() == "postgres" {
				return strings.ReplaceAll(s, "?", "$1")
			}
			return s
		}
		t.Run("altered", func(t *testing.T) {
			if _, err := db.ExecContext(ctx, q(`UPDATE access_audit_pages SET records = replace(records, '"rows":2,', '"rows":999,') WHERE ? BETWEEN first_seq AND last_seq`), 3); err != nil {
				t.Fatal(err)
			}
			n, err := f.svc.VerifyAudit(ctx)
			var ae *AuditError
			if !errors.As(err, &ae) || ae.Seq != 3 || n != 2 || !strings.Contains(err.Error(), "record 3") {
				t.Fatalf("VerifyAudit = %d, %v; want record 3 named", n, err)
			}
			if _, err := db.ExecContext(ctx, q(`UPDATE access_audit_pages SET records = replace(records, '"rows":999,', '"rows":2,') WHERE ? BETWEEN first_seq AND last_seq`), 3); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("unreadable", func(t *testing.T) {
			if _, err := db.ExecContext(ctx, q(`UPDATE access_audit_pages SET records = replace(records, '"seq":4,', '"seq":"4",') WHERE ? BETWEEN first_seq AND last_seq`), 4); err != nil {
				t.Fatal(err)
			}
			n, err := f.svc.VerifyAudit(ctx)
			if err == nil || !strings.Contains(err.Error(), "records 4 to 4 are unreadable") || n != 0 {
				t.Fatalf("VerifyAudit over an undecodable page = %d, %v; want records 4 to 4 named", n, err)
			}
			if _, err := db.ExecContext(ctx, q(`UPDATE access_audit_pages SET records = replace(records, '"seq":"4",', '"seq":4,') WHERE ? BETWEEN first_seq AND last_seq`), 4); err != nil {
				t.Fatal(err)
			}
			if n, err := f.svc.VerifyAudit(ctx); err != nil || n != 5 {
				t.Fatalf("VerifyAudit once repaired = %d, %v", n, err)
			}
		})
		t.Run("deleted", func(t *testing.T) {
			if _, err := db.ExecContext(ctx, q(`DELETE FROM access_audit_pages WHERE ? BETWEEN first_seq AND last_seq`), 2); err != nil {
				t.Fatal(err)
			}
			_, err := f.svc.VerifyAudit(ctx)
			var ae *AuditError
			if !errors.As(err, &ae) || ae.Seq != 2 || !strings.Contains(err.Error(), "missing") {
				t.Fatalf("VerifyAudit after delete = %v; want record 2 missing", err)
			}
		})
		t.Run("usage by role", func(t *testing.T) {
			// Usage is counted beside the chain as it is written: deleting
			// a record from the log does not hide its use from the counts.
			u, err := f.svc.Usage(ctx, f.dev, datasets.UsageFilter{})
			if err != nil || len(u) != 1 || u[0].Requests != 5 || u[0].Allowed != 5 || u[0].Rows != 0+1+2+3+4 || u[0].Day != "2026-09-30" {
				t.Fatalf("developer usage = %+v, %v", u, err)
			}
			u, err = f.svc.Usage(ctx, f.other, datasets.UsageFilter{UserID: f.dev.ID})
			if err != nil || len(u) != 0 {
				t.Fatalf("another developer sees %+v, %v", u, err)
			}
			u, err = f.svc.Usage(ctx, f.foreigner, datasets.UsageFilter{})
			if err != nil || len(u) != 0 {
				t.Fatalf("another agency sees %+v, %v", u, err)
			}
			u, err = f.svc.Usage(ctx, f.reviewer, datasets.UsageFilter{})
			if err != nil || len(u) != 1 {
				t.Fatalf("own agency sees %+v, %v", u, err)
			}
		})
	})
}
