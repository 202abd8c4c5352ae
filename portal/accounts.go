package portal

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"kaifang/datasets"
)

// TokenPrefix starts every personal access token, so that secret scanners
// and people can recognise one.
const TokenPrefix = "kf_pat_"

// tokenLen is the length of a token: the prefix and 32 random bytes in
// unpadded base64url.
var tokenLen = len(TokenPrefix) + base64.RawURLEncoding.EncodedLen(32)

// Login throttling: this many failures per email and address within the
// window refuse further attempts until the oldest failure leaves it.
const (
	LoginFailureLimit  = 5
	LoginFailureWindow = 15 * time.Minute
)

// DefaultTokenTTL is how long a token made at sign-in lives.
const DefaultTokenTTL = 30 * 24 * time.Hour

// MinPasswordLen is the shortest password accepted (in characters).
const MinPasswordLen = 10

// retryAfter rides in the cause chain of an ERATELIMIT error so the
// gateway can send Retry-After without parsing the message.
type retryAfter struct{ d time.Duration }

func (r *retryAfter) Error() string { return fmt.Sprintf("retry after %s", r.d) }

// RetryAfter returns how long the caller should wait before trying again,
// for errors that say so, and 0 otherwise.
func RetryAfter(err error) time.Duration {
	var r *retryAfter
	if errors.As(err, &r) {
		return r.d
	}
	return 0
}

func (s *Service) accounts() (datasets.Accounts, error) {
	if s.Accounts == nil {
		return nil, datasets.Errorf(datasets.EUNAVAILABLE, "accounts are not configured")
	}
	return s.Accounts, nil
}

func validPassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return &datasets.Error{Code: datasets.EINVALID, Message: fmt.Sprintf("password must be at least %d characters", MinPasswordLen),
			Problems: []datasets.Problem{{Field: "password", Message: fmt.Sprintf("must be at least %d characters", MinPasswordLen)}}}
	}
	if len(pw) > 1024 {
		return datasets.Errorf(datasets.EINVALID, "password is too long")
	}
	return nil
}

// AddUser creates a user with a role; publishers and reviewers are bound to
// the agency agencySlug (a slug or id), others to none. The email must be
// free (ECONFLICT otherwise).
func (s *Service) AddUser(ctx context.Context, role datasets.Role, agencySlug, email, name, password string) (*datasets.User, error) {
	acc, err := s.accounts()
	if err != nil {
		return nil, err
	}
	if !role.Valid() {
		return nil, datasets.Errorf(datasets.EINVALID, "role must be admin, publisher, reviewer or developer")
	}
	u := &datasets.User{Email: strings.TrimSpace(email), Name: strings.TrimSpace(name), Role: role, CreatedAt: s.now()}
	switch {
	case role.NeedsAgency() && agencySlug == "":
		return nil, datasets.Errorf(datasets.EINVALID, "a %s belongs to one agency: name it", role)
	case role.NeedsAgency():
		a, err := s.Catalog.Agency(ctx, agencySlug)
		if err != nil {
			if datasets.IsCode(err, datasets.ENOTFOUND) {
				return nil, datasets.Errorf(datasets.EINVALID, "agency %q does not exist", agencySlug)
			}
			return nil, err
		}
		u.AgencyID = a.ID
	case agencySlug != "":
		return nil, datasets.Errorf(datasets.EINVALID, "only publishers and reviewers belong to an agency")
	}
	if err := validPassword(password); err != nil {
		return nil, err
	}
	if u.PasswordHash, err = HashPassword(password); err != nil {
		return nil, err
	}
	if err := acc.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// Register creates a developer account: anyone may.
func (s *Service) Register(ctx context.Context, email, name, password string) (*datasets.User, error) {
	return s.AddUser(ctx, datasets.RoleDeveloper, "", email, name, password)
}

// EnsureAdmin makes sure the first data-authority account exists (from the
// environment at start). An existing account with this email is made admin
// and keeps its password: the environment must not silently reset one that
// was changed since.
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) (*datasets.User, error) {
	acc, err := s.accounts()
	if err != nil {
		return nil, err
	}
	u, err := acc.UserByEmail(ctx, email)
	switch {
	case err == nil:
		if u.Role != datasets.RoleAdmin || u.AgencyID != "" {
			u.Role, u.AgencyID = datasets.RoleAdmin, ""
			if err := acc.UpdateUser(ctx, u); err != nil {
				return nil, err
			}
		}
		return u, nil
	case datasets.IsCode(err, datasets.ENOTFOUND):
		u, err := s.AddUser(ctx, datasets.RoleAdmin, "", email, "Administrator", password)
		if datasets.IsCode(err, datasets.ECONFLICT) { // another process won the race
			return acc.UserByEmail(ctx, email)
		}
		return u, err
	}
	return nil, err
}

// tokenHash is the stored form of a token: HMAC-SHA256 under the service
// secret, so a copy of the database alone cannot be replayed.
func (s *Service) tokenHash(plain string) (string, error) {
	if len(s.Secret) < 16 {
		return "", datasets.Errorf(datasets.EINTERNAL, "no token secret configured")
	}
	m := hmac.New(sha256.New, s.Secret)
	m.Write([]byte(plain))
	return hex.EncodeToString(m.Sum(nil)), nil
}

// CreateToken issues a personal access token for the user. plain is shown
// once and never stored; ttl <= 0 means DefaultTokenTTL.
func (s *Service) CreateToken(ctx context.Context, userID, name string, ttl time.Duration) (string, *datasets.Token, error) {
	acc, err := s.accounts()
	if err != nil {
		return "", nil, err
	}
	u, err := acc.User(ctx, userID)
	if err != nil {
		return "", nil, err
	}
	if !u.Active() {
		return "", nil, datasets.Errorf(datasets.EFORBIDDEN, "the account is disabled")
	}
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	if utf8.RuneCountInString(name) > 100 {
		return "", nil, datasets.Errorf(datasets.EINVALID, "token name is longer than 100 characters")
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, datasets.Wrap(err, datasets.EINTERNAL, "no randomness")
	}
	plain := TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	h, err := s.tokenHash(plain)
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	exp := now.Add(ttl)
	t := &datasets.Token{UserID: u.ID, Name: strings.TrimSpace(name), Prefix: plain[:len(TokenPrefix)+6], Hash: h, CreatedAt: now, ExpiresAt: &exp}
	if err := acc.CreateToken(ctx, t); err != nil {
		return "", nil, err
	}
	return plain, t, nil
}

var errBadToken = datasets.Errorf(datasets.EUNAUTHORIZED, "the token is unknown, expired or revoked")

// Authenticate returns the active user a personal access token belongs to.
// Unknown, malformed, expired and revoked tokens are all EUNAUTHORIZED with
// the same message, so the answer says nothing about which it was.
func (s *Service) Authenticate(ctx context.Context, token string) (*datasets.User, error) {
	acc, err := s.accounts()
	if err != nil {
		return nil, err
	}
	if len(token) != tokenLen || !strings.HasPrefix(token, TokenPrefix) {
		return nil, errBadToken
	}
	h, err := s.tokenHash(token)
	if err != nil {
		return nil, err
	}
	t, err := acc.TokenByHash(ctx, h)
	if datasets.IsCode(err, datasets.ENOTFOUND) {
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	// The index found it; compare anyway in constant time so a database
	// collation or prefix match can never pass a different token.
	if !hmac.Equal([]byte(t.Hash), []byte(h)) || !t.Usable(s.now()) {
		return nil, errBadToken
	}
	u, err := acc.User(ctx, t.UserID)
	if datasets.IsCode(err, datasets.ENOTFOUND) {
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	if !u.Active() {
		return nil, errBadToken
	}
	if err := acc.TouchToken(ctx, t.ID, s.now()); err != nil {
		s.log().Warn("recording token use", "token", t.ID, "err", err)
	}
	return u, nil
}

// Login checks an email and password and issues a new token. Failures are
// counted per email and client address in the database, so the limit holds
// across processes; past LoginFailureLimit in LoginFailureWindow the answer
// is ERATELIMIT (see RetryAfter) whatever the password.
func (s *Service) Login(ctx context.Context, email, password, clientIP, tokenName string) (string, *datasets.Token, *datasets.User, error) {
	acc, err := s.accounts()
	if err != nil {
		return "", nil, nil, err
	}
	email = strings.ToLower(strings.TrimSpace(email))
	key := email + "|" + clientIP
	now := s.now()
	n, oldest, err := acc.LoginFailures(ctx, key, now.Add(-LoginFailureWindow))
	if err != nil {
		return "", nil, nil, err
	}
	if n >= LoginFailureLimit {
		wait := oldest.Add(LoginFailureWindow).Sub(now).Round(time.Second)
		if wait < time.Second {
			wait = time.Second
		}
		return "", nil, nil, &datasets.Error{Code: datasets.ERATELIMIT,
			Message: fmt.Sprintf("too many failed sign-ins; try again in %d seconds", int(wait.Seconds())), Err: &retryAfter{wait}}
	}
	u, err := acc.UserByEmail(ctx, email)
	if err != nil && !datasets.IsCode(err, datasets.ENOTFOUND) {
		return "", nil, nil, err
	}
	ok := false
	if u != nil {
		ok = CheckPassword(u.PasswordHash, password)
	} else {
		CheckPassword(dummyHash(), password) // same work whether or not the email exists
	}
	if !ok || !u.Active() {
		if err := acc.RecordLoginFailure(ctx, key, now); err != nil {
			return "", nil, nil, err
		}
		return "", nil, nil, datasets.Errorf(datasets.EUNAUTHORIZED, "wrong email or password")
	}
	if err := acc.ClearLoginFailures(ctx, key, now.Add(-LoginFailureWindow)); err != nil {
		s.log().Warn("clearing login failures", "err", err)
	}
	if tokenName == "" {
		tokenName = "login"
	}
	plain, t, err := s.CreateToken(ctx, u.ID, tokenName, DefaultTokenTTL)
	if err != nil {
		return "", nil, nil, err
	}
	return plain, t, u, nil
}

// Tokens lists the user's own tokens (never their secrets).
func (s *Service) Tokens(ctx context.Context, actor *datasets.User) ([]datasets.Token, error) {
	acc, err := s.accounts()
	if err != nil {
		return nil, err
	}
	if actor == nil {
		return nil, errSignIn
	}
	return acc.Tokens(ctx, actor.ID)
}

// RevokeToken revokes one of the actor's own tokens; another user's token
// is ENOTFOUND.
func (s *Service) RevokeToken(ctx context.Context, actor *datasets.User, tokenID string) error {
	acc, err := s.accounts()
	if err != nil {
		return err
	}
	if actor == nil {
		return errSignIn
	}
	return acc.RevokeToken(ctx, actor.ID, tokenID, s.now())
}

// UserByEmail returns a user for the command line (tokens create --email).
func (s *Service) UserByEmail(ctx context.Context, email string) (*datasets.User, error) {
	acc, err := s.accounts()
	if err != nil {
		return nil, err
	}
	return acc.UserByEmail(ctx, email)
}
