package portal_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/sqlstore/sqltest"
	"kaifang/portal"
)

func TestPasswordHash(t *testing.T) {
	h, err := portal.HashPassword("密码 correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(h) {
		t.Errorf("hash %q is not a PHC argon2id string with salt and key", h)
	}
	h2, _ := portal.HashPassword("密码 correct horse")
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if !portal.CheckPassword(h, "密码 correct horse") {
		t.Error("the right password does not match")
	}
	parts := strings.Split(h, "$")
	// The first character of the key changed to another one: it holds the key's top six bits, so any change
	// changes the key (a last character could differ only in padding bits).
	other := "A"
	if parts[5][0] == 'A' {
		other = "B"
	}
	cases := map[string]struct{ hash, pw string }{
		"wrong password":    {h, "密码 correct horsf"},
		"empty password":    {h, ""},
		"empty hash":        {"", ""},
		"other algorithm":   {strings.Replace(h, "argon2id", "argon2i", 1), "密码 correct horse"},
		"huge memory":       {strings.Join([]string{"", parts[1], parts[2], "m=99999999,t=1,p=1", parts[4], parts[5]}, "$"), "x"},
		"zero time":         {strings.Join([]string{"", parts[1], parts[2], "m=1024,t=0,p=1", parts[4], parts[5]}, "$"), "x"},
		"bad salt encoding": {strings.Join([]string{"", parts[1], parts[2], parts[3], "!!!", parts[5]}, "$"), "x"},
		"truncated":         {strings.Join(parts[:5], "$"), "密码 correct horse"},
		"changed key":       {strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], other + parts[5][1:]}, "$"), "密码 correct horse"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if portal.CheckPassword(c.hash, c.pw) {
				t.Errorf("CheckPassword(%q, %q) = true", c.hash, c.pw)
			}
		})
	}
}

func TestAddUser(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		e := MustEnv(t, url)
		ctx := context.Background()
		cases := []struct {
			name, agency, email, pw string
			role                    datasets.Role
			code                    string
		}{
			{"publisher of a known agency", "transport-bureau", "p2@example.org", testPassword, datasets.RolePublisher, ""},
			{"reviewer without agency", "", "r2@example.org", testPassword, datasets.RoleReviewer, datasets.EINVALID},
			{"publisher of an unknown agency", "nowhere", "p3@example.org", testPassword, datasets.RolePublisher, datasets.EINVALID},
			{"developer with an agency", "transport-bureau", "d2@example.org", testPassword, datasets.RoleDeveloper, datasets.EINVALID},
			{"short password", "", "d3@example.org", "short", datasets.RoleDeveloper, datasets.EINVALID},
			{"unknown role", "", "d4@example.org", testPassword, "superuser", datasets.EINVALID},
			{"email taken in another case", "", "PUBA@example.org", testPassword, datasets.RoleDeveloper, datasets.ECONFLICT},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				u, err := e.svc.AddUser(ctx, c.role, c.agency, c.email, "x", c.pw)
				wantCode(t, err, c.code)
				if c.code == "" && (u.AgencyID != e.agA.ID || u.PasswordHash == testPassword || !portal.CheckPassword(u.PasswordHash, c.pw)) {
					t.Errorf("stored user %+v", u)
				}
			})
		}
		t.Run("ensure admin", func(t *testing.T) {
			a, err := e.svc.EnsureAdmin(ctx, "root@example.org", testPassword)
			if err != nil || a.Role != datasets.RoleAdmin {
				t.Fatalf("ensure admin: %+v %v", a, err)
			}
			again, err := e.svc.EnsureAdmin(ctx, "root@example.org", "another password entirely")
			if err != nil || again.ID != a.ID {
				t.Fatalf("second ensure: %+v %v; want the same user", again, err)
			}
			if _, _, _, err := e.svc.Login(ctx, "root@example.org", testPassword, "10.0.0.1", ""); err != nil {
				t.Errorf("the first password no longer signs in after a second EnsureAdmin: %v", err)
			}
		})
	})
}

func TestTokens(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		e := MustEnv(t, url)
		ctx := context.Background()
		plain, tok, err := e.svc.CreateToken(ctx, e.dev.ID, "laptop", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^kf_pat_[A-Za-z0-9_-]{43}$`).MatchString(plain) {
			t.Errorf("token %q is not kf_pat_ + 256 random bits", plain)
		}
		if strings.Contains(tok.Hash, plain) || tok.Hash == "" || !strings.HasPrefix(plain, tok.Prefix) {
			t.Errorf("stored token %+v for %q", tok, plain)
		}
		var stored int
		if err := e.store.DB().QueryRowContext(ctx, `SELECT count(*) FROM tokens WHERE hash = '`+plain+`' OR prefix = '`+plain+`'`).Scan(&stored); err != nil || stored != 0 {
			t.Errorf("the plain token is stored (%d rows, %v)", stored, err)
		}
		u, err := e.svc.Authenticate(ctx, plain)
		if err != nil || u.ID != e.dev.ID {
			t.Fatalf("authenticate: %+v %v", u, err)
		}
		ts, _ := e.svc.Tokens(ctx, e.dev)
		if len(ts) != 1 || ts[0].LastUsedAt == nil {
			t.Errorf("tokens after use: %+v; want one with last_used_at", ts)
		}

		bad := map[string]string{
			"empty":             "",
			"no prefix":         strings.TrimPrefix(plain, "kf_pat_") + "1234567",
			"one character off": plain[:len(plain)-1] + string(plain[len(plain)-1]^1),
			"too long":          plain + "A",
			"sql in token":      "kf_pat_' OR '1'='1' --aaaaaaaaaaaaaaaaaaaaaaaa",
		}
		for name, tk := range bad {
			t.Run(name, func(t *testing.T) {
				_, err := e.svc.Authenticate(ctx, tk)
				wantCode(t, err, datasets.EUNAUTHORIZED)
			})
		}

		t.Run("another secret", func(t *testing.T) {
			other := *e.svc
			other.Secret = []byte("a different secret of enough bytes")
			_, err := other.Authenticate(ctx, plain)
			wantCode(t, err, datasets.EUNAUTHORIZED)
		})
		t.Run("expiry", func(t *testing.T) {
			e.clock.Add(time.Hour + time.Second)
			defer e.clock.Add(-time.Hour - time.Second)
			_, err := e.svc.Authenticate(ctx, plain)
			wantCode(t, err, datasets.EUNAUTHORIZED)
		})
		t.Run("revocation", func(t *testing.T) {
			p2, t2, err := e.svc.CreateToken(ctx, e.dev.ID, "ci", 0)
			if err != nil {
				t.Fatal(err)
			}
			if t2.ExpiresAt == nil || !t2.ExpiresAt.Equal(e.clock.Now().Add(portal.DefaultTokenTTL)) {
				t.Errorf("default expiry %v", t2.ExpiresAt)
			}
			wantCode(t, e.svc.RevokeToken(ctx, e.pubA, t2.ID), datasets.ENOTFOUND)
			if _, err := e.svc.Authenticate(ctx, p2); err != nil {
				t.Fatalf("another user's revocation attempt broke the token: %v", err)
			}
			wantCode(t, e.svc.RevokeToken(ctx, e.dev, t2.ID), "")
			_, err = e.svc.Authenticate(ctx, p2)
			wantCode(t, err, datasets.EUNAUTHORIZED)
			if _, err := e.svc.Authenticate(ctx, plain); err != nil {
				t.Errorf("revoking one token revoked another: %v", err)
			}
		})
		t.Run("disabled user", func(t *testing.T) {
			p3, _, err := e.svc.CreateToken(ctx, e.pubB.ID, "x", 0)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := e.store.User(ctx, e.pubB.ID)
			now := e.clock.Now()
			u.DisabledAt = &now
			if err := e.store.UpdateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			_, err = e.svc.Authenticate(ctx, p3)
			wantCode(t, err, datasets.EUNAUTHORIZED)
		})
	})
}

func TestLoginThrottle(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		e := MustEnv(t, url)
		ctx := context.Background()
		plain, tok, u, err := e.svc.Login(ctx, "PubA@example.org", testPassword, "10.0.0.1", "")
		if err != nil || u.ID != e.pubA.ID || tok == nil {
			t.Fatalf("login: %v", err)
		}
		if got, err := e.svc.Authenticate(ctx, plain); err != nil || got.ID != e.pubA.ID {
			t.Fatalf("the login token does not authenticate: %v", err)
		}
		for i := range portal.LoginFailureLimit {
			_, _, _, err := e.svc.Login(ctx, "puba@example.org", "wrong password!", "10.0.0.1", "")
			if !datasets.IsCode(err, datasets.EUNAUTHORIZED) {
				t.Fatalf("failure %d: got %v, want EUNAUTHORIZED", i+1, err)
			}
			e.clock.Add(time.Minute)
		}
		_, _, _, err = e.svc.Login(ctx, "puba@example.org", testPassword, "10.0.0.1", "")
		wantCode(t, err, datasets.ERATELIMIT)
		if ra := portal.RetryAfter(err); ra <= 0 || ra > portal.LoginFailureWindow {
			t.Errorf("retry after %v, want within the window", ra)
		}
		// A second process on the same database sees the same failures.
		other := *e.svc
		_, _, _, err = other.Login(ctx, "puba@example.org", testPassword, "10.0.0.1", "")
		wantCode(t, err, datasets.ERATELIMIT)
		// Another address is not throttled by this one's failures.
		if _, _, _, err := e.svc.Login(ctx, "puba@example.org", testPassword, "10.0.0.2", ""); err != nil {
			t.Errorf("login from another address: %v", err)
		}
		// Unknown emails are counted too, and answer like a wrong password.
		_, _, _, err = e.svc.Login(ctx, "ghost@example.org", testPassword, "10.0.0.1", "")
		wantCode(t, err, datasets.EUNAUTHORIZED)
		// Once the oldest failure leaves the window, sign-in works again.
		e.clock.Add(portal.LoginFailureWindow - 4*time.Minute)
		if _, _, _, err := e.svc.Login(ctx, "puba@example.org", testPassword, "10.0.0.1", ""); err != nil {
			t.Errorf("login after the window: %v", err)
		}
	})
}
