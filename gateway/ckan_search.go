package gateway

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
)

// fqTerm is one Solr-style condition: [-]field:value or field:[lo TO hi].
type fqTerm struct {
	Neg        bool
	Field      string
	Value      string // exact value; "*" means "has the field"
	Range      bool
	Lo, Hi     *time.Time // nil: open end
	LoEx, HiEx bool       // { } bounds exclude the end
}

// fqQuery is a conjunction of disjunctions: terms joined by OR form one
// group, groups side by side must all hold. That is how CKAN's harvester
// writes fq ("organization:a OR organization:b metadata_modified:[… TO *]").
type fqQuery [][]fqTerm

var fqFields = map[string]bool{
	"organization": true, "owner_org": true, "groups": true, "tags": true, "res_format": true, "name": true, "id": true,
	"metadata_modified": true, "metadata_created": true, "open_class": true, "frequency": true, "category": true,
	"type": true, "state": true, "capacity": true, "license_id": true, "dataset_type": true,
}

var fqTimeFields = map[string]bool{"metadata_modified": true, "metadata_created": true}

// fqTokens splits fq on whitespace outside brackets and quotes.
func fqTokens(s string) ([]string, error) {
	var toks []string
	var cur strings.Builder
	depth, quoted := 0, false
	for _, r := range s {
		switch {
		case quoted:
			cur.WriteRune(r)
			if r == '"' {
				quoted = false
			}
		case r == '"':
			quoted = true
			cur.WriteRune(r)
		case r == '[' || r == '{':
			depth++
			cur.WriteRune(r)
		case r == ']' || r == '}':
			if depth == 0 {
				return nil, ckanSearchError("unbalanced " + string(r) + " in fq")
			}
			depth--
			cur.WriteRune(r)
		case (r == ' ' || r == '\t' || r == '\n' || r == '\r') && depth == 0:
			if cur.Len() > 0 {
				toks = append(toks, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if quoted || depth > 0 {
		return nil, ckanSearchError("unterminated quote or range in fq")
	}
	if cur.Len() > 0 {
		toks = append(toks, cur.String())
	}
	return toks, nil
}

var fqTimeLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05", "2006-01-02",
}

func fqTime(s string) (*time.Time, error) {
	if s == "*" {
		return nil, nil
	}
	for _, l := range fqTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, ckanSearchError("cannot parse date " + s)
}

// parseFQ parses CKAN/Solr filter queries of the kinds CKAN clients send.
// Anything else (parentheses, unknown fields, NOW arithmetic) is a search
// error rather than a silently wider result.
func parseFQ(s string) (fqQuery, error) {
	if len(s) > 4000 {
		return nil, ckanSearchError("fq is too long")
	}
	toks, err := fqTokens(s)
	if err != nil {
		return nil, err
	}
	var q fqQuery
	joinOR := false
	for _, tok := range toks {
		switch tok {
		case "OR", "||":
			if len(q) == 0 || joinOR {
				return nil, ckanSearchError("OR needs a term on each side")
			}
			joinOR = true
			continue
		case "AND", "&&":
			continue
		case "*:*":
			continue
		}
		t, err := parseFQTerm(tok)
		if err != nil {
			return nil, err
		}
		if joinOR {
			q[len(q)-1] = append(q[len(q)-1], t)
			joinOR = false
		} else {
			q = append(q, []fqTerm{t})
		}
	}
	if joinOR {
		return nil, ckanSearchError("OR needs a term on each side")
	}
	return q, nil
}

func parseFQTerm(tok string) (fqTerm, error) {
	var t fqTerm
	if strings.HasPrefix(tok, "-") {
		t.Neg, tok = true, tok[1:]
	} else if strings.HasPrefix(tok, "+") {
		tok = tok[1:]
	}
	if strings.HasPrefix(tok, "(") || strings.HasPrefix(tok, "NOT") && !strings.Contains(tok, ":") {
		return t, ckanSearchError("grouping with parentheses and NOT are not supported in fq; use -field:value")
	}
	field, value, ok := strings.Cut(tok, ":")
	if !ok || field == "" || value == "" {
		return t, ckanSearchError("fq term " + tok + " is not field:value")
	}
	if !fqFields[field] {
		return t, ckanSearchError("unknown fq field " + field)
	}
	t.Field = field
	if value[0] == '[' || value[0] == '{' {
		last := value[len(value)-1]
		if len(value) < 2 || (last != ']' && last != '}') {
			return t, ckanSearchError("bad range " + value)
		}
		lo, hi, ok := strings.Cut(value[1:len(value)-1], " TO ")
		if !ok {
			return t, ckanSearchError("range " + value + " needs TO")
		}
		if !fqTimeFields[field] {
			return t, ckanSearchError("ranges are only supported on metadata_modified and metadata_created")
		}
		var err error
		if t.Lo, err = fqTime(strings.TrimSpace(lo)); err != nil {
			return t, err
		}
		if t.Hi, err = fqTime(strings.TrimSpace(hi)); err != nil {
			return t, err
		}
		t.Range, t.LoEx, t.HiEx = true, value[0] == '{', last == '}'
		return t, nil
	}
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	t.Value = value
	if fqTimeFields[field] && value != "*" {
		at, err := fqTime(value)
		if err != nil {
			return t, err
		}
		t.Range, t.Lo, t.Hi = true, at, at
	}
	return t, nil
}

func (t fqTerm) match(p *ckanPackage) bool {
	return t.matchPos(p) != t.Neg
}

func (t fqTerm) matchPos(p *ckanPackage) bool {
	if t.Range {
		ts := p.MetadataModified
		if t.Field == "metadata_created" {
			ts = p.MetadataCreated
		}
		at, err := time.Parse("2006-01-02T15:04:05.999999", ts)
		if err != nil {
			return false
		}
		if t.Lo != nil {
			lo := t.Lo.Truncate(time.Microsecond)
			if at.Before(lo) || t.LoEx && at.Equal(lo) {
				return false
			}
		}
		if t.Hi != nil {
			hi := t.Hi.Truncate(time.Microsecond)
			if at.After(hi) || t.HiEx && at.Equal(hi) {
				return false
			}
		}
		return true
	}
	if t.Value == "*" {
		return true
	}
	eq := func(s string) bool { return strings.EqualFold(s, t.Value) }
	extra := func(k string) string {
		for _, e := range p.Extras {
			if e.Key == k {
				return e.Value
			}
		}
		return ""
	}
	switch t.Field {
	case "organization":
		return eq(p.Organization.Name) || eq(p.OwnerOrg)
	case "owner_org":
		return eq(p.OwnerOrg) || eq(p.Organization.Name)
	case "groups", "category":
		return slices.ContainsFunc(p.Groups, func(g ckanGroup) bool { return eq(g.Name) })
	case "tags":
		return slices.ContainsFunc(p.Tags, func(g ckanTagDict) bool { return eq(g.Name) })
	case "res_format":
		return slices.ContainsFunc(p.Resources, func(r ckanResource) bool { return eq(r.Format) })
	case "name":
		return eq(p.Name)
	case "id":
		return eq(p.ID)
	case "open_class", "frequency":
		return eq(extra(t.Field))
	case "type", "dataset_type":
		return eq(p.Type)
	case "state":
		return eq(p.State)
	case "capacity":
		return eq("public")
	case "license_id":
		return eq(p.LicenseID)
	}
	return false
}

func (q fqQuery) match(p *ckanPackage) bool {
	for _, group := range q {
		if !slices.ContainsFunc(group, func(t fqTerm) bool { return t.match(p) }) {
			return false
		}
	}
	return true
}

type ckanSortKey struct {
	field string
	desc  bool
}

func parseCKANSort(s string) ([]ckanSortKey, error) {
	var keys []ckanSortKey
	for part := range strings.SplitSeq(s, ",") {
		fs := strings.Fields(part)
		if len(fs) == 0 {
			continue
		}
		if len(fs) != 2 || (fs[1] != "asc" && fs[1] != "desc") {
			return nil, ckanSearchError("Can't determine the sort order in \"" + strings.TrimSpace(part) + "\": use \"field asc\" or \"field desc\"")
		}
		switch fs[0] {
		case "id", "name", "title", "title_string", "metadata_modified", "metadata_created", "score":
		default:
			return nil, ckanSearchError("can't sort on field " + fs[0])
		}
		keys = append(keys, ckanSortKey{fs[0], fs[1] == "desc"})
	}
	return keys, nil
}

func (k ckanSortKey) compare(a, b *ckanPackage) int {
	var c int
	switch k.field {
	case "id":
		c = cmp.Compare(a.ID, b.ID)
	case "name":
		c = cmp.Compare(a.Name, b.Name)
	case "title", "title_string":
		c = cmp.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title))
	case "metadata_modified":
		c = cmp.Compare(a.MetadataModified, b.MetadataModified)
	case "metadata_created":
		c = cmp.Compare(a.MetadataCreated, b.MetadataCreated)
	default: // score: every hit scores the same
		return 0
	}
	if k.desc {
		c = -c
	}
	return c
}

// textMatch is the q parameter's plain-text search: every word must occur
// in the title, notes, name, tags or organization title.
func textMatch(p *ckanPackage, words []string) bool {
	var hay strings.Builder
	hay.WriteString(strings.ToLower(p.Title + "\n" + p.Notes + "\n" + p.Name + "\n" + p.Organization.Title))
	for _, t := range p.Tags {
		hay.WriteString("\n" + strings.ToLower(t.Name))
	}
	h := hay.String()
	for _, w := range words {
		if !strings.Contains(h, strings.ToLower(w)) {
			return false
		}
	}
	return true
}

var ckanSearchParams = []string{"q", "fq", "fq_list", "sort", "rows", "start", "facet", "facet.mincount", "facet.limit",
	"facet.field", "include_drafts", "include_deleted", "include_private", "use_default_schema", "fl"}

func (s *Server) ckanPackageSearch(c *fiber.Ctx) (any, error) {
	var bad string
	c.Context().QueryArgs().VisitAll(func(k, _ []byte) {
		if bad == "" && !slices.Contains(ckanSearchParams, string(k)) {
			bad = string(k)
		}
	})
	if bad != "" {
		return nil, ckanSearchError("Invalid search parameters: ['" + bad + "']")
	}
	rows, err := ckanInt(c, "rows", 10, 0, 1000)
	if err != nil {
		return nil, err
	}
	start, err := ckanInt(c, "start", 0, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	sortParam := c.Query("sort", "score desc, metadata_modified desc")
	keys, err := parseCKANSort(sortParam)
	if err != nil {
		return nil, err
	}
	var filters fqQuery
	fqs := []string{c.Query("fq")}
	if raw := c.Query("fq_list"); raw != "" {
		var list []string
		if err := json.Unmarshal([]byte(raw), &list); err != nil {
			return nil, ckanSearchError("fq_list must be a JSON list of strings")
		}
		fqs = append(fqs, list...)
	}
	var words []string
	q := strings.TrimSpace(c.Query("q"))
	if q != "" && q != "*:*" {
		if strings.Contains(q, ":") {
			fqs = append(fqs, q)
		} else {
			words = strings.Fields(q)
		}
	}
	for _, f := range fqs {
		fq, err := parseFQ(f)
		if err != nil {
			return nil, err
		}
		filters = append(filters, fq...)
	}
	var facetFields []string
	if raw := c.Query("facet.field"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &facetFields); err != nil {
			return nil, ckanSearchError("facet.field must be a JSON list of field names")
		}
	}
	facetLimit, err := ckanInt(c, "facet.limit", 50, -1, 1000)
	if err != nil {
		return nil, err
	}
	ds, err := allPublic(reqCtx(c), s.d.Catalog, "")
	if err != nil {
		return nil, err
	}
	k, err := s.newCKANCtx(c)
	if err != nil {
		return nil, err
	}
	hits := make([]ckanPackage, 0, len(ds))
	for i := range ds {
		p := k.pkg(&ds[i])
		if filters.match(&p) && textMatch(&p, words) {
			hits = append(hits, p)
		}
	}
	// The id breaks every tie, so pages never overlap whatever the sort.
	keys = append(keys, ckanSortKey{field: "id"})
	slices.SortStableFunc(hits, func(a, b ckanPackage) int {
		for _, key := range keys {
			if c := key.compare(&a, &b); c != 0 {
				return c
			}
		}
		return 0
	})
	searchFacets := map[string]any{}
	facets := map[string]map[string]int{}
	if c.Query("facet", "true") != "false" {
		for _, f := range facetFields {
			counts, items := facetCounts(hits, f, facetLimit)
			facets[f] = counts
			searchFacets[f] = map[string]any{"title": f, "items": items}
		}
	}
	page := window(hits, start, rows)
	var results any = page
	if fl := strings.TrimSpace(c.Query("fl")); fl != "" {
		results, err = pickFields(page, strings.FieldsFunc(fl, func(r rune) bool { return r == ',' || r == ' ' }))
		if err != nil {
			return nil, err
		}
	}
	return map[string]any{"count": len(hits), "results": results, "sort": sortParam, "facets": facets, "search_facets": searchFacets}, nil
}

func facetCounts(hits []ckanPackage, field string, limit int) (map[string]int, []map[string]any) {
	counts := map[string]int{}
	display := map[string]string{}
	for _, p := range hits {
		switch field {
		case "organization":
			counts[p.Organization.Name]++
			display[p.Organization.Name] = p.Organization.Title
		case "groups":
			for _, g := range p.Groups {
				counts[g.Name]++
				display[g.Name] = g.DisplayName
			}
		case "tags":
			for _, t := range p.Tags {
				counts[t.Name]++
			}
		case "res_format":
			seen := map[string]bool{}
			for _, r := range p.Resources {
				if !seen[r.Format] {
					seen[r.Format] = true
					counts[r.Format]++
				}
			}
		case "license_id":
			counts[p.LicenseID]++
		}
	}
	items := make([]map[string]any, 0, len(counts))
	for name, n := range counts {
		items = append(items, map[string]any{"name": name, "display_name": cmp.Or(display[name], name), "count": n})
	}
	slices.SortFunc(items, func(a, b map[string]any) int {
		if c := cmp.Compare(b["count"].(int), a["count"].(int)); c != 0 {
			return c
		}
		return cmp.Compare(a["name"].(string), b["name"].(string))
	})
	if limit >= 0 && len(items) > limit {
		items = items[:limit]
	}
	return counts, items
}

// pickFields narrows package dicts to the fl fields, as Solr's fl does.
func pickFields(ps []ckanPackage, fl []string) ([]map[string]json.RawMessage, error) {
	out := make([]map[string]json.RawMessage, 0, len(ps))
	for i := range ps {
		b, err := json.Marshal(ps[i])
		if err != nil {
			return nil, datasets.Wrap(err, datasets.EINTERNAL, "encoding a package")
		}
		var all map[string]json.RawMessage
		if err := json.Unmarshal(b, &all); err != nil {
			return nil, datasets.Wrap(err, datasets.EINTERNAL, "encoding a package")
		}
		m := map[string]json.RawMessage{}
		for _, f := range fl {
			if v, ok := all[f]; ok {
				m[f] = v
			}
		}
		out = append(out, m)
	}
	return out, nil
}
