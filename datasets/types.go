package datasets

import (
	"regexp"
	"slices"
	"strings"
	"time"
)

// OpenClass is an entry's open class (開放類型, Shanghai 2018 art. 30).
type OpenClass string

const (
	Open        OpenClass = "open"        // 無條件開放: anyone downloads it
	Conditional OpenClass = "conditional" // 有條件開放: only through a reviewed grant
	Closed      OpenClass = "closed"      // 非開放: never served, listed, searched or exported
)

// OpenClasses lists the classes in display order.
var OpenClasses = []OpenClass{Open, Conditional, Closed}

// Public reports whether entries of the class may appear on any public surface.
func (c OpenClass) Public() bool { return c == Open || c == Conditional }

// Category is the high-value category of an entry (Shanghai art. 31; Shenyang).
type Category string

// The nine high-value categories, in the order the regulations list them, then Other.
const (
	Credit         Category = "credit"          // 信用
	Transport      Category = "transport"       // 交通
	Healthcare     Category = "healthcare"      // 醫療
	Employment     Category = "employment"      // 就業
	SocialSecurity Category = "social_security" // 社保
	Education      Category = "education"       // 教育
	Environment    Category = "environment"     // 環境
	Weather        Category = "weather"         // 氣象
	Enterprise     Category = "enterprise"      // 企業登記監管
	Other          Category = "other"
)

// Categories lists every category, high-value first.
var Categories = []Category{Credit, Transport, Healthcare, Employment, SocialSecurity, Education, Environment, Weather, Enterprise, Other}

// HighValue reports whether the category is one of the nine that open first.
func (c Category) HighValue() bool { return c != Other && slices.Contains(Categories, c) }

// CategoryNames gives the traditional Chinese name of each category.
var CategoryNames = map[Category]string{
	Credit: "信用", Transport: "交通", Healthcare: "醫療衛生", Employment: "就業",
	SocialSecurity: "社會保障", Education: "教育", Environment: "生態環境", Weather: "氣象",
	Enterprise: "企業登記監管", Other: "其他",
}

// Frequency is an entry's update frequency (更新頻率).
type Frequency string

const (
	Realtime  Frequency = "realtime"
	Daily     Frequency = "daily"
	Weekly    Frequency = "weekly"
	Monthly   Frequency = "monthly"
	Quarterly Frequency = "quarterly"
	Yearly    Frequency = "yearly"
	Irregular Frequency = "irregular"
)

// Frequencies lists every frequency, most frequent first.
var Frequencies = []Frequency{Realtime, Daily, Weekly, Monthly, Quarterly, Yearly, Irregular}

// Period returns how long an entry of this frequency may go without a new
// version before it is overdue; 0 for irregular (never overdue).
func (f Frequency) Period() time.Duration {
	switch f {
	case Realtime:
		return 24 * time.Hour // a realtime feed silent for a day is late
	case Daily:
		return 24 * time.Hour
	case Weekly:
		return 7 * 24 * time.Hour
	case Monthly:
		return 31 * 24 * time.Hour
	case Quarterly:
		return 92 * 24 * time.Hour
	case Yearly:
		return 366 * 24 * time.Hour
	}
	return 0
}

// NextDue returns when an entry last updated at last is next due, and false
// for frequencies that are never due.
func (f Frequency) NextDue(last time.Time) (time.Time, bool) {
	switch f {
	case Realtime, Daily:
		return last.AddDate(0, 0, 1), true
	case Weekly:
		return last.AddDate(0, 0, 7), true
	case Monthly:
		return last.AddDate(0, 1, 0), true
	case Quarterly:
		return last.AddDate(0, 3, 0), true
	case Yearly:
		return last.AddDate(1, 0, 0), true
	}
	return time.Time{}, false
}

// AccessMode is a way conditional data is opened (Wenzhou art. 12).
type AccessMode string

const (
	Verify AccessMode = "verify" // 比對驗證: match / no match only
	Query  AccessMode = "query"  // 查詢引用: records through the API
	Bulk   AccessMode = "bulk"   // 批量複製: whole files
)

// AccessModes lists every mode, request–response first (Shanghai art. 25).
var AccessModes = []AccessMode{Verify, Query, Bulk}

// State is an entry's place in the opening workflow (Zhejiang art. 26).
type State string

const (
	Draft     State = "draft"
	InReview  State = "in_review"
	Published State = "published"
	Withdrawn State = "withdrawn"
)

// States lists every entry state in workflow order.
var States = []State{Draft, InReview, Published, Withdrawn}

// FieldType is the type of one column of tabular data.
type FieldType string

const (
	TypeInteger  FieldType = "integer"
	TypeDecimal  FieldType = "decimal"
	TypeBoolean  FieldType = "boolean"
	TypeDate     FieldType = "date"
	TypeDatetime FieldType = "datetime"
	TypeText     FieldType = "text"
)

// FieldTypes lists every field type.
var FieldTypes = []FieldType{TypeInteger, TypeDecimal, TypeBoolean, TypeDate, TypeDatetime, TypeText}

// Field describes one field (數據項) of an entry's schema.
type Field struct {
	Name        string    `json:"name"`
	Type        FieldType `json:"type"`
	Description string    `json:"description,omitempty"`
}

// AgencyRef is the short form of an agency embedded in an entry.
type AgencyRef struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// Agency is a public management and service body that publishes an open list.
type Agency struct {
	ID          string    `json:"id"`
	Slug        string    `json:"slug"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Website     string    `json:"website,omitempty"`
	Contact     string    `json:"contact,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Ref returns the short form of a.
func (a Agency) Ref() AgencyRef { return AgencyRef{ID: a.ID, Slug: a.Slug, Name: a.Name} }

// Dataset is one entry of an agency's open list (數據開放清單條目).
type Dataset struct {
	ID             string       `json:"id"`
	Slug           string       `json:"slug"`
	Title          string       `json:"title"`
	Description    string       `json:"description"`
	Agency         AgencyRef    `json:"agency"`
	Category       Category     `json:"category"`
	OpenClass      OpenClass    `json:"open_class"`
	Frequency      Frequency    `json:"frequency"`
	Formats        []string     `json:"formats"`
	Tags           []string     `json:"tags"`
	Fields         []Field      `json:"fields"`
	AccessModes    []AccessMode `json:"access_modes"`
	LegalBasis     string       `json:"legal_basis,omitempty"`
	Reason         string       `json:"reason,omitempty"`
	State          State        `json:"state"`
	License        string       `json:"license,omitempty"`
	CurrentVersion *Version     `json:"current_version"`
	Downloads      int64        `json:"downloads"`
	APICalls       int64        `json:"api_calls"`
	CreatedAt      time.Time    `json:"created_at"`
	UpdatedAt      time.Time    `json:"updated_at"`
	PublishedAt    *time.Time   `json:"published_at,omitempty"`
}

// IsPublic reports whether the entry may be shown on any public surface:
// published and of a public open class. Closed entries never are.
func (d *Dataset) IsPublic() bool {
	return d != nil && d.State == Published && d.OpenClass.Public()
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,98}[a-z0-9]$`)

// ValidSlug reports whether s is a usable slug: 2–100 of a-z, 0-9 and inner hyphens.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// Validate checks an entry's own fields and returns an EINVALID error with
// one Problem per wrong field, or nil.
func (d *Dataset) Validate() error {
	var ps []Problem
	add := func(field, msg string) { ps = append(ps, Problem{Field: field, Message: msg}) }
	if !ValidSlug(d.Slug) {
		add("slug", "must be 2–100 characters of a-z, 0-9 and inner hyphens")
	}
	if strings.TrimSpace(d.Title) == "" {
		add("title", "is required")
	}
	if d.Agency.ID == "" {
		add("agency", "is required")
	}
	if !slices.Contains(Categories, d.Category) {
		add("category", "must be one of credit, transport, healthcare, employment, social_security, education, environment, weather, enterprise, other")
	}
	if !slices.Contains(OpenClasses, d.OpenClass) {
		add("open_class", "must be open, conditional or closed")
	}
	if !slices.Contains(Frequencies, d.Frequency) {
		add("frequency", "must be realtime, daily, weekly, monthly, quarterly, yearly or irregular")
	}
	if !slices.Contains(States, d.State) {
		add("state", "must be draft, in_review, published or withdrawn")
	}
	for _, m := range d.AccessModes {
		if !slices.Contains(AccessModes, m) {
			add("access_modes", "each must be verify, query or bulk, not "+string(m))
		}
	}
	seen := map[string]bool{}
	for _, f := range d.Fields {
		if strings.TrimSpace(f.Name) == "" {
			add("fields", "a field has no name")
		} else if seen[f.Name] {
			add("fields", "field "+f.Name+" is named twice")
		}
		seen[f.Name] = true
		if !slices.Contains(FieldTypes, f.Type) {
			add("fields", "field "+f.Name+" has unknown type "+string(f.Type))
		}
	}
	// Conditional and closed entries need a reason and a legal basis
	// (Shanghai 2018 art. 27 by analogy).
	if d.OpenClass == Conditional || d.OpenClass == Closed {
		if strings.TrimSpace(d.Reason) == "" {
			add("reason", "is required for conditional and closed entries")
		}
		if strings.TrimSpace(d.LegalBasis) == "" {
			add("legal_basis", "is required for conditional and closed entries")
		}
	}
	if d.OpenClass == Closed && d.State == Published {
		add("state", "a closed entry can never be published")
	}
	if len(ps) == 0 {
		return nil
	}
	msg := "invalid entry: " + ps[0].String()
	if len(ps) > 1 {
		msg += " (and more)"
	}
	return &Error{Code: EINVALID, Message: msg, Problems: ps}
}

// VersionState is where a file version is in its ingestion.
type VersionState string

const (
	VersionPending VersionState = "pending"
	VersionReady   VersionState = "ready"
	VersionFailed  VersionState = "failed"
)

// Version is one immutable file version of an entry's distribution.
type Version struct {
	ID        string       `json:"id"`
	DatasetID string       `json:"dataset_id"`
	Number    int          `json:"number"`
	BlobKey   string       `json:"-"`
	Filename  string       `json:"filename,omitempty"`
	Size      int64        `json:"size"`
	SHA256    string       `json:"sha256"`
	MediaType string       `json:"media_type"`
	Encoding  string       `json:"encoding,omitempty"` // detected text encoding of the original
	Rows      int64        `json:"rows"`               // 0 for non-tabular files
	Columns   []Field      `json:"columns,omitempty"`  // the typed columns loaded into the row store
	RowTable  string       `json:"-"`                  // row-store table name, "" when not tabular
	State     VersionState `json:"state"`
	Error     string       `json:"error,omitempty"`
	CreatedBy string       `json:"created_by,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
	ReadyAt   *time.Time   `json:"ready_at,omitempty"`
}

// Tabular reports whether the version's rows were loaded into the row store.
func (v *Version) Tabular() bool { return v != nil && v.RowTable != "" }
