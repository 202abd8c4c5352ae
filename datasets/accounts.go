package datasets

import (
	"context"
	"slices"
	"time"
)

// Role is what a user may do on the platform.
type Role string

const (
	// RoleAdmin is the data authority: every agency, every entry, users.
	RoleAdmin Role = "admin"
	// RolePublisher keeps up the open list of one agency.
	RolePublisher Role = "publisher"
	// RoleReviewer records the opening review of one agency's entries.
	RoleReviewer Role = "reviewer"
	// RoleDeveloper is anyone who registered: applies for data, holds keys.
	RoleDeveloper Role = "developer"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleAdmin, RolePublisher, RoleReviewer, RoleDeveloper}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// NeedsAgency reports whether users of the role are bound to one agency.
func (r Role) NeedsAgency() bool { return r == RolePublisher || r == RoleReviewer }

// User is a person with an account. Email is stored lower-cased and is unique.
type User struct {
	ID           string     `json:"id"`
	Email        string     `json:"email"`
	Name         string     `json:"name"`
	Role         Role       `json:"role"`
	AgencyID     string     `json:"agency_id,omitempty"` // publishers and reviewers only
	PasswordHash string     `json:"-"`                   // argon2id, PHC string form
	CreatedAt    time.Time  `json:"created_at"`
	DisabledAt   *time.Time `json:"disabled_at,omitempty"`
}

// Active reports whether the user may sign in.
func (u *User) Active() bool { return u != nil && u.DisabledAt == nil }

// Token is a personal access token. The token itself is shown once; only
// its HMAC (Hash) is stored, and Prefix (its first characters) lets a user
// tell tokens apart in a listing.
type Token struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Usable reports whether the token may authenticate at t.
func (t *Token) Usable(at time.Time) bool {
	return t != nil && t.RevokedAt == nil && (t.ExpiresAt == nil || at.Before(*t.ExpiresAt))
}

// ReviewCheck is one of the three checks of an opening review.
type ReviewCheck struct {
	OK   bool   `json:"ok"`
	Note string `json:"note"`
}

// Review decisions.
const (
	Approve = "approve"
	Reject  = "reject"
)

// Review is the record of one opening review of an entry (Zhejiang art. 26;
// Shanghai art. 43 保密審查): legality, confidentiality and privacy, each
// checked with a note, and the decision.
type Review struct {
	ID              string      `json:"id"`
	DatasetID       string      `json:"dataset_id"`
	ReviewerID      string      `json:"reviewer_id"`
	Decision        string      `json:"decision"` // Approve or Reject
	Legality        ReviewCheck `json:"legality"`
	Confidentiality ReviewCheck `json:"confidentiality"`
	Privacy         ReviewCheck `json:"privacy"`
	Reason          string      `json:"reason,omitempty"`
	At              time.Time   `json:"at"`
}

// Accounts stores users, personal access tokens, failed sign-ins and
// opening-review records (see portal, which owns the rules around them).
//
// Unless stated, methods return ENOTFOUND for a missing id, ECONFLICT for a
// taken email, EINVALID for a value the schema refuses and EUNAVAILABLE when
// the database cannot be reached.
type Accounts interface {
	// CreateUser stores a new user; ID and CreatedAt are set if empty and
	// Email is lower-cased. ECONFLICT if the email is taken.
	CreateUser(ctx context.Context, u *User) error
	// UpdateUser changes name, role, agency, password hash and disabled time.
	UpdateUser(ctx context.Context, u *User) error
	// User returns the user with this id.
	User(ctx context.Context, id string) (*User, error)
	// UserByEmail returns the user with this email (any case).
	UserByEmail(ctx context.Context, email string) (*User, error)
	// Users lists every user by email.
	Users(ctx context.Context) ([]User, error)

	// CreateToken stores a token; ID and CreatedAt are set if empty.
	// ECONFLICT if the hash is already stored.
	CreateToken(ctx context.Context, t *Token) error
	// TokenByHash finds a token by its HMAC through an index, whatever its
	// state; the caller checks expiry and revocation.
	TokenByHash(ctx context.Context, hash string) (*Token, error)
	// Tokens lists a user's tokens, newest first.
	Tokens(ctx context.Context, userID string) ([]Token, error)
	// RevokeToken marks the user's token revoked at t. ENOTFOUND if the
	// token is not the user's; revoking twice keeps the first time.
	RevokeToken(ctx context.Context, userID, tokenID string, t time.Time) error
	// TouchToken records that the token was used at t.
	TouchToken(ctx context.Context, tokenID string, t time.Time) error

	// LoginFailures counts the failed sign-ins recorded under key since
	// since, and returns the oldest of them (zero when none).
	LoginFailures(ctx context.Context, key string, since time.Time) (int, time.Time, error)
	// RecordLoginFailure records a failed sign-in under key at t.
	RecordLoginFailure(ctx context.Context, key string, t time.Time) error
	// ClearLoginFailures forgets the failures under key (after a success)
	// and every failure older than before, under any key.
	ClearLoginFailures(ctx context.Context, key string, before time.Time) error

	// AddReview stores an opening-review record; ID and At are set if empty.
	AddReview(ctx context.Context, r *Review) error
	// Reviews lists an entry's review records, newest first (none is not an error).
	Reviews(ctx context.Context, datasetID string) ([]Review, error)
}
