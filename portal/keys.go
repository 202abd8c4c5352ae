package portal

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"hash"
	"slices"
	"strings"
	"sync"
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
	m := serverMACs.get(s.Secret)
	defer serverMACs.put(m)
	sum := m.sumOf("kaifang api key\x00", secret)
	return sum[:]
}

// macState is an HMAC-SHA256 under one key, kept for reuse. hmac.New
// hashes the key into fresh inner and outer states on every call, which
// costs as much as hashing a short message and allocates; a state reused
// restores the keyed states saved on its first Reset instead. It holds
// what a key does (the keyed states are as good as the key), so it is
// never logged and is wiped of the message before it is pooled.
type macState struct {
	key []byte // a copy of the key it was made with
	mac hash.Hash
	buf []byte            // the message, copied from strings without a conversion each
	sum [sha256.Size]byte // Sum writes here, not into a new slice
}

// sumOf returns the HMAC of the concatenation of parts. It resets m
// first, so that each call hashes its parts alone.
func (m *macState) sumOf(parts ...string) [sha256.Size]byte {
	m.mac.Reset()
	m.buf = m.buf[:0]
	for _, p := range parts {
		m.buf = append(m.buf, p...)
	}
	m.mac.Write(m.buf)
	m.mac.Sum(m.sum[:0])
	return m.sum
}

// macPool keeps HMAC states for reuse. It is package-wide rather than
// per Service (Service has no constructor to make one, and a process has
// one secret), so each state remembers its key and one made under another
// is dropped, not used: a Service never hashes under another's secret.
type macPool struct{ p sync.Pool }

var (
	serverMACs macPool // under a Service's Secret: API keys, mask keys
	maskMACs   macPool // under an application's mask key: MaskHash
)

// get returns a state under key.
func (p *macPool) get(key []byte) *macState {
	if m, _ := p.p.Get().(*macState); m != nil && subtle.ConstantTimeCompare(m.key, key) == 1 {
		return m
	}
	return &macState{key: bytes.Clone(key), mac: hmac.New(sha256.New, key)}
}

// put wipes the last message and its sum (a presented API key, a masked
// value) and pools m; an unusually long message's buffer is not kept.
func (p *macPool) put(m *macState) {
	clear(m.buf)
	if cap(m.buf) > 1024 {
		m.buf = nil
	}
	clear(m.sum[:])
	p.p.Put(m)
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

// RevokeKey stops a key at once: this process forgets it, and every
// gateway's audit commit refuses its next use (see AuthenticateKey).
func (s *Service) RevokeKey(ctx context.Context, u *datasets.User, id string) error {
	if _, err := s.ownKey(ctx, u, id); err != nil {
		return err
	}
	defer s.ForgetKey(id)
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
	defer s.ForgetKey(old.ID)
	if err := s.Access.RevokeKey(ctx, old.ID, s.now()); err != nil {
		return "", nil, err
	}
	return secret, k, nil
}

// KeyAccess is an authenticated key with what it may reach. It may be
// shared by concurrent requests through the key cache: read it, never
// change it.
type KeyAccess struct {
	Key         *datasets.APIKey
	Application *datasets.Application
	Grants      []datasets.Grant // the key's grants, in force or not
}

// AuthenticateKey looks a presented key up by its keyed hash (an indexed
// lookup, no scan) and checks it. EUNAUTHORIZED for a key that does not
// exist, EFORBIDDEN (with the KeyAccess, so the refusal can be audited)
// for one revoked, expired or whose application is no longer approved.
//
// What a lookup found is cached in process for KeyCacheTTL, so the hot
// path costs no query. A revocation still holds at once on every gateway:
// the store re-checks each use's key, application and grant in the
// transaction that makes its audit record durable (datasets.Access
// AppendAudit), and the gateway sends nothing of a use refused there;
// RecordUse then drops the stale entry. Revocations through this Service
// drop it at once. Expiry is checked from the cached times on every call.
// Unknown keys are not cached: a key created through another process
// works at once, and guessed keys cannot fill the cache.
func (s *Service) AuthenticateKey(ctx context.Context, secret string) (*KeyAccess, error) {
	return s.AuthenticatePresented(ctx, s.PresentKey(secret))
}

// PresentedKey is a key as a request presented it, checked for shape and
// hashed once: a keyed request asks both KnownPresented (which limit
// applies) and AuthenticatePresented (may it pass), and the HMAC is the
// costliest step of either.
type PresentedKey struct {
	hash []byte // nil when the text is not shaped like a key
}

// PresentKey trims secret, checks its shape and hashes it.
func (s *Service) PresentKey(secret string) PresentedKey {
	secret = strings.TrimSpace(secret)
	if !strings.HasPrefix(secret, KeyPrefix) || len(secret) > 128 {
		return PresentedKey{}
	}
	return PresentedKey{hash: s.KeyHash(secret)}
}

// AuthenticatePresented is AuthenticateKey for a key already presented.
func (s *Service) AuthenticatePresented(ctx context.Context, p PresentedKey) (*KeyAccess, error) {
	if p.hash == nil {
		return nil, datasets.Errorf(datasets.EUNAUTHORIZED, "not an API key")
	}
	c := s.keyCache()
	ka := c.get(p.hash, time.Now())
	if ka == nil {
		var err error
		if ka, err = s.lookupKey(ctx, p.hash); err != nil {
			return nil, err
		}
		c.put(p.hash, ka, time.Now())
	}
	return ka, ka.check(s.now())
}

// KnownKey reports whether secret is a key admitted recently and, by what
// this process knows, still valid: the key cache only, no store. The
// gateway uses it to limit a request by the key's grant instead of by its
// address; AuthenticateKey still decides.
func (s *Service) KnownKey(secret string) bool { return s.KnownPresented(s.PresentKey(secret)) }

// KnownPresented is KnownKey for a key already presented.
func (s *Service) KnownPresented(p PresentedKey) bool {
	if p.hash == nil {
		return false
	}
	ka := s.keyCache().get(p.hash, time.Now())
	return ka != nil && ka.check(s.now()) == nil
}

// lookupKey reads a key with its application and grants from the store.
func (s *Service) lookupKey(ctx context.Context, h []byte) (*KeyAccess, error) {
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
	if k.RevokedAt != nil {
		return ka, nil // refused for good: what it reached does not matter
	}
	if ka.Application, err = s.Access.Application(ctx, k.ApplicationID); err != nil {
		return nil, err
	}
	grants, err := s.Access.Grants(ctx, k.ApplicationID)
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		if slices.Contains(k.GrantIDs, g.ID) {
			ka.Grants = append(ka.Grants, g)
		}
	}
	return ka, nil
}

// check refuses a key revoked, expired at now or whose application is not approved.
func (ka *KeyAccess) check(now time.Time) error {
	k := ka.Key
	if k.RevokedAt != nil {
		return datasets.Errorf(datasets.EFORBIDDEN, "API key %s was revoked", k.Prefix)
	}
	if !now.Before(k.ExpiresAt) {
		return datasets.Errorf(datasets.EFORBIDDEN, "API key %s expired at %s", k.Prefix, k.ExpiresAt.Format(time.RFC3339))
	}
	if ka.Application == nil || ka.Application.State != datasets.AppApproved {
		state := datasets.ApplicationState("unknown")
		if ka.Application != nil {
			state = ka.Application.State
		}
		return datasets.Errorf(datasets.EFORBIDDEN, "the application of API key %s is %s", k.Prefix, state)
	}
	return nil
}

// KeyCacheTTL is how long a looked-up key is reused before it is read
// again; KeyCacheSize bounds the cache.
const (
	KeyCacheTTL  = 30 * time.Second
	KeyCacheSize = 10000
)

// keyCache holds recently looked-up keys by hash.
type keyCache struct {
	mu     sync.Mutex
	byHash map[string]keyCacheEntry
}

type keyCacheEntry struct {
	ka    *KeyAccess
	until time.Time
}

// keyCacheInit guards the lazy creation of each Service's key cache
// (Service is a plain struct its users fill in, with no constructor).
var keyCacheInit sync.Mutex

func (s *Service) keyCache() *keyCache {
	keyCacheInit.Lock()
	defer keyCacheInit.Unlock()
	if s.keys == nil {
		s.keys = &keyCache{byHash: map[string]keyCacheEntry{}}
	}
	return s.keys
}

func (c *keyCache) get(h []byte, now time.Time) *KeyAccess {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byHash[string(h)]
	if !ok || !now.Before(e.until) {
		return nil
	}
	return e.ka
}

func (c *keyCache) put(h []byte, ka *KeyAccess, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byHash) >= KeyCacheSize {
		for k, e := range c.byHash {
			if !now.Before(e.until) {
				delete(c.byHash, k)
			}
		}
		// All fresh: drop an eighth, at random (map order), so a full
		// cache does not sweep on every miss.
		for k := range c.byHash {
			if len(c.byHash) < KeyCacheSize*7/8 {
				break
			}
			delete(c.byHash, k)
		}
	}
	c.byHash[string(h)] = keyCacheEntry{ka: ka, until: now.Add(KeyCacheTTL)}
}

// forget drops the entries whose key matches.
func (c *keyCache) forget(match func(*datasets.APIKey) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.byHash {
		if match(e.ka.Key) {
			delete(c.byHash, k)
		}
	}
}

// ForgetKey drops a key from this process's cache, so its next use is
// read from the store; revocations through the Service call it.
func (s *Service) ForgetKey(keyID string) {
	s.keyCache().forget(func(k *datasets.APIKey) bool { return k.ID == keyID })
}

// ForgetApplication drops every cached key of an application.
func (s *Service) ForgetApplication(applicationID string) {
	s.keyCache().forget(func(k *datasets.APIKey) bool { return k.ApplicationID == applicationID })
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
