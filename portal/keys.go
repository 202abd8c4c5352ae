package portal

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"slices"
	"strings"
	"time"

	"kaifang/datasets"
)

// KeyPrefix starts every API key, so that leaked keys are recognisable
// to secret scanners and people alike.
const KeyPrefix = "kf_"

var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// KeyHash is the stored form of a key: HMAC-SHA256 under the server
// secret, so a copy of the database alone cannot be used to call the API.
func (s *Service) KeyHash(secret string) []byte {
	m := hmac.New(sha256.New, s.Secret)
	m.Write([]byte("kaifang api key\x00"))
	m.Write([]byte(secret))
	return m.Sum(nil)
}

func newKeySecret() (string, error) {
	var b [32]byte // 256 bits
	if _, err := rand.Read(b[:]); err != nil {
		return "", datasets.Wrap(err, datasets.EINTERNAL, "no randomness for a key")
	}
	return KeyPrefix + strings.ToLower(keyEncoding.EncodeToString(b[:])), nil
}

// CreateKey makes a key for one of the user's approved applications, bound
// to its grants and expiring with the last of them. The secret is returned
// once and never stored.
func (s *Service) CreateKey(ctx context.Context, u *datasets.User, applicationID, name string) (string, *datasets.APIKey, error) {
	if err := needUser(u); err != nil {
		return "", nil, err
	}
	if len(s.Secret) < 16 {
		return "", nil, datasets.Errorf(datasets.EINTERNAL, "the server secret is not configured")
	}
	a, err := s.Access.Application(ctx, applicationID)
	if err != nil {
		return "", nil, err
	}
	if a.ApplicantID != u.ID {
		return "", nil, datasets.Errorf(datasets.ENOTFOUND, "no such application")
	}
	if a.State != datasets.AppApproved {
		return "", nil, datasets.Errorf(datasets.ECONFLICT, "application is %s: keys are issued for approved applications only", a.State)
	}
	grants, err := s.Access.Grants(ctx, a.ID)
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	k := &datasets.APIKey{Name: strings.TrimSpace(name), UserID: u.ID, ApplicationID: a.ID, CreatedAt: now}
	for _, g := range grants {
		if g.RevokedAt != nil || !now.Before(g.To) {
			continue
		}
		k.GrantIDs = append(k.GrantIDs, g.ID)
		if g.To.After(k.ExpiresAt) {
			k.ExpiresAt = g.To
		}
	}
	if len(k.GrantIDs) == 0 {
		return "", nil, datasets.Errorf(datasets.ECONFLICT, "the application has no grant left in force")
	}
	if len([]rune(k.Name)) > 100 {
		return "", nil, invalid("name", "at most 100 characters")
	}
	secret, err := newKeySecret()
	if err != nil {
		return "", nil, err
	}
	k.Hash = s.KeyHash(secret)
	k.Prefix = secret[:len(KeyPrefix)+8]
	if err := s.Access.CreateKey(ctx, k); err != nil {
		return "", nil, err
	}
	return secret, k, nil
}

// Keys lists the user's keys (never their secrets).
func (s *Service) Keys(ctx context.Context, u *datasets.User) ([]datasets.APIKey, error) {
	if err := needUser(u); err != nil {
		return nil, err
	}
	return s.Access.Keys(ctx, u.ID)
}

func (s *Service) ownKey(ctx context.Context, u *datasets.User, id string) (*datasets.APIKey, error) {
	if err := needUser(u); err != nil {
		return nil, err
	}
	k, err := s.Access.Key(ctx, id)
	if err != nil {
		return nil, err
	}
	if k.UserID != u.ID && u.Role != datasets.RoleAdmin {
		return nil, datasets.Errorf(datasets.ENOTFOUND, "no such key")
	}
	return k, nil
}

// RevokeKey stops a key at once: gateways look keys up on every request.
func (s *Service) RevokeKey(ctx context.Context, u *datasets.User, id string) error {
	if _, err := s.ownKey(ctx, u, id); err != nil {
		return err
	}
	return s.Access.RevokeKey(ctx, id, s.now())
}

// RotateKey issues a new key with the same name and application and
// revokes the old one.
func (s *Service) RotateKey(ctx context.Context, u *datasets.User, id string) (string, *datasets.APIKey, error) {
	old, err := s.ownKey(ctx, u, id)
	if err != nil {
		return "", nil, err
	}
	if old.RevokedAt != nil {
		return "", nil, datasets.Errorf(datasets.ECONFLICT, "key is revoked: create a new one")
	}
	secret, k, err := s.CreateKey(ctx, u, old.ApplicationID, old.Name)
	if err != nil {
		return "", nil, err
	}
	if err := s.Access.RevokeKey(ctx, old.ID, s.now()); err != nil {
		return "", nil, err
	}
	return secret, k, nil
}

// KeyAccess is an authenticated key with what it may reach.
type KeyAccess struct {
	Key         *datasets.APIKey
	Application *datasets.Application
	Grants      []datasets.Grant // the key's grants, in force or not
}

// AuthenticateKey looks a presented key up by its keyed hash (an indexed
// lookup, no scan, no in-process cache: a revocation holds on every
// gateway at once). EUNAUTHORIZED for a key that does not exist,
// EFORBIDDEN for one revoked, expired or whose application is no longer approved.
func (s *Service) AuthenticateKey(ctx context.Context, secret string) (*KeyAccess, error) {
	secret = strings.TrimSpace(secret)
	if !strings.HasPrefix(secret, KeyPrefix) || len(secret) > 128 {
		return nil, datasets.Errorf(datasets.EUNAUTHORIZED, "not an API key")
	}
	h := s.KeyHash(secret)
	k, err := s.Access.KeyByHash(ctx, h)
	if datasets.IsCode(err, datasets.ENOTFOUND) {
		return nil, datasets.Errorf(datasets.EUNAUTHORIZED, "unknown API key")
	}
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(k.Hash, h) {
		return nil, datasets.Errorf(datasets.EUNAUTHORIZED, "unknown API key")
	}
	ka := &KeyAccess{Key: k}
	now := s.now()
	if k.RevokedAt != nil {
		return ka, datasets.Errorf(datasets.EFORBIDDEN, "API key %s was revoked", k.Prefix)
	}
	if !now.Before(k.ExpiresAt) {
		return ka, datasets.Errorf(datasets.EFORBIDDEN, "API key %s expired at %s", k.Prefix, k.ExpiresAt.Format(time.RFC3339))
	}
	if ka.Application, err = s.Access.Application(ctx, k.ApplicationID); err != nil {
		return ka, err
	}
	if ka.Application.State != datasets.AppApproved {
		return ka, datasets.Errorf(datasets.EFORBIDDEN, "the application of API key %s is %s", k.Prefix, ka.Application.State)
	}
	grants, err := s.Access.Grants(ctx, k.ApplicationID)
	if err != nil {
		return ka, err
	}
	for _, g := range grants {
		if slices.Contains(k.GrantIDs, g.ID) {
			ka.Grants = append(ka.Grants, g)
		}
	}
	return ka, nil
}

// GrantFor returns the grant in force that opens the entry in the mode;
// EFORBIDDEN says why there is none.
func (ka *KeyAccess) GrantFor(datasetID string, mode datasets.AccessMode, now time.Time) (*datasets.Grant, error) {
	var found bool
	for i := range ka.Grants {
		g := &ka.Grants[i]
		if g.DatasetID != datasetID {
			continue
		}
		found = true
		if !g.ActiveAt(now) {
			continue
		}
		if slices.Contains(g.Modes, mode) {
			return g, nil
		}
		return nil, datasets.Errorf(datasets.EFORBIDDEN, "the grant of this key does not include mode %s", mode)
	}
	if found {
		return nil, datasets.Errorf(datasets.EFORBIDDEN, "the grant of this key for this entry is not in force")
	}
	return nil, datasets.Errorf(datasets.EFORBIDDEN, "this key has no grant for this entry")
}

// CheckFields returns EFORBIDDEN naming every asked field outside the grant.
func CheckFields(g *datasets.Grant, asked []string) error {
	var out []string
	for _, f := range asked {
		if !slices.Contains(g.Fields, f) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil
	}
	ps := make([]datasets.Problem, len(out))
	for i, f := range out {
		ps[i] = datasets.Problem{Field: f, Message: "not granted"}
	}
	return &datasets.Error{Code: datasets.EFORBIDDEN, Message: "fields not granted to this key: " + strings.Join(out, ", "), Problems: ps}
}
