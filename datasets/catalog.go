package datasets

import (
	"context"
	"time"
)

// DatasetFilter selects entries for listing. Zero values select everything.
type DatasetFilter struct {
	AgencyID    string      // agency UUID
	States      []State     // any of these states
	OpenClasses []OpenClass // any of these classes
	Category    Category
	Frequency   Frequency
	Format      string // entries listing this format (case-insensitive)
	Sort        string // "updated" (newest first, default), "title", "created"
	Page        int    // 1-based; 0 means 1
	PerPage     int    // 0 means 20; capped at 1000
}

// Change records one change to an entry: who made it, when and what changed.
// Changes are kept for ever (Wenzhou art. 14: the list shows every change).
type Change struct {
	ID        int64     `json:"id"`
	DatasetID string    `json:"dataset_id"`
	Actor     string    `json:"actor"`  // user id or "system"
	Action    string    `json:"action"` // create, update, submit, publish, reject, withdraw, version
	Summary   string    `json:"summary,omitempty"`
	Diff      string    `json:"diff,omitempty"` // JSON object field -> [old,new]
	At        time.Time `json:"at"`
}

// OutboxEvent tells the search indexer that an entry changed. Events are
// written in the same transaction as the change itself and numbered in
// commit order.
type OutboxEvent struct {
	Seq       int64     `json:"seq"`
	DatasetID string    `json:"dataset_id"`
	At        time.Time `json:"at"`
}

// Catalog is the source of truth for agencies, entries and versions.
//
// Unless stated, methods return ENOTFOUND for a missing id or slug,
// ECONFLICT for a taken slug, EINVALID for a value the schema refuses and
// EUNAVAILABLE when the database cannot be reached.
type Catalog interface {
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error

	// CreateAgency stores a new agency; ID, CreatedAt and UpdatedAt are set if empty.
	CreateAgency(ctx context.Context, a *Agency) error
	// UpdateAgency changes name, description, website and contact.
	UpdateAgency(ctx context.Context, a *Agency) error
	// Agency returns the agency with this UUID or slug.
	Agency(ctx context.Context, idOrSlug string) (*Agency, error)
	// Agencies lists every agency by name.
	Agencies(ctx context.Context) ([]Agency, error)

	// CreateDataset stores a new entry, its first Change and an outbox event
	// in one transaction. ID and timestamps are set if empty.
	CreateDataset(ctx context.Context, d *Dataset, c Change) error
	// UpdateDataset replaces every editable field of the entry (not its id,
	// agency, versions or counters), appends c and an outbox event in one
	// transaction, and sets UpdatedAt (and PublishedAt on first publish).
	UpdateDataset(ctx context.Context, d *Dataset, c Change) error
	// Dataset returns any entry, in any state and class, by UUID or slug.
	// Only workflows that check the caller's rights may use it.
	Dataset(ctx context.Context, idOrSlug string) (*Dataset, error)
	// Datasets lists entries of any state and class and the total count.
	Datasets(ctx context.Context, f DatasetFilter) ([]Dataset, int, error)
	// PublicDataset returns an entry only if it is published and open or
	// conditional; every other entry is ENOTFOUND. The condition is part of
	// the query itself, so a closed entry has no path out of it.
	PublicDataset(ctx context.Context, idOrSlug string) (*Dataset, error)
	// PublicDatasets lists published open and conditional entries only,
	// whatever f says about states and classes beyond narrowing them.
	PublicDatasets(ctx context.Context, f DatasetFilter) ([]Dataset, int, error)
	// History lists the entry's changes, newest first.
	History(ctx context.Context, datasetID string) ([]Change, error)
	// CountUse adds to an entry's download and API-call counters.
	CountUse(ctx context.Context, datasetID string, downloads, apiCalls int64) error

	// CreateVersion stores a pending version with the next number for its
	// entry (Number is set by the store).
	CreateVersion(ctx context.Context, v *Version) error
	// FinishVersion records a version's final state. A ready version becomes
	// the entry's current version in the same transaction (with a Change and
	// an outbox event); a failed one keeps its Error and the current version
	// does not change. ECONFLICT if the version is not pending.
	FinishVersion(ctx context.Context, v *Version) error
	// Version returns one version of an entry by number.
	Version(ctx context.Context, datasetID string, number int) (*Version, error)
	// Versions lists an entry's versions, newest first.
	Versions(ctx context.Context, datasetID string) ([]Version, error)
	// PendingVersions lists versions of any entry still pending that were
	// created before before, oldest first, at most limit of them.
	PendingVersions(ctx context.Context, before time.Time, limit int) ([]Version, error)

	// Outbox returns up to limit events with Seq > after, in order.
	Outbox(ctx context.Context, after int64, limit int) ([]OutboxEvent, error)
	// Cursor returns the last applied outbox seq of a named consumer (0 if none).
	Cursor(ctx context.Context, name string) (int64, error)
	// SetCursor records the last applied outbox seq of a named consumer.
	SetCursor(ctx context.Context, name string, seq int64) error
}
