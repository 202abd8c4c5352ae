package search

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/bleve/v2/search/query"

	"kaifang/datasets"
)

var _ datasets.Index = (*Bleve)(nil)

// analyzerName is the bleve analyzer that applies tokenize: folded single
// characters, bigrams and words, with offsets into the original text.
const analyzerName = "kaifang_zh"

type zhAnalyzer struct{}

func (zhAnalyzer) Analyze(input []byte) analysis.TokenStream {
	toks := tokenize(string(input))
	ts := make(analysis.TokenStream, len(toks))
	for i, t := range toks {
		ts[i] = &analysis.Token{Term: []byte(t.term), Start: t.start, End: t.end, Position: t.pos, Type: analysis.Ideographic}
	}
	return ts
}

func init() {
	// Registration fails only if the name is taken, which would be our own
	// second registration; the analyzer is stateless, so either one serves.
	_ = registry.RegisterAnalyzer(analyzerName, func(map[string]any, *registry.Cache) (analysis.Analyzer, error) {
		return zhAnalyzer{}, nil
	})
}

// Field weights of the bleve query. Matching runs on one combined field
// ("all"), so each query term costs one posting list; the weighted fields
// only add score to entries that already match.
var fieldBoosts = []struct {
	field string
	boost float64
}{{"title", 8}, {"tags_text", 3}, {"agency_name", 2}}

func indexMapping() mapping.IndexMapping {
	text := func(store bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzerName
		f.Store = store
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		return f
	}
	kw := func(store, docValues bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store = store
		f.IncludeInAll = false
		f.DocValues = docValues
		return f
	}
	num := func() *mapping.FieldMapping {
		f := bleve.NewNumericFieldMapping()
		f.Store = true
		f.IncludeInAll = false
		return f
	}
	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt("title", text(true))
	dm.AddFieldMappingsAt("description", text(true))
	dm.AddFieldMappingsAt("agency_name", text(true))
	dm.AddFieldMappingsAt("tags_text", text(false))
	dm.AddFieldMappingsAt("fields_text", text(false))
	dm.AddFieldMappingsAt("all", text(false))
	dm.AddFieldMappingsAt("title_exact", kw(false, false))
	dm.AddFieldMappingsAt("slug", kw(true, false))
	for _, f := range facetNames {
		dm.AddFieldMappingsAt(f, kw(true, false))
	}
	// Every facet value of an entry also goes into one field, so counting
	// all six facets reads one doc-value column instead of six; that column
	// is most of the cost of a search at 100,000 entries.
	dm.AddFieldMappingsAt(facetField, kw(false, true))
	dm.AddFieldMappingsAt("hv", num())
	dm.AddFieldMappingsAt("popularity", num())
	upd := bleve.NewDateTimeFieldMapping()
	upd.Store = true
	upd.IncludeInAll = false
	dm.AddFieldMappingsAt("updated", upd)

	im := bleve.NewIndexMapping()
	im.DefaultMapping = dm
	im.DefaultAnalyzer = keyword.Name
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	return im
}

// bleveDoc is the indexed form of an entry.
func bleveDoc(d *datasets.Dataset) map[string]any {
	formats := make([]string, 0, len(d.Formats))
	for _, f := range d.Formats {
		if f = normFormat(f); f != "" {
			formats = append(formats, f)
		}
	}
	tags := make([]string, 0, len(d.Tags))
	for _, t := range d.Tags {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	var fields []string
	for _, f := range d.Fields {
		fields = append(fields, f.Name, f.Description)
	}
	hv := 0
	if d.Category.HighValue() {
		hv = 1
	}
	facets := []string{
		FacetAgency + "=" + d.Agency.ID, FacetCategory + "=" + string(d.Category),
		FacetOpenClass + "=" + string(d.OpenClass), FacetFrequency + "=" + string(d.Frequency),
	}
	for _, f := range formats {
		facets = append(facets, FacetFormat+"="+f)
	}
	for _, t := range tags {
		facets = append(facets, FacetTags+"="+t)
	}
	return map[string]any{
		facetField:    facets,
		"all":         strings.Join([]string{d.Title, strings.Join(tags, " "), d.Agency.Name, d.Description, strings.Join(fields, " ")}, "\n"),
		"title":       d.Title,
		"description": d.Description,
		"agency_name": d.Agency.Name,
		"tags_text":   strings.Join(tags, " "),
		"fields_text": strings.Join(fields, " "),
		"title_exact": compact(d.Title),
		"slug":        d.Slug,
		"agency":      d.Agency.ID,
		"category":    string(d.Category),
		"open_class":  string(d.OpenClass),
		"format":      formats,
		"frequency":   string(d.Frequency),
		"tags":        tags,
		"hv":          hv,
		"popularity":  float64(d.Downloads + d.APICalls),
		"updated":     d.UpdatedAt.UTC(),
	}
}

// Bleve is the embedded index: one scorch index directory in the data
// directory, nothing to install.
type Bleve struct {
	mu   sync.RWMutex // Reset swaps the index
	idx  bleve.Index
	dir  string
	syn  Synonyms
	now  func() time.Time
	done bool
}

// OpenBleve opens the index in dir, creating it if missing. An empty dir
// gives an in-memory index (tests, benchmarks).
func OpenBleve(dir string, syn Synonyms) (*Bleve, error) {
	if syn == nil {
		syn = DefaultSynonyms()
	}
	b := &Bleve{dir: dir, syn: syn, now: time.Now}
	idx, err := b.open()
	if err != nil {
		return nil, err
	}
	b.idx = idx
	return b, nil
}

func (b *Bleve) open() (bleve.Index, error) {
	if b.dir == "" {
		idx, err := bleve.NewMemOnly(indexMapping())
		if err != nil {
			return nil, datasets.Wrap(err, datasets.EINTERNAL, "creating search index")
		}
		return idx, nil
	}
	// A missing or empty directory is a new index; anything else must open.
	var idx bleve.Index
	var err error
	if _, statErr := os.Stat(filepath.Join(b.dir, "index_meta.json")); errors.Is(statErr, fs.ErrNotExist) {
		if ents, _ := os.ReadDir(b.dir); len(ents) > 0 {
			return nil, datasets.Errorf(datasets.EINVALID, "search index directory %s is not empty and holds no index", b.dir)
		}
		_ = os.Remove(b.dir) // bleve.New wants to create it
		idx, err = bleve.New(b.dir, indexMapping())
	} else {
		idx, err = bleve.Open(b.dir)
	}
	if err != nil {
		return nil, datasets.Wrap(err, datasets.EUNAVAILABLE, "opening search index")
	}
	return idx, nil
}

func (b *Bleve) index() (bleve.Index, error) {
	if b.done {
		return nil, datasets.Errorf(datasets.EUNAVAILABLE, "search index is closed")
	}
	return b.idx, nil
}

// Upsert indexes public entries and removes every other one, in one batch.
func (b *Bleve) Upsert(ctx context.Context, ds ...datasets.Dataset) error {
	if err := ctx.Err(); err != nil {
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "search index update cancelled")
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	idx, err := b.index()
	if err != nil {
		return err
	}
	batch := idx.NewBatch()
	for i := range ds {
		d := &ds[i]
		if d.ID == "" {
			return datasets.Errorf(datasets.EINVALID, "entry without id")
		}
		if !d.IsPublic() {
			batch.Delete(d.ID)
			continue
		}
		if err := batch.Index(d.ID, bleveDoc(d)); err != nil {
			return datasets.Wrap(err, datasets.EINTERNAL, "indexing entry %s", d.ID)
		}
	}
	if err := idx.Batch(batch); err != nil {
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "writing search index")
	}
	return nil
}

// Delete removes entries; unknown ids are ignored.
func (b *Bleve) Delete(ctx context.Context, ids ...string) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	idx, err := b.index()
	if err != nil {
		return err
	}
	batch := idx.NewBatch()
	for _, id := range ids {
		batch.Delete(id)
	}
	if err := idx.Batch(batch); err != nil {
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "writing search index")
	}
	return nil
}

// textQuery matches any of the plan's alternatives; within one alternative
// most terms must be present somewhere in the entry, and terms found in the
// title, tags or agency name weigh more.
func textQuery(p plan) query.Query {
	var alts []query.Query
	for ai, terms := range p.terms {
		var match, boost []query.Query
		for _, t := range terms {
			tq := query.NewTermQuery(t)
			tq.SetField("all")
			match = append(match, tq)
			for _, fb := range fieldBoosts {
				bq := query.NewTermQuery(t)
				bq.SetField(fb.field)
				bq.SetBoost(fb.boost)
				boost = append(boost, bq)
			}
		}
		// When every term is required, a conjunction leapfrogs over the
		// rarest posting list instead of walking the union of all of them;
		// a disjunction with min = n would match the same entries with the
		// same scores (its coordination factor is then 1).
		var dq query.Query
		switch need := minMatch(len(match)); {
		case len(match) == 1:
			dq = match[0]
		case need == len(match):
			dq = query.NewConjunctionQuery(match)
		default:
			d := query.NewDisjunctionQuery(match)
			d.SetMin(float64(need))
			dq = d
		}
		exact := query.NewTermQuery(compact(p.alts[ai]))
		exact.SetField("title_exact")
		exact.SetBoost(20)
		boost = append(boost, exact)
		alt := query.NewBooleanQuery([]query.Query{dq}, []query.Query{query.NewDisjunctionQuery(boost)}, nil)
		if ai > 0 {
			alt.SetBoost(0.8) // a rewrite is slightly weaker evidence than the words typed
		}
		alts = append(alts, alt)
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return query.NewDisjunctionQuery(alts)
}

func termsFilter(field string, values []string) query.Query {
	var qs []query.Query
	for _, v := range values {
		tq := query.NewTermQuery(v)
		tq.SetField(field)
		qs = append(qs, tq)
	}
	return query.NewDisjunctionQuery(qs)
}

// filters turns q's filters into bleve queries. Only public entries are
// ever indexed; a filter on non-public classes matches nothing.
func filters(q datasets.SearchQuery) []query.Query {
	var fs []query.Query
	if len(q.OpenClasses) > 0 {
		var classes []string
		for _, c := range q.OpenClasses {
			if c.Public() {
				classes = append(classes, string(c))
			}
		}
		if len(classes) == 0 {
			return []query.Query{query.NewMatchNoneQuery()}
		}
		fs = append(fs, termsFilter(FacetOpenClass, classes))
	}
	if len(q.AgencyIDs) > 0 {
		fs = append(fs, termsFilter(FacetAgency, q.AgencyIDs))
	}
	if len(q.Categories) > 0 {
		fs = append(fs, termsFilter(FacetCategory, strs(q.Categories)))
	}
	if len(q.Formats) > 0 {
		var f []string
		for _, v := range q.Formats {
			f = append(f, normFormat(v))
		}
		fs = append(fs, termsFilter(FacetFormat, f))
	}
	if len(q.Frequencies) > 0 {
		fs = append(fs, termsFilter(FacetFrequency, strs(q.Frequencies)))
	}
	if len(q.Tags) > 0 {
		fs = append(fs, termsFilter(FacetTags, q.Tags))
	}
	return fs
}

func closedQuery() query.Query {
	tq := query.NewTermQuery(string(datasets.Closed))
	tq.SetField(FacetOpenClass)
	return tq
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// facetField holds "name=value" for every facet value of an entry.
const facetField = "facet"

// facetSizes caps how many values of each facet a result reports; the
// engine counts up to facetValues values over all facets together.
var facetSizes = map[string]int{FacetAgency: 200, FacetCategory: 20, FacetOpenClass: 5, FacetFormat: 50, FacetFrequency: 10, FacetTags: 50}

const facetValues = 5000

var storedFields = []string{"title", "description", "agency_name", "tags", "category", "popularity", "updated", "slug"}

// Search runs q. Relevance order is decided by rank over the engine's best
// hits; the other orders come straight from the engine.
func (b *Bleve) Search(ctx context.Context, q datasets.SearchQuery) (datasets.SearchResult, error) {
	q, err := normalizeQuery(q)
	if err != nil {
		return datasets.SearchResult{}, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	idx, err := b.index()
	if err != nil {
		return datasets.SearchResult{}, err
	}
	p := newPlan(q.Text, b.syn)
	bq := query.NewBooleanQuery(nil, nil, nil)
	if p.empty() {
		bq.AddMust(query.NewMatchAllQuery())
	} else {
		bq.AddMust(textQuery(p))
	}
	// AddFilter keeps only one filter query, so all filters go in one conjunction.
	if fs := filters(q); len(fs) > 0 {
		bq.AddFilter(query.NewConjunctionQuery(fs))
	}
	// Belt and braces: a closed entry that reached the index by a bug is
	// still never returned (its term has no postings otherwise, so this is free).
	bq.AddMustNot(closedQuery())
	rerank := q.Sort == "relevance" && !p.empty()
	size, from := q.PerPage, (q.Page-1)*q.PerPage
	if rerank {
		size, from = rerankWindow(q), 0
	}
	req := bleve.NewSearchRequestOptions(bq, size, from, false)
	req.Fields = storedFields
	switch {
	case q.Sort == "updated":
		req.SortBy([]string{"-updated", "-_score", "_id"})
	case q.Sort == "popular":
		req.SortBy([]string{"-popularity", "-_score", "_id"})
	case p.empty():
		// Browsing without words: high-value first (art. 31), then use and freshness.
		req.SortBy([]string{"-hv", "-popularity", "-updated", "_id"})
	}
	if os.Getenv("ZZ_NOFACET") == "" {
	req.AddFacet(facetField, bleve.NewFacetRequest(facetField, facetValues))
	}
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return datasets.SearchResult{}, datasets.Wrap(err, datasets.EUNAVAILABLE, "search cancelled")
		}
		return datasets.SearchResult{}, datasets.Wrap(err, datasets.EINTERNAL, "searching")
	}
	cs := make([]candidate, 0, len(res.Hits))
	for _, h := range res.Hits {
		cs = append(cs, candidateFromBleve(h.ID, h.Score, h.Fields))
	}
	if !rerank {
		// Engine order; scores still explained on request.
		for i := range cs {
			cs[i].final = cs[i].engineScore
		}
		if q.Explain {
			rankExplainOnly(p, cs, b.now())
		}
	} else {
		rank(p, cs, b.now(), q.Explain)
		lo := min(len(cs), (q.Page-1)*q.PerPage)
		hi := min(len(cs), lo+q.PerPage)
		cs = cs[lo:hi]
	}
	out := datasets.SearchResult{
		Hits:   hitsFromCandidates(p, cs, q.Explain),
		Total:  int(res.Total),
		Facets: map[string]map[string]int{},
	}
	for _, f := range facetNames {
		out.Facets[f] = map[string]int{}
	}
	if fr := res.Facets[facetField]; fr != nil && fr.Terms != nil {
		for _, t := range fr.Terms.Terms() { // most frequent first
			name, value, ok := strings.Cut(t.Term, "=")
			m := out.Facets[name]
			if !ok || m == nil || len(m) >= facetSizes[name] {
				continue
			}
			m[value] = t.Count
		}
	}
	return out, nil
}

// rankExplainOnly fills explanations without reordering.
func rankExplainOnly(p plan, cs []candidate, now time.Time) {
	order := make([]string, len(cs))
	for i, c := range cs {
		order[i] = c.id
	}
	byID := map[string]candidate{}
	tmp := append([]candidate(nil), cs...)
	rank(p, tmp, now, true)
	for _, c := range tmp {
		byID[c.id] = c
	}
	for i, id := range order {
		e := byID[id].explain
		e["score"] = cs[i].engineScore
		e["order"] = "engine sort"
		cs[i].explain = e
	}
}

func candidateFromBleve(id string, score float64, f map[string]any) candidate {
	c := candidate{id: id, engineScore: score}
	c.title, _ = f["title"].(string)
	c.description, _ = f["description"].(string)
	c.agency, _ = f["agency_name"].(string)
	switch t := f["tags"].(type) {
	case string:
		c.tags = []string{t}
	case []any:
		for _, v := range t {
			if s, ok := v.(string); ok {
				c.tags = append(c.tags, s)
			}
		}
	}
	if s, ok := f["category"].(string); ok {
		c.category = datasets.Category(s)
	}
	if n, ok := f["popularity"].(float64); ok {
		c.popularity = int64(n)
	}
	if s, ok := f["updated"].(string); ok {
		c.updated, _ = time.Parse(time.RFC3339, s)
	}
	return c
}

// Suggest completes a title: titles starting with the prefix first, then
// titles containing it, high-value and much-used entries first among equals.
func (b *Bleve) Suggest(ctx context.Context, prefix string, n int) ([]datasets.Suggestion, error) {
	if n <= 0 {
		n = 10
	}
	n = min(n, 50)
	pre := compact(prefix)
	if pre == "" {
		return []datasets.Suggestion{}, nil
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	idx, err := b.index()
	if err != nil {
		return nil, err
	}
	pq := query.NewPrefixQuery(pre)
	pq.SetField("title_exact")
	pq.SetBoost(10)
	alts := []query.Query{pq}
	if terms := queryTerms(pre); len(terms) > 0 {
		var must []query.Query
		for _, t := range terms {
			tq := query.NewTermQuery(t)
			tq.SetField("title")
			must = append(must, tq)
		}
		alts = append(alts, query.NewConjunctionQuery(must))
		// The last word may be unfinished: "bu" → bus.
		runs := queryRuns(pre)
		if last := runs[len(runs)-1]; !containsHan(last) {
			lp := query.NewPrefixQuery(last)
			lp.SetField("title")
			alts = append(alts, lp)
		}
	}
	bq := query.NewBooleanQuery(nil, nil, nil)
	bq.AddMust(query.NewDisjunctionQuery(alts))
	// High-value entries first among equal completions, by score rather than
	// a field sort, which would read doc values of every matching title.
	one, incl := 1.0, true
	hv := query.NewNumericRangeInclusiveQuery(&one, &one, &incl, &incl)
	hv.SetField("hv")
	hv.SetBoost(2)
	bq.AddShould(hv)
	bq.AddMustNot(closedQuery())
	req := bleve.NewSearchRequestOptions(bq, n, 0, false)
	req.Fields = []string{"title", "slug"}
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, datasets.Wrap(err, datasets.EINTERNAL, "suggesting")
	}
	out := make([]datasets.Suggestion, 0, len(res.Hits))
	for _, h := range res.Hits {
		s := datasets.Suggestion{ID: h.ID}
		s.Title, _ = h.Fields["title"].(string)
		s.Slug, _ = h.Fields["slug"].(string)
		out = append(out, s)
	}
	return out, nil
}

func containsHan(s string) bool {
	for _, r := range s {
		if isHan(r) {
			return true
		}
	}
	return false
}

// Reset empties the index by recreating it.
func (b *Bleve) Reset(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return datasets.Errorf(datasets.EUNAVAILABLE, "search index is closed")
	}
	if err := b.idx.Close(); err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "closing search index")
	}
	if b.dir != "" {
		if err := os.RemoveAll(b.dir); err != nil {
			return datasets.Wrap(err, datasets.EUNAVAILABLE, "removing search index")
		}
	}
	idx, err := b.open()
	if err != nil {
		b.done = true
		return err
	}
	b.idx = idx
	return nil
}

// Ping checks the index is open and readable.
func (b *Bleve) Ping(ctx context.Context) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	idx, err := b.index()
	if err != nil {
		return err
	}
	if _, err := idx.DocCount(); err != nil {
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "search index unreadable")
	}
	return nil
}

// DocCount returns how many entries are indexed.
func (b *Bleve) DocCount() (uint64, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	idx, err := b.index()
	if err != nil {
		return 0, err
	}
	return idx.DocCount()
}

// Close closes the index; later calls are EUNAVAILABLE.
func (b *Bleve) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return nil
	}
	b.done = true
	if err := b.idx.Close(); err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "closing search index")
	}
	return nil
}
