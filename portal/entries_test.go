package portal_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/sqlstore/sqltest"
	"kaifang/portal"
)

func TestEntryPermissions(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		e := MustEnv(t, url)
		ctx := context.Background()
		type action func(u *datasets.User) error
		n := 0
		fresh := func(class datasets.OpenClass) *datasets.Dataset {
			n++
			return e.MustEntry(t, e.agA, fmt.Sprintf("entry-%d", n), class)
		}
		actions := map[string]action{
			"create": func(u *datasets.User) error {
				_, err := e.svc.CreateEntry(ctx, u, e.agA.Slug, portal.EntryFields{Title: ptr("新条目 " + u.Name)})
				return err
			},
			"update": func(u *datasets.User) error {
				_, err := e.svc.UpdateEntry(ctx, u, fresh(datasets.Open).ID, portal.EntryFields{Description: ptr("改")})
				return err
			},
			"submit": func(u *datasets.User) error {
				_, err := e.svc.SubmitEntry(ctx, u, fresh(datasets.Open).ID)
				return err
			},
			"review": func(u *datasets.User) error {
				d := fresh(datasets.Open)
				if _, err := e.svc.SubmitEntry(ctx, e.admin, d.ID); err != nil {
					t.Fatal(err)
				}
				_, err := e.svc.ReviewEntry(ctx, u, d.ID, approve)
				return err
			},
			"withdraw": func(u *datasets.User) error {
				_, err := e.svc.WithdrawEntry(ctx, u, fresh(datasets.Open).ID, "obsolete")
				return err
			},
			"history": func(u *datasets.User) error {
				_, err := e.svc.History(ctx, u, fresh(datasets.Open).ID)
				return err
			},
			"internal list": func(u *datasets.User) error {
				_, _, err := e.svc.AgencyEntries(ctx, u, e.agA.Slug, datasets.DatasetFilter{})
				return err
			},
			"closed entry history": func(u *datasets.User) error {
				_, err := e.svc.History(ctx, u, fresh(datasets.Closed).ID)
				return err
			},
		}
		F, N, ok := datasets.EFORBIDDEN, datasets.ENOTFOUND, ""
		want := map[string]map[string]string{ // action -> user -> code
			"create":               {"admin": ok, "pubA": ok, "revA": F, "pubB": F, "revB": F, "dev": F},
			"update":               {"admin": ok, "pubA": ok, "revA": F, "pubB": N, "revB": N, "dev": N},
			"submit":               {"admin": ok, "pubA": ok, "revA": F, "pubB": N, "revB": N, "dev": N},
			"review":               {"admin": ok, "pubA": F, "revA": ok, "pubB": N, "revB": N, "dev": N},
			"withdraw":             {"admin": ok, "pubA": ok, "revA": F, "pubB": N, "revB": N, "dev": N},
			"history":              {"admin": ok, "pubA": ok, "revA": ok, "pubB": N, "revB": N, "dev": N},
			"internal list":        {"admin": ok, "pubA": ok, "revA": ok, "pubB": F, "revB": F, "dev": F},
			"closed entry history": {"admin": ok, "pubA": ok, "revA": ok, "pubB": N, "revB": N, "dev": N},
		}
		for name, act := range actions {
			for user, code := range want[name] {
				t.Run(strings.ReplaceAll(name, " ", "_")+"_by_"+user, func(t *testing.T) {
					wantCode(t, act(e.byName[user]), code)
				})
			}
		}
		t.Run("no user", func(t *testing.T) {
			_, err := e.svc.CreateEntry(ctx, nil, e.agA.Slug, portal.EntryFields{Title: ptr("x")})
			wantCode(t, err, datasets.EUNAUTHORIZED)
		})
		t.Run("published entry of another agency is forbidden, not hidden", func(t *testing.T) {
			d := e.MustPublish(t, e.MustEntry(t, e.agA, "public-one", datasets.Open))
			_, err := e.svc.UpdateEntry(ctx, e.pubB, d.ID, portal.EntryFields{Title: ptr("hijack")})
			wantCode(t, err, datasets.EFORBIDDEN)
		})
	})
}

func TestEntryChangesAndReview(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		e := MustEnv(t, url)
		ctx := context.Background()
		d, err := e.svc.CreateEntry(ctx, e.pubA, e.agA.Slug, portal.EntryFields{Title: ptr("公交线路"), Frequency: ptr(datasets.Daily),
			Formats: ptr([]string{"CSV", "json", "csv"})})
		if err != nil {
			t.Fatal(err)
		}
		if d.State != datasets.Draft || !strings.HasPrefix(d.Slug, "ds-") || strings.Join(d.Formats, ",") != "csv,json" {
			t.Fatalf("created %+v", d)
		}
		t.Run("conditional without legal basis", func(t *testing.T) {
			_, err := e.svc.UpdateEntry(ctx, e.pubA, d.ID, portal.EntryFields{OpenClass: ptr(datasets.Conditional)})
			wantCode(t, err, datasets.EINVALID)
			ps := datasets.ErrorProblems(err)
			if len(ps) != 2 {
				t.Errorf("problems %v, want reason and legal_basis", ps)
			}
		})
		d, err = e.svc.UpdateEntry(ctx, e.pubA, d.ID, portal.EntryFields{Title: ptr("公交线路表"), Description: ptr("全市")})
		if err != nil {
			t.Fatal(err)
		}
		h, err := e.svc.History(ctx, e.revA, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Changes) != 2 || h.Changes[0].Actor != e.pubA.ID || !strings.Contains(h.Changes[0].Diff, `"title":["公交线路","公交线路表"]`) {
			t.Errorf("history %+v; want the edit with a title diff", h.Changes)
		}
		if _, err := e.svc.UpdateEntry(ctx, e.pubA, d.ID, portal.EntryFields{Title: ptr("公交线路表")}); err != nil {
			t.Fatal(err)
		}
		if h2, _ := e.svc.History(ctx, e.admin, d.ID); len(h2.Changes) != 2 {
			t.Errorf("an edit that changes nothing was recorded: %d changes", len(h2.Changes))
		}

		_, err = e.svc.ReviewEntry(ctx, e.revA, d.ID, approve)
		wantCode(t, err, datasets.ECONFLICT) // still a draft
		if _, err := e.svc.SubmitEntry(ctx, e.pubA, d.ID); err != nil {
			t.Fatal(err)
		}
		incomplete := []struct {
			name string
			in   portal.ReviewInput
		}{
			{"no privacy check", portal.ReviewInput{Decision: "approve", Legality: approve.Legality, Confidentiality: approve.Confidentiality}},
			{"a failed check", portal.ReviewInput{Decision: "approve", Legality: approve.Legality, Confidentiality: approve.Confidentiality, Privacy: &datasets.ReviewCheck{OK: false, Note: "有身份证号"}}},
			{"a check without note", portal.ReviewInput{Decision: "approve", Legality: approve.Legality, Confidentiality: &datasets.ReviewCheck{OK: true}, Privacy: approve.Privacy}},
			{"reject without reason", portal.ReviewInput{Decision: "reject"}},
			{"unknown decision", portal.ReviewInput{Decision: "maybe"}},
		}
		for _, c := range incomplete {
			t.Run(c.name, func(t *testing.T) {
				_, err := e.svc.ReviewEntry(ctx, e.revA, d.ID, c.in)
				wantCode(t, err, datasets.EINVALID)
			})
		}
		rej, err := e.svc.ReviewEntry(ctx, e.revA, d.ID, portal.ReviewInput{Decision: "reject", Reason: "字段说明不全"})
		if err != nil || rej.State != datasets.Draft {
			t.Fatalf("reject: %v %v", rej, err)
		}
		e.clock.Add(time.Minute)
		if _, err := e.svc.SubmitEntry(ctx, e.pubA, d.ID); err != nil {
			t.Fatal(err)
		}
		pub, err := e.svc.ReviewEntry(ctx, e.revA, d.ID, approve)
		if err != nil || pub.State != datasets.Published || pub.PublishedAt == nil {
			t.Fatalf("approve: %+v %v", pub, err)
		}
		h, _ = e.svc.History(ctx, e.pubA, d.ID)
		if len(h.Reviews) != 2 || h.Reviews[0].Decision != "approve" || h.Reviews[1].Reason != "字段说明不全" || h.Reviews[0].Privacy.Note != "无个人信息" {
			t.Errorf("reviews %+v", h.Reviews)
		}
		if h.Changes[0].Action != "publish" || h.Changes[2].Action != "reject" || !strings.Contains(h.Changes[2].Summary, "字段说明不全") {
			t.Errorf("changes %+v", h.Changes)
		}
		l, err := e.svc.PublicOpenList(ctx, e.agA.Slug)
		if err != nil || l.Total != 1 || l.Items[0].Slug != d.Slug || l.Items[0].LastChange.IsZero() || l.Items[0].NextDue == nil {
			t.Errorf("public list %+v %v", l, err)
		}
		_, err = e.svc.UpdateEntry(ctx, e.pubA, d.ID, portal.EntryFields{OpenClass: ptr(datasets.Closed), Reason: ptr("r"), LegalBasis: ptr("l")})
		wantCode(t, err, datasets.EFORBIDDEN)
		if _, err := e.svc.WithdrawEntry(ctx, e.pubA, d.ID, "停止更新"); err != nil {
			t.Fatal(err)
		}
		if l, _ := e.svc.PublicOpenList(ctx, e.agA.Slug); l.Total != 0 {
			t.Errorf("a withdrawn entry is still on the public list")
		}
		q, n, err := e.svc.EntryReviewQueue(ctx, e.revB, 1, 10)
		if err != nil || n != 0 || len(q) != 0 {
			t.Errorf("agency B's queue holds agency A's entries: %v %d %v", q, n, err)
		}
	})
}

func TestClosedNeverPublished(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		e := MustEnv(t, url)
		ctx := context.Background()
		d := e.MustEntry(t, e.agA, "secret-list", datasets.Closed)
		_, err := e.svc.SubmitEntry(ctx, e.admin, d.ID)
		wantCode(t, err, datasets.EFORBIDDEN)
		// Even pushed into review behind the service's back, approval refuses it.
		d.State = datasets.InReview
		if err := e.store.UpdateDataset(ctx, d, datasets.Change{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.ReviewEntry(ctx, e.admin, d.ID, approve)
		wantCode(t, err, datasets.EFORBIDDEN)
		got, _ := e.store.Dataset(ctx, d.ID)
		if got.State == datasets.Published {
			t.Fatal("a closed entry was published")
		}
		items, total, err := e.svc.AgencyEntries(ctx, e.pubA, e.agA.Slug, datasets.DatasetFilter{})
		if err != nil || total != 1 || items[0].OpenClass != datasets.Closed {
			t.Errorf("the internal list lacks the closed entry: %v %d %v", items, total, err)
		}
		if l, _ := e.svc.PublicOpenList(ctx, e.agA.Slug); l.Total != 0 {
			t.Errorf("the closed entry is on the public list")
		}
	})
}
