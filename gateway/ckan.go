package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
)

// The CKAN-compatible API exists so that CKAN portals can harvest Kaifang
// with ckanext-harvest's CKANHarvester, and CKAN clients can read it. It
// follows shared/CKAN_HARVEST_CONTRACT.md: the {"help","success","result"}
// envelope, CKAN's error types and statuses, package_search paging by
// rows/start with sort=id asc and Solr-style fq. Like every public surface
// it reads only PublicDataset/PublicDatasets.

func ckanRoutes(r fiber.Router, s *Server, def, search, records fiber.Handler) {
	r.Get("/package_search", search, s.ckan("package_search", s.ckanPackageSearch))
	r.Get("/package_show", def, s.ckan("package_show", s.ckanPackageShow))
	r.Get("/package_list", def, s.ckan("package_list", s.ckanPackageList))
	r.Get("/organization_list", def, s.ckan("organization_list", s.ckanOrganizationList))
	r.Get("/organization_show", def, s.ckan("organization_show", s.ckanOrganizationShow))
	r.Get("/datastore_search", records, s.ckan("datastore_search", s.ckanDatastoreSearch))
	r.Get("/status_show", def, s.ckan("status_show", s.ckanStatusShow))
}

// ckanError is an error in CKAN's shape: a status, an __type and a message
// (plus, for validation errors, the offending field).
type ckanError struct {
	Status  int
	Type    string
	Message string
	Field   string
}

func (e *ckanError) Error() string { return e.Type + ": " + e.Message }

func ckanSearchError(msg string) error {
	return &ckanError{Status: http.StatusConflict, Type: "Search Error", Message: "Search error: " + msg}
}

func ckanValidation(field, msg string) error {
	return &ckanError{Status: http.StatusConflict, Type: "Validation Error", Message: field + ": " + msg, Field: field}
}

// ckan wraps an action: its result or error goes out in CKAN's envelope,
// never as a problem document, because CKAN clients read only the envelope.
func (s *Server) ckan(name string, h func(c *fiber.Ctx) (any, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		help := c.BaseURL() + "/api/3/action/help_show?name=" + name
		res, err := h(c)
		if err == nil {
			return sendJSON(c, fiber.StatusOK, map[string]any{"help": help, "success": true, "result": res})
		}
		var ce *ckanError
		if !errors.As(err, &ce) {
			ce = &ckanError{Status: http.StatusInternalServerError, Type: "Internal Server Error", Message: "Internal server error"}
			var de *datasets.Error
			if errors.As(err, &de) {
				switch de.Code {
				case datasets.ENOTFOUND:
					ce = &ckanError{Status: http.StatusNotFound, Type: "Not Found Error", Message: "Not found: " + de.Message}
				case datasets.EINVALID:
					ce = &ckanError{Status: http.StatusConflict, Type: "Validation Error", Message: de.Message}
				case datasets.EUNAUTHORIZED, datasets.EFORBIDDEN:
					ce = &ckanError{Status: http.StatusForbidden, Type: "Authorization Error", Message: "Access denied: " + de.Message}
				case datasets.EUNAVAILABLE:
					ce = &ckanError{Status: http.StatusServiceUnavailable, Type: "Internal Server Error", Message: "a backing service is unavailable; try again later"}
				}
			}
			if ce.Status >= 500 {
				s.log.Error("ckan action failed", "action", name, "request_id", requestID(c), "err", err)
			}
		}
		body := map[string]any{"message": ce.Message, "__type": ce.Type}
		if ce.Field != "" {
			body[ce.Field] = []string{ce.Message}
		}
		return sendJSON(c, ce.Status, map[string]any{"help": help, "success": false, "error": body})
	}
}

// ckanParams refuses parameters an action does not know, as CKAN does.
func ckanParams(c *fiber.Ctx, allowed ...string) error {
	var bad string
	c.Context().QueryArgs().VisitAll(func(k, _ []byte) {
		if bad == "" && !slices.Contains(allowed, string(k)) {
			bad = string(k)
		}
	})
	if bad != "" {
		return ckanValidation(bad, "The parameter is not supported by this action (allowed: "+strings.Join(allowed, ", ")+")")
	}
	return nil
}

func ckanInt(c *fiber.Ctx, name string, def, lo, hi int) (int, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo {
		return 0, ckanValidation(name, "Invalid integer")
	}
	return min(n, hi), nil
}

// ckanTime is CKAN's timestamp form: naive ISO 8601 in UTC with microseconds.
func ckanTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

// ckanTag cleans a tag so that CKAN's tag validators accept it (regex
// [\w \-.]*, length 2–100): every run of other characters (/, （, 、, ·, …)
// becomes one "-", and a tag that is then shorter than 2 characters (水) is
// dropped, returning "".
func ckanTag(tag string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.TrimSpace(tag) {
		if unicode.IsLetter(r) || unicode.IsNumber(r) || r == '_' || r == ' ' || r == '-' || r == '.' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteRune('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), " -")
	rs := []rune(out)
	if len(rs) > 100 {
		out = strings.TrimRight(string(rs[:100]), " -")
	}
	if len([]rune(out)) < 2 {
		return ""
	}
	return out
}

type ckanOrg struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Title          string `json:"title"`
	DisplayName    string `json:"display_name"`
	Description    string `json:"description"`
	ImageURL       string `json:"image_url"`
	Created        string `json:"created"`
	Type           string `json:"type"`
	State          string `json:"state"`
	ApprovalStatus string `json:"approval_status"`
	IsOrganization bool   `json:"is_organization"`
	PackageCount   *int   `json:"package_count,omitempty"`
	Packages       []any  `json:"packages,omitempty"`
}

func toCKANOrg(a *datasets.Agency) ckanOrg {
	return ckanOrg{ID: a.ID, Name: a.Slug, Title: a.Name, DisplayName: a.Name, Description: a.Description,
		Created: ckanTime(a.CreatedAt), Type: "organization", State: "active", ApprovalStatus: "approved", IsOrganization: true}
}

type ckanKV struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type ckanTagDict struct {
	Name         string  `json:"name"`
	DisplayName  string  `json:"display_name"`
	State        string  `json:"state"`
	VocabularyID *string `json:"vocabulary_id"`
}

type ckanGroup struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Title       string `json:"title"`
	DisplayName string `json:"display_name"`
	Description string `json:"description"`
}

type ckanResource struct {
	ID              string  `json:"id"`
	PackageID       string  `json:"package_id"`
	URL             string  `json:"url"`
	Name            string  `json:"name"`
	Description     string  `json:"description"`
	Format          string  `json:"format"`
	Mimetype        *string `json:"mimetype"`
	Size            *int64  `json:"size"`
	Hash            string  `json:"hash"`
	Created         string  `json:"created"`
	LastModified    *string `json:"last_modified"`
	Position        int     `json:"position"`
	State           string  `json:"state"`
	DatastoreActive bool    `json:"datastore_active"`
}

type ckanPackage struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	Title            string         `json:"title"`
	Notes            string         `json:"notes"`
	Type             string         `json:"type"`
	State            string         `json:"state"`
	Private          bool           `json:"private"`
	IsOpen           bool           `json:"isopen"`
	LicenseID        string         `json:"license_id"`
	LicenseTitle     string         `json:"license_title"`
	URL              string         `json:"url"`
	Version          string         `json:"version"`
	Author           string         `json:"author"`
	AuthorEmail      string         `json:"author_email"`
	Maintainer       string         `json:"maintainer"`
	MaintainerEmail  string         `json:"maintainer_email"`
	MetadataCreated  string         `json:"metadata_created"`
	MetadataModified string         `json:"metadata_modified"`
	OwnerOrg         string         `json:"owner_org"`
	Organization     ckanOrg        `json:"organization"`
	Resources        []ckanResource `json:"resources"`
	NumResources     int            `json:"num_resources"`
	Tags             []ckanTagDict  `json:"tags"`
	NumTags          int            `json:"num_tags"`
	Extras           []ckanKV       `json:"extras"`
	Groups           []ckanGroup    `json:"groups"`
	RelSubject       []any          `json:"relationships_as_subject"`
	RelObject        []any          `json:"relationships_as_object"`
}

// ckanCtx carries what package dicts need beyond the entry: absolute URLs
// and the agencies by id.
type ckanCtx struct {
	base     string
	agencies map[string]*datasets.Agency
}

func (s *Server) newCKANCtx(c *fiber.Ctx) (*ckanCtx, error) {
	as, err := s.d.Catalog.Agencies(reqCtx(c))
	if err != nil {
		return nil, err
	}
	k := &ckanCtx{base: strings.TrimRight(c.BaseURL(), "/"), agencies: map[string]*datasets.Agency{}}
	for i := range as {
		k.agencies[as[i].ID] = &as[i]
	}
	return k, nil
}

func (k *ckanCtx) pkg(d *datasets.Dataset) ckanPackage {
	a := k.agencies[d.Agency.ID]
	if a == nil {
		a = &datasets.Agency{ID: d.Agency.ID, Slug: d.Agency.Slug, Name: d.Agency.Name}
	}
	page := k.base + "/datasets/" + url.PathEscape(d.Slug)
	p := ckanPackage{
		ID: d.ID, Name: d.Slug, Title: d.Title, Notes: d.Description, Type: "dataset", State: "active",
		IsOpen: d.OpenClass == datasets.Open, LicenseID: d.License, LicenseTitle: d.License, URL: page,
		Author: a.Name, Maintainer: a.Name, MetadataCreated: ckanTime(d.CreatedAt), MetadataModified: ckanTime(d.UpdatedAt),
		OwnerOrg: a.ID, Organization: toCKANOrg(a), Resources: []ckanResource{}, Tags: []ckanTagDict{},
		RelSubject: []any{}, RelObject: []any{},
	}
	if p.LicenseID == "" {
		p.LicenseID, p.LicenseTitle = "notspecified", "License not specified"
	}
	if strings.Contains(a.Contact, "@") {
		p.MaintainerEmail = strings.TrimSpace(a.Contact)
	}
	seen := map[string]bool{}
	for _, t := range d.Tags {
		if n := ckanTag(t); n != "" && !seen[n] {
			seen[n] = true
			p.Tags = append(p.Tags, ckanTagDict{Name: n, DisplayName: n, State: "active"})
		}
	}
	modes := make([]string, len(d.AccessModes))
	for i, m := range d.AccessModes {
		modes[i] = string(m)
	}
	p.Extras = []ckanKV{
		{"open_class", string(d.OpenClass)}, {"frequency", string(d.Frequency)}, {"category", string(d.Category)},
		{"formats", strings.Join(d.Formats, ";")}, {"access_modes", strings.Join(modes, ";")},
	}
	if d.LegalBasis != "" {
		p.Extras = append(p.Extras, ckanKV{"legal_basis", d.LegalBasis})
	}
	p.Groups = []ckanGroup{{ID: string(d.Category), Name: string(d.Category), Title: datasets.CategoryNames[d.Category],
		DisplayName: datasets.CategoryNames[d.Category]}}
	p.Resources = k.resources(d, page)
	if v := d.CurrentVersion; v != nil {
		p.Version = strconv.Itoa(v.Number)
	}
	p.NumResources, p.NumTags = len(p.Resources), len(p.Tags)
	return p
}

// resources mirror the DCAT distributions: the original file and its
// conversions for an open entry with a ready version, or one link to the
// entry's page for a conditional entry, which has no download.
func (k *ckanCtx) resources(d *datasets.Dataset, page string) []ckanResource {
	v := d.CurrentVersion
	if d.OpenClass != datasets.Open || v == nil || v.State != datasets.VersionReady {
		return []ckanResource{{ID: d.ID + "-access", PackageID: d.ID, URL: page, Name: "申請使用 / apply for access",
			Description: "有條件開放：經申請審核通過後，以接口方式提供。", Format: "API", Created: ckanTime(d.CreatedAt), State: "active"}}
	}
	download := k.base + "/api/v1/datasets/" + url.PathEscape(d.Slug) + "/download"
	mod := ckanTime(v.CreatedAt)
	orig := extOf(v)
	mt := v.MediaType
	size := v.Size
	out := []ckanResource{{ID: v.ID, PackageID: d.ID, URL: download, Name: firstNonEmpty(v.Filename, d.Slug+"."+orig),
		Format: strings.ToUpper(orig), Mimetype: &mt, Size: &size, Hash: v.SHA256, Created: mod, LastModified: &mod,
		State: "active", DatastoreActive: v.Tabular()}}
	if v.Tabular() {
		for _, f := range dcatConversions {
			if f == orig {
				continue
			}
			m := dcatFileTypes[f].Media
			out = append(out, ckanResource{ID: v.ID + "-" + f, PackageID: d.ID, URL: download + "?format=" + f,
				Name: d.Slug + "." + f, Format: strings.ToUpper(f), Mimetype: &m, Created: mod, LastModified: &mod,
				Position: len(out), State: "active"})
		}
	}
	return out
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// allPublic pages through every public entry. package_search sorts by id,
// which the catalogue cannot, so the whole public list is read; entries are
// small and the list is what the CKAN harvester reads anyway.
func allPublic(ctx context.Context, cat datasets.Catalog, agencyID string) ([]datasets.Dataset, error) {
	var out []datasets.Dataset
	for page := 1; ; page++ {
		ds, total, err := cat.PublicDatasets(ctx, datasets.DatasetFilter{AgencyID: agencyID, Sort: "created", Page: page, PerPage: 1000})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.IsPublic() {
				out = append(out, d)
			}
		}
		if len(ds) < 1000 || page*1000 >= total {
			return out, nil
		}
	}
}

func (s *Server) ckanPackageShow(c *fiber.Ctx) (any, error) {
	if err := ckanParams(c, "id", "use_default_schema", "include_plugin_data", "include_tracking"); err != nil {
		return nil, err
	}
	id := strings.TrimSpace(c.Query("id"))
	if id == "" {
		return nil, ckanValidation("id", "Missing value")
	}
	if len(id) > 200 {
		return nil, &ckanError{Status: http.StatusNotFound, Type: "Not Found Error", Message: "Not found"}
	}
	d, err := s.d.Catalog.PublicDataset(reqCtx(c), id)
	if err != nil {
		return nil, err
	}
	k, err := s.newCKANCtx(c)
	if err != nil {
		return nil, err
	}
	return k.pkg(d), nil
}

func (s *Server) ckanPackageList(c *fiber.Ctx) (any, error) {
	if err := ckanParams(c, "limit", "offset"); err != nil {
		return nil, err
	}
	limit, err := ckanInt(c, "limit", 1<<30, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	offset, err := ckanInt(c, "offset", 0, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	ds, err := allPublic(reqCtx(c), s.d.Catalog, "")
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ds))
	for _, d := range ds {
		names = append(names, d.Slug)
	}
	slices.Sort(names)
	return window(names, offset, limit), nil
}

func window[T any](xs []T, offset, limit int) []T {
	if offset >= len(xs) {
		return []T{}
	}
	xs = xs[offset:]
	if limit < len(xs) {
		xs = xs[:limit]
	}
	return xs
}

func (s *Server) ckanOrganizationList(c *fiber.Ctx) (any, error) {
	if err := ckanParams(c, "all_fields", "sort", "limit", "offset", "include_dataset_count"); err != nil {
		return nil, err
	}
	limit, err := ckanInt(c, "limit", 1000, 0, 1000)
	if err != nil {
		return nil, err
	}
	offset, err := ckanInt(c, "offset", 0, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	as, err := s.d.Catalog.Agencies(reqCtx(c))
	if err != nil {
		return nil, err
	}
	switch c.Query("sort", "name asc") {
	case "name asc", "name", "title asc", "title":
	default:
		return nil, ckanValidation("sort", "only name asc and title asc are supported")
	}
	slices.SortFunc(as, func(a, b datasets.Agency) int { return strings.Compare(a.Slug, b.Slug) })
	if c.Query("sort") == "title asc" || c.Query("sort") == "title" {
		slices.SortFunc(as, func(a, b datasets.Agency) int { return strings.Compare(a.Name, b.Name) })
	}
	as = window(as, offset, limit)
	if !c.QueryBool("all_fields") {
		names := make([]string, len(as))
		for i, a := range as {
			names[i] = a.Slug
		}
		return names, nil
	}
	out := make([]ckanOrg, len(as))
	for i := range as {
		out[i] = toCKANOrg(&as[i])
	}
	return out, nil
}

func (s *Server) ckanOrganizationShow(c *fiber.Ctx) (any, error) {
	if err := ckanParams(c, "id", "include_datasets", "include_dataset_count", "include_extras", "include_users",
		"include_groups", "include_tags", "include_followers"); err != nil {
		return nil, err
	}
	id := strings.TrimSpace(c.Query("id"))
	if id == "" {
		return nil, ckanValidation("id", "Missing value")
	}
	a, err := s.d.Catalog.Agency(reqCtx(c), id)
	if err != nil {
		return nil, err
	}
	ds, err := allPublic(reqCtx(c), s.d.Catalog, a.ID)
	if err != nil {
		return nil, err
	}
	org := toCKANOrg(a)
	n := len(ds)
	org.PackageCount = &n
	if c.QueryBool("include_datasets") {
		k, err := s.newCKANCtx(c)
		if err != nil {
			return nil, err
		}
		slices.SortFunc(ds, func(a, b datasets.Dataset) int { return strings.Compare(a.Slug, b.Slug) })
		org.Packages = []any{}
		for i := range ds {
			org.Packages = append(org.Packages, k.pkg(&ds[i]))
		}
	}
	return org, nil
}

func (s *Server) ckanStatusShow(c *fiber.Ctx) (any, error) {
	if err := ckanParams(c); err != nil {
		return nil, err
	}
	return map[string]any{
		"ckan_version": "2.10.0", "site_url": strings.TrimRight(c.BaseURL(), "/"), "site_title": "Kaifang 開放",
		"site_description": "開放數據平台", "locale_default": "zh_Hant_TW", "error_emails_to": nil,
		"extensions": []string{"datastore", "dcat"}, "kaifang_version": s.d.Version,
	}, nil
}

// ckanDatastoreResource finds the entry behind a datastore resource_id: the
// entry's slug or UUID, or the id of its current version (the original
// file's resource id in package dicts).
func (s *Server) ckanDatastoreResource(c *fiber.Ctx, rid string) (*datasets.Dataset, error) {
	d, err := s.d.Catalog.PublicDataset(reqCtx(c), rid)
	if err == nil || !datasets.IsCode(err, datasets.ENOTFOUND) {
		return d, err
	}
	ds, err := allPublic(reqCtx(c), s.d.Catalog, "")
	if err != nil {
		return nil, err
	}
	for i := range ds {
		if ds[i].CurrentVersion != nil && ds[i].CurrentVersion.ID == rid {
			return &ds[i], nil
		}
	}
	return nil, &ckanError{Status: http.StatusNotFound, Type: "Not Found Error", Message: "Not found: Resource \"" + rid + "\" was not found."}
}

var ckanFieldTypes = map[datasets.FieldType]string{
	datasets.TypeInteger: "int", datasets.TypeDecimal: "numeric", datasets.TypeBoolean: "bool",
	datasets.TypeDate: "date", datasets.TypeDatetime: "timestamp", datasets.TypeText: "text",
}

func (s *Server) ckanDatastoreSearch(c *fiber.Ctx) (any, error) {
	if err := ckanParams(c, "resource_id", "id", "limit", "offset", "filters", "q", "fields", "sort", "include_total", "records_format"); err != nil {
		return nil, err
	}
	rid := strings.TrimSpace(firstNonEmpty(c.Query("resource_id"), c.Query("id")))
	if rid == "" {
		return nil, ckanValidation("resource_id", "Missing value")
	}
	if len(rid) > 200 {
		return nil, &ckanError{Status: http.StatusNotFound, Type: "Not Found Error", Message: "Not found: Resource was not found."}
	}
	if q := strings.TrimSpace(c.Query("q")); q != "" {
		return nil, ckanValidation("q", "full-text search is not supported by this datastore; use filters")
	}
	if f := c.Query("records_format", "objects"); f != "objects" {
		return nil, ckanValidation("records_format", "only objects is supported")
	}
	limit, err := ckanInt(c, "limit", 100, 0, 1000)
	if err != nil {
		return nil, err
	}
	offset, err := ckanInt(c, "offset", 0, 0, 100000)
	if err != nil {
		return nil, err
	}
	d, err := s.ckanDatastoreResource(c, rid)
	if err != nil {
		return nil, err
	}
	// Conditional entries are served only through the records API, where
	// grants, masking and auditing apply; the CKAN surface is anonymous.
	if d.OpenClass != datasets.Open {
		return nil, &ckanError{Status: http.StatusForbidden, Type: "Authorization Error",
			Message: "Access denied: " + d.Slug + " is conditionally open; apply for access and use /api/v1/datasets/" + d.Slug + "/records with an API key"}
	}
	v := d.CurrentVersion
	if v == nil || v.State != datasets.VersionReady || !v.Tabular() {
		return nil, &ckanError{Status: http.StatusNotFound, Type: "Not Found Error", Message: "Not found: Resource \"" + rid + "\" has no datastore table."}
	}
	if v.RowTable == "" || v.BlobKey == "" {
		if v, err = s.d.Catalog.Version(reqCtx(c), d.ID, v.Number); err != nil {
			return nil, err
		}
	}
	cols := columnsOf(v)
	byName := map[string]datasets.Column{}
	for _, col := range cols {
		byName[col.Name] = col
	}
	q := datasets.RowQuery{Columns: cols, Total: c.Query("include_total", "true") != "false"}
	if fs := strings.TrimSpace(c.Query("fields")); fs != "" {
		for f := range strings.SplitSeq(fs, ",") {
			f = strings.TrimSpace(f)
			if _, ok := byName[f]; !ok {
				return nil, ckanValidation("fields", "field \""+f+"\" not in table")
			}
			q.Select = append(q.Select, f)
		}
	}
	if raw := strings.TrimSpace(c.Query("filters")); raw != "" {
		var fm map[string]any
		if err := json.Unmarshal([]byte(raw), &fm); err != nil {
			return nil, ckanValidation("filters", "must be a JSON object")
		}
		keys := make([]string, 0, len(fm))
		for k := range fm {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			col, ok := byName[k]
			if !ok {
				return nil, ckanValidation("filters", "field \""+k+"\" not in table")
			}
			raws, isList := fm[k].([]any)
			if !isList {
				raws = []any{fm[k]}
			}
			f := datasets.RowFilter{Field: k, Op: datasets.OpEq}
			if len(raws) > 1 {
				f.Op = datasets.OpIn
			}
			if len(raws) == 0 || len(raws) > 100 {
				return nil, ckanValidation("filters", "field \""+k+"\" needs 1 to 100 values")
			}
			for _, rv := range raws {
				var txt string
				switch x := rv.(type) {
				case string:
					txt = x
				case float64, bool:
					b, _ := json.Marshal(x)
					txt = string(b)
				default:
					return nil, ckanValidation("filters", "field \""+k+"\" takes strings, numbers or booleans")
				}
				val, err := convertValue(col.Type, txt)
				if err != nil {
					return nil, ckanValidation("filters", "field \""+k+"\": "+err.Error())
				}
				f.Values = append(f.Values, val)
			}
			q.Filters = append(q.Filters, f)
		}
	}
	if srt := strings.TrimSpace(c.Query("sort")); srt != "" {
		for part := range strings.SplitSeq(srt, ",") {
			fs := strings.Fields(part)
			if len(fs) == 0 {
				continue
			}
			name, desc := fs[0], false
			if len(fs) == 2 && strings.EqualFold(fs[1], "desc") {
				desc = true
			} else if len(fs) > 2 || len(fs) == 2 && !strings.EqualFold(fs[1], "asc") {
				return nil, ckanValidation("sort", "must be \"field [asc|desc], …\"")
			}
			name = strings.Trim(name, `"`)
			if _, ok := byName[name]; !ok {
				return nil, ckanValidation("sort", "field \""+name+"\" not in table")
			}
			q.Sort = append(q.Sort, datasets.SortKey{Field: name, Desc: desc})
		}
	}
	// Rows pages by keyset, CKAN by offset: walk to the offset in chunks.
	total, exhausted := int64(-1), false
	for skip := offset; skip > 0; {
		q.Limit = min(skip, 1000)
		p, err := s.d.Rows.QueryRows(reqCtx(c), v.RowTable, q)
		if err != nil {
			return nil, err
		}
		if q.Total {
			total, q.Total = p.Total, false
		}
		skip -= len(p.Rows)
		if p.Next == nil {
			exhausted = true
			break
		}
		q.After = p.Next
	}
	page := datasets.RowPage{Total: total}
	if !exhausted {
		q.Limit = max(limit, 1)
		if page, err = s.d.Rows.QueryRows(reqCtx(c), v.RowTable, q); err != nil {
			return nil, err
		}
		if total >= 0 {
			page.Total = total
		}
	} else {
		page.Columns = selectedColumns(cols, q.Select)
	}
	if limit == 0 {
		page.Rows = nil
	}
	s.countUse(d.ID, 0, 1)
	fields := make([]map[string]string, len(page.Columns))
	for i, col := range page.Columns {
		fields[i] = map[string]string{"id": col.Name, "type": ckanFieldTypes[col.Type]}
	}
	recs := make([]json.RawMessage, 0, len(page.Rows))
	for _, row := range page.Rows {
		var b strings.Builder
		b.WriteByte('{')
		for i, col := range page.Columns {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(col.Name)
			vb, _ := json.Marshal(cellValue(col.Type, row[i]))
			b.Write(kb)
			b.WriteByte(':')
			b.Write(vb)
		}
		b.WriteByte('}')
		recs = append(recs, json.RawMessage(b.String()))
	}
	res := map[string]any{
		"resource_id": rid, "fields": fields, "records": recs, "limit": limit, "offset": offset,
		"_links": map[string]string{
			"start": "/api/3/action/datastore_search?resource_id=" + url.QueryEscape(rid),
			"next":  "/api/3/action/datastore_search?resource_id=" + url.QueryEscape(rid) + "&offset=" + strconv.Itoa(offset+limit),
		},
	}
	if page.Total >= 0 {
		res["total"] = page.Total
	}
	return res, nil
}

func selectedColumns(cols []datasets.Column, sel []string) []datasets.Column {
	if len(sel) == 0 {
		return cols
	}
	out := make([]datasets.Column, 0, len(sel))
	for _, n := range sel {
		for _, c := range cols {
			if c.Name == n {
				out = append(out, c)
			}
		}
	}
	return out
}
