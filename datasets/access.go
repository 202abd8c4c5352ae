package datasets

import (
	"context"
	"time"
)

// ApplicationState is where an application for conditional data stands.
type ApplicationState string

const (
	AppSubmitted ApplicationState = "submitted"
	AppApproved  ApplicationState = "approved"
	AppRejected  ApplicationState = "rejected"
	AppWithdrawn ApplicationState = "withdrawn"
	AppExpired   ApplicationState = "expired" // its period ended
	AppRevoked   ApplicationState = "revoked" // an approved application withdrawn by the agency
)

// ApplicationStates lists every state in workflow order.
var ApplicationStates = []ApplicationState{AppSubmitted, AppApproved, AppRejected, AppWithdrawn, AppExpired, AppRevoked}

// AccessRequest is what an application asks of one conditional entry: only
// the fields its scenario needs (Shanghai art. 28) and the modes wanted.
type AccessRequest struct {
	DatasetID string       `json:"dataset_id"`
	Fields    []string     `json:"fields"`
	Modes     []AccessMode `json:"modes"`
}

// Application is a developer's request for conditional entries of one
// agency, for a stated scenario and period.
type Application struct {
	ID          string           `json:"id"`
	ApplicantID string           `json:"applicant_id"` // user id
	AgencyID    string           `json:"agency_id"`    // every requested entry belongs to it
	Scenario    string           `json:"scenario"`     // 應用場景
	Purpose     string           `json:"purpose"`
	Requests    []AccessRequest  `json:"requests"`
	From        time.Time        `json:"from"`
	To          time.Time        `json:"to"`
	Volume      string           `json:"expected_volume,omitempty"` // e.g. "10000 calls/day"
	State       ApplicationState `json:"state"`
	DueAt       time.Time        `json:"due_at"` // answer deadline, in working days
	DecidedAt   *time.Time       `json:"decided_at,omitempty"`
	DecidedBy   string           `json:"decided_by,omitempty"`
	Reason      string           `json:"reason,omitempty"` // of the last decision
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
}

// ApplicationEvent records one change of an application's state, kept for ever.
type ApplicationEvent struct {
	ID            int64            `json:"id"`
	ApplicationID string           `json:"application_id"`
	Actor         string           `json:"actor"` // user id or "system"
	From          ApplicationState `json:"from,omitempty"`
	To            ApplicationState `json:"to"`
	Reason        string           `json:"reason,omitempty"`
	At            time.Time        `json:"at"`
}

// MaskRule says how a granted field is masked (脫敏, Zhejiang art. 22).
type MaskRule string

const (
	MaskNone    MaskRule = ""        // served as stored
	MaskIDCard  MaskRule = "id_card" // 110101********1234
	MaskMobile  MaskRule = "mobile"  // 138****5678
	MaskName    MaskRule = "name"    // 張*, 歐陽**
	MaskAddress MaskRule = "address" // the first few characters, then ***
	MaskHash    MaskRule = "hash"    // keyed hash: joinable, not reversible
)

// MaskRules lists every rule that may be chosen.
var MaskRules = []MaskRule{MaskNone, MaskIDCard, MaskMobile, MaskName, MaskAddress, MaskHash}

// Rate periods of a grant.
const (
	PerSecond = "second"
	PerMinute = "minute"
	PerDay    = "day"
	PerMonth  = "month"
)

// Grant is what an approved application opens on one entry: the fields,
// modes and masking, limits and period a reviewer decided.
type Grant struct {
	ID            string              `json:"id"`
	ApplicationID string              `json:"application_id"`
	HolderID      string              `json:"holder_id"` // the applicant
	AgencyID      string              `json:"agency_id"`
	DatasetID     string              `json:"dataset_id"`
	Fields        []string            `json:"fields"`
	Modes         []AccessMode        `json:"modes"`
	Masks         map[string]MaskRule `json:"masks,omitempty"` // field -> rule
	Rate          int64               `json:"rate"`            // requests per RatePeriod; > 0
	RatePeriod    string              `json:"rate_period"`     // second or minute
	Quota         int64               `json:"quota"`           // requests per QuotaPeriod; > 0
	QuotaPeriod   string              `json:"quota_period"`    // day or month
	From          time.Time           `json:"from"`
	To            time.Time           `json:"to"`
	RevokedAt     *time.Time          `json:"revoked_at,omitempty"`
	CreatedAt     time.Time           `json:"created_at"`
}

// ActiveAt reports whether the grant may be used at t.
func (g *Grant) ActiveAt(t time.Time) bool {
	return g != nil && g.RevokedAt == nil && !t.Before(g.From) && t.Before(g.To)
}

// APIKey is a developer's key bound to the grants of one application. Only
// the keyed hash of the secret is stored; the secret is shown once.
type APIKey struct {
	ID            string     `json:"id"`
	Prefix        string     `json:"prefix"` // kf_ and the first characters: recognisable, not secret
	Hash          []byte     `json:"-"`      // HMAC-SHA256 of the whole key under the server secret
	Name          string     `json:"name"`
	UserID        string     `json:"user_id"`
	ApplicationID string     `json:"application_id"`
	GrantIDs      []string   `json:"grant_ids"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
}

// AuditRecord is one use of conditional data (Shanghai art. 24): kept in a
// hash chain so that altering or deleting a record is detected.
type AuditRecord struct {
	Seq           int64      `json:"seq"`
	At            time.Time  `json:"at"`
	KeyID         string     `json:"key_id"`
	UserID        string     `json:"user_id"`
	ApplicationID string     `json:"application_id"`
	GrantID       string     `json:"grant_id,omitempty"`
	AgencyID      string     `json:"agency_id"`
	DatasetID     string     `json:"dataset_id"`
	Mode          AccessMode `json:"mode"`
	Fields        []string   `json:"fields"`
	Filter        string     `json:"filter,omitempty"`
	Rows          int64      `json:"rows"`
	Status        int        `json:"status"`
	RequestID     string     `json:"request_id,omitempty"`
	PrevHash      string     `json:"prev_hash"`
	Hash          string     `json:"hash"`
}

// Usage counts conditional requests for one key, grant and entry on one day
// (Asia/Shanghai).
type Usage struct {
	Day       string `json:"day"` // YYYY-MM-DD
	KeyID     string `json:"key_id"`
	GrantID   string `json:"grant_id"`
	DatasetID string `json:"dataset_id"`
	Requests  int64  `json:"requests"`
	Allowed   int64  `json:"allowed"` // answered 2xx
	Rows      int64  `json:"rows"`
}

// ApplicationFilter selects applications; zero values select everything.
type ApplicationFilter struct {
	ApplicantID string
	AgencyID    string
	States      []ApplicationState
}

// UsageFilter selects usage rows; zero values select everything.
type UsageFilter struct {
	UserID    string
	AgencyID  string
	DatasetID string
	KeyID     string
	From, To  string // YYYY-MM-DD, inclusive; "" is open
}

// Access stores applications for conditional data, grants, API keys, usage
// and the audit chain (see portal).
//
// Unless stated, methods return ENOTFOUND for a missing id, EINVALID for a
// value the schema refuses and EUNAVAILABLE when the store cannot be reached.
type Access interface {
	// CreateApplication stores a new application with its first event; ID
	// and timestamps are set if empty.
	CreateApplication(ctx context.Context, a *Application, e ApplicationEvent) error
	// Application returns one application.
	Application(ctx context.Context, id string) (*Application, error)
	// Applications lists applications by due date, oldest first.
	Applications(ctx context.Context, f ApplicationFilter) ([]Application, error)
	// DecideApplication moves a from state `from` to a.State, recording
	// DecidedAt/By and Reason, the event and any grants, in one transaction.
	// ECONFLICT if the application is no longer in state from.
	DecideApplication(ctx context.Context, a *Application, from ApplicationState, e ApplicationEvent, grants []Grant) error
	// ApplicationEvents lists an application's events, oldest first.
	ApplicationEvents(ctx context.Context, id string) ([]ApplicationEvent, error)

	// Grants lists the grants of an application.
	Grants(ctx context.Context, applicationID string) ([]Grant, error)
	// RevokeGrants marks every grant of an application revoked at t.
	RevokeGrants(ctx context.Context, applicationID string, t time.Time) error

	// CreateKey stores a key; ECONFLICT if its hash is taken.
	CreateKey(ctx context.Context, k *APIKey) error
	// KeyByHash finds a key by the HMAC of its secret, through an index.
	KeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	// Key returns one key by id.
	Key(ctx context.Context, id string) (*APIKey, error)
	// Keys lists a user's keys, newest first.
	Keys(ctx context.Context, userID string) ([]APIKey, error)
	// RevokeKey marks a key revoked at t; revoking twice keeps the first time.
	RevokeKey(ctx context.Context, id string, t time.Time) error

	// AppendAudit appends r to the chain: Seq, PrevHash and Hash are set by
	// the store, and the record is durable when AppendAudit returns nil or
	// EFORBIDDEN. Concurrent appends may share one commit (group commit);
	// the chain stays gap-free and ordered across every process sharing
	// the store.
	//
	// If ctx ends before r joins a commit, AppendAudit returns an
	// EUNAVAILABLE error wrapping ctx.Err() and r is not written; once r
	// is in a commit it waits for that commit's outcome. Any other error
	// means r was not written.
	//
	// A keyed record (KeyID set) is confirmed in the commit's transaction:
	// the key must not be revoked, its application must be approved and
	// its grant (GrantID, when set) not revoked. Keys and grants are never
	// deleted, so an id the store never issued is not checked. If the
	// check fails, r is written with Status 403 and Rows 0 and AppendAudit
	// returns EFORBIDDEN saying why: the caller must refuse the request
	// with 403 and send none of its data (a request refused for another
	// reason, say 429, becomes a 403 too). This is what makes a revocation
	// hold at once on every gateway although gateways cache keys. Expiry
	// is not re-checked here: gateways check it from the key's and the
	// grant's times.
	AppendAudit(ctx context.Context, r *AuditRecord) error
	// AuditRecords returns up to limit records with Seq > after, in order.
	AuditRecords(ctx context.Context, after int64, limit int) ([]AuditRecord, error)
	// Usage sums audit records per day, key, grant and entry.
	Usage(ctx context.Context, f UsageFilter) ([]Usage, error)
}
