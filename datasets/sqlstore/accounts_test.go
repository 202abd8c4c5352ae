package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/sqlstore/sqltest"
)

func mustAgency(tb testing.TB, c datasets.Catalog, slug string) *datasets.Agency {
	tb.Helper()
	a := &datasets.Agency{Slug: slug, Name: "Agency " + slug}
	if err := c.CreateAgency(context.Background(), a); err != nil {
		tb.Fatalf("create agency %s: %v", slug, err)
	}
	return a
}

func TestAccountsUsers(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := sqltest.MustOpen(t, url)
		a := mustAgency(t, s, "transport-bureau")

		u := &datasets.User{Email: " Pub@Example.ORG ", Name: "出版者", Role: datasets.RolePublisher, AgencyID: a.ID, PasswordHash: "$argon2id$x"}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("create user: %v", err)
		}
		if u.Email != "pub@example.org" {
			t.Errorf("email stored as %q, want lower-cased and trimmed", u.Email)
		}
		got, err := s.UserByEmail(ctx, "PUB@example.org")
		if err != nil {
			t.Fatalf("user by email: %v", err)
		}
		if got.ID != u.ID || got.Role != datasets.RolePublisher || got.AgencyID != a.ID || got.PasswordHash != "$argon2id$x" || got.Name != "出版者" {
			t.Errorf("read back %+v, want %+v", got, u)
		}
		if !got.CreatedAt.Equal(u.CreatedAt) {
			t.Errorf("created_at %v, want %v", got.CreatedAt, u.CreatedAt)
		}

		dup := &datasets.User{Email: "pub@example.org", Role: datasets.RoleDeveloper}
		if err := s.CreateUser(ctx, dup); !datasets.IsCode(err, datasets.ECONFLICT) {
			t.Errorf("second user with the same email: got %v, want ECONFLICT", err)
		}

		bad := []struct {
			name string
			u    datasets.User
		}{
			{"publisher without agency", datasets.User{Email: "a@b.c", Role: datasets.RolePublisher}},
			{"developer with agency", datasets.User{Email: "a@b.c", Role: datasets.RoleDeveloper, AgencyID: a.ID}},
			{"unknown role", datasets.User{Email: "a@b.c", Role: "root"}},
			{"no email", datasets.User{Email: "nobody", Role: datasets.RoleDeveloper}},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				u := tc.u
				if err := s.CreateUser(ctx, &u); !datasets.IsCode(err, datasets.EINVALID) {
					t.Errorf("got %v, want EINVALID", err)
				}
			})
		}

		dis := time.Now().UTC().Truncate(time.Second)
		got.DisabledAt = &dis
		got.Name = "renamed"
		if err := s.UpdateUser(ctx, got); err != nil {
			t.Fatalf("update user: %v", err)
		}
		again, err := s.User(ctx, u.ID)
		if err != nil {
			t.Fatalf("user by id: %v", err)
		}
		if again.Active() || again.Name != "renamed" {
			t.Errorf("after update: active=%v name=%q, want disabled and renamed", again.Active(), again.Name)
		}
		if _, err := s.User(ctx, "not-a-uuid"); !datasets.IsCode(err, datasets.ENOTFOUND) {
			t.Errorf("user with a malformed id: got %v, want ENOTFOUND", err)
		}
		if _, err := s.UserByEmail(ctx, "ghost@example.org"); !datasets.IsCode(err, datasets.ENOTFOUND) {
			t.Errorf("missing email: got %v, want ENOTFOUND", err)
		}
		us, err := s.Users(ctx)
		if err != nil || len(us) != 1 {
			t.Errorf("users: %d, %v; want 1", len(us), err)
		}
	})
}

func TestAccountsTokens(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := sqltest.MustOpen(t, url)
		u := &datasets.User{Email: "dev@example.org", Role: datasets.RoleDeveloper}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		exp := time.Now().Add(time.Hour).UTC()
		tok := &datasets.Token{UserID: u.ID, Name: "laptop", Prefix: "kf_pat_abcd", Hash: "h1", ExpiresAt: &exp}
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatalf("create token: %v", err)
		}
		if err := s.CreateToken(ctx, &datasets.Token{UserID: u.ID, Prefix: "kf_pat_x", Hash: "h1"}); !datasets.IsCode(err, datasets.ECONFLICT) {
			t.Errorf("same hash twice: got %v, want ECONFLICT", err)
		}
		got, err := s.TokenByHash(ctx, "h1")
		if err != nil {
			t.Fatalf("token by hash: %v", err)
		}
		if got.ID != tok.ID || got.ExpiresAt == nil || !got.ExpiresAt.Equal(*tok.ExpiresAt) || got.Name != "laptop" {
			t.Errorf("read back %+v, want %+v", got, tok)
		}
		if _, err := s.TokenByHash(ctx, "nope"); !datasets.IsCode(err, datasets.ENOTFOUND) {
			t.Errorf("unknown hash: got %v, want ENOTFOUND", err)
		}
		used := time.Now().UTC()
		if err := s.TouchToken(ctx, tok.ID, used); err != nil {
			t.Fatal(err)
		}
		other := &datasets.User{Email: "other@example.org", Role: datasets.RoleDeveloper}
		if err := s.CreateUser(ctx, other); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeToken(ctx, other.ID, tok.ID, used); !datasets.IsCode(err, datasets.ENOTFOUND) {
			t.Errorf("revoking another user's token: got %v, want ENOTFOUND", err)
		}
		first := used.Add(time.Minute)
		if err := s.RevokeToken(ctx, u.ID, tok.ID, first); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		if err := s.RevokeToken(ctx, u.ID, tok.ID, first.Add(time.Hour)); err != nil {
			t.Fatalf("revoke again: %v", err)
		}
		ts, err := s.Tokens(ctx, u.ID)
		if err != nil || len(ts) != 1 {
			t.Fatalf("tokens: %v %v", ts, err)
		}
		if ts[0].RevokedAt == nil || !ts[0].RevokedAt.Equal(first.Truncate(time.Microsecond)) {
			t.Errorf("revoked_at %v, want the first revocation %v", ts[0].RevokedAt, first)
		}
		if ts[0].LastUsedAt == nil || ts[0].Usable(time.Now()) {
			t.Errorf("token after use and revocation: last used %v, usable %v", ts[0].LastUsedAt, ts[0].Usable(time.Now()))
		}
	})
}

func TestAccountsLoginFailures(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := sqltest.MustOpen(t, url)
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		for i := range 3 {
			if err := s.RecordLoginFailure(ctx, "a@b.c|1.2.3.4", t0.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RecordLoginFailure(ctx, "other", t0); err != nil {
			t.Fatal(err)
		}
		n, oldest, err := s.LoginFailures(ctx, "a@b.c|1.2.3.4", t0.Add(30*time.Second))
		if err != nil || n != 2 || !oldest.Equal(t0.Add(time.Minute)) {
			t.Errorf("failures since +30s: n=%d oldest=%v err=%v; want 2 from %v", n, oldest, err, t0.Add(time.Minute))
		}
		if err := s.ClearLoginFailures(ctx, "a@b.c|1.2.3.4", t0); err != nil {
			t.Fatal(err)
		}
		if n, _, _ := s.LoginFailures(ctx, "a@b.c|1.2.3.4", t0.Add(-time.Hour)); n != 0 {
			t.Errorf("after clearing: %d failures, want 0", n)
		}
		if n, _, _ := s.LoginFailures(ctx, "other", t0.Add(-time.Hour)); n != 1 {
			t.Errorf("another key's failures: %d, want 1 kept", n)
		}
	})
}

func TestAccountsReviews(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := sqltest.MustOpen(t, url)
		a := mustAgency(t, s, "health")
		d := &datasets.Dataset{Slug: "clinics", Title: "診所", Agency: a.Ref(), Category: datasets.Healthcare,
			OpenClass: datasets.Open, Frequency: datasets.Monthly, State: datasets.InReview}
		if err := s.CreateDataset(ctx, d, datasets.Change{Actor: "system"}); err != nil {
			t.Fatal(err)
		}
		r := &datasets.Review{DatasetID: d.ID, ReviewerID: "rev", Decision: datasets.Reject,
			Legality: datasets.ReviewCheck{OK: true, Note: "合法"}, Privacy: datasets.ReviewCheck{OK: false, Note: "含身份證號"},
			Reason: "privacy"}
		if err := s.AddReview(ctx, r); err != nil {
			t.Fatalf("add review: %v", err)
		}
		r2 := &datasets.Review{DatasetID: d.ID, ReviewerID: "rev", Decision: datasets.Approve, At: r.At.Add(time.Second),
			Legality: datasets.ReviewCheck{OK: true, Note: "ok"}, Confidentiality: datasets.ReviewCheck{OK: true, Note: "ok"}, Privacy: datasets.ReviewCheck{OK: true, Note: "masked"}}
		if err := s.AddReview(ctx, r2); err != nil {
			t.Fatal(err)
		}
		rs, err := s.Reviews(ctx, d.ID)
		if err != nil || len(rs) != 2 {
			t.Fatalf("reviews: %v %v", rs, err)
		}
		if rs[0].ID != r2.ID || rs[1].Privacy != r.Privacy || rs[1].Legality != r.Legality || rs[1].Confidentiality.OK {
			t.Errorf("reviews read back %+v", rs)
		}
		if err := s.AddReview(ctx, &datasets.Review{DatasetID: d.ID, Decision: "maybe"}); !datasets.IsCode(err, datasets.EINVALID) {
			t.Errorf("unknown decision: got %v, want EINVALID", err)
		}
		if err := s.AddReview(ctx, &datasets.Review{DatasetID: "6f1c1a8e-0000-4000-8000-000000000000", Decision: datasets.Approve}); !datasets.IsCode(err, datasets.ENOTFOUND) {
			t.Errorf("review of a missing entry: got %v, want ENOTFOUND", err)
		}
	})
}
