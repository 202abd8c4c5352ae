package search

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"

	"kaifang/datasets"
	"kaifang/datasets/search/pinyin"
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

// initialsBoost weighs a match of the query as pinyin initials of the
// title ("gjj" → 公积金). It is weak evidence (short English words look like
// initials too), so it is far below any text field's weight, and rank puts
// an entry found only by its initials below every text match anyway.
const initialsBoost = 0.5

// initialsField holds every prefix of the pinyin.IndexTerms of the title
// (initialsKeys), one keyword each, so an initials query is one term query
// (one posting list) rather than a prefix query over many terms: "xm"
// starts the initials of a tenth of a Xiamen catalogue's titles.
const initialsField = "initials"

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
	dm.AddFieldMappingsAt(initialsField, kw(false, false))
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
		initialsField: initialsKeys(pinyin.IndexTerms(d.Title)),
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
	// stale: built by an earlier version of this code (indexSchema)
	stale bool

	writeMu sync.Mutex   // one write at a time, so the bitmaps follow bleve's order of writes
	cache   *resultCache // answers of the current index generation
	bits    *bitmapIndex // matching sets and facet counts

	// unpruned (tests): build every query as if the bitmaps knew nothing of
	// dead boost clauses or of each alternative's titled entries, to
	// compare with the answers that use them.
	unpruned bool
	// noTextWindow (tests): choose a window by prior only among titled
	// entries, as before it was also chosen among all matches of the words.
	noTextWindow bool
	// scoreAll (tests): no window; bleve scores every match of the words
	// and rank orders them all, the answer a window must reproduce.
	scoreAll bool
	// plainWindow (tests): run a window's query as a plain bleve query
	// (DocIDQuery, every clause reading its own postings), not windowScoped.
	plainWindow bool
	// perClass (tests): priorWindow's k instead of priorWindowPerClass.
	perClass int
}

// defaultCacheEntries bounds the remembered answers: pages and
// suggestions together, at most a few tens of MiB.
const defaultCacheEntries = 1024

// SetCacheSize bounds how many answers (result pages, suggestion lists)
// are remembered until the next write to the index; 0 turns remembering
// off, which benchmarks use to time the engine itself.
func (b *Bleve) SetCacheSize(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cache = newResultCache(n)
}

// OpenBleve opens the index in dir, creating it if missing. An empty dir
// gives an in-memory index (tests, benchmarks).
func OpenBleve(dir string, syn Synonyms) (*Bleve, error) {
	if syn == nil {
		syn = DefaultSynonyms()
	}
	b := &Bleve{dir: dir, syn: syn, now: time.Now, cache: newResultCache(defaultCacheEntries), bits: newBitmapIndex()}
	idx, err := b.open()
	if err != nil {
		return nil, err
	}
	if err := b.bits.rebuild(context.Background(), idx); err != nil {
		idx.Close()
		return nil, err
	}
	b.idx = idx
	return b, nil
}

// indexSchema names what an index built by this code holds. An index built
// by an earlier version (without the initials field, say) reports itself
// stale, and the indexer rebuilds it from the catalogue before it serves
// (Indexer.Sync), instead of answering without what was added.
const indexSchema = "kaifang-bleve-3" // 3: pinyin initials

var schemaKey = []byte("kaifang.schema")

// Stale reports whether the index was built by an earlier version of this
// code and needs a rebuild (Indexer.Sync does it).
func (b *Bleve) Stale() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.stale
}

func (b *Bleve) open() (bleve.Index, error) {
	idx, err := b.openIndex()
	if err != nil {
		return nil, err
	}
	have, err := idx.GetInternal(schemaKey)
	switch {
	case err != nil:
		idx.Close()
		return nil, datasets.Wrap(err, datasets.EUNAVAILABLE, "reading search index schema")
	case have == nil && b.empty(idx):
		if err := idx.SetInternal(schemaKey, []byte(indexSchema)); err != nil {
			idx.Close()
			return nil, datasets.Wrap(err, datasets.EUNAVAILABLE, "writing search index schema")
		}
		b.stale = false
	default:
		b.stale = string(have) != indexSchema
	}
	return idx, nil
}

// empty reports whether idx holds no document (a new index).
func (b *Bleve) empty(idx bleve.Index) bool {
	n, err := idx.DocCount()
	return err == nil && n == 0
}

func (b *Bleve) openIndex() (bleve.Index, error) {
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
	ids := make([]string, 0, len(ds))
	docs := make([]*bitmapDoc, 0, len(ds))
	for i := range ds {
		d := &ds[i]
		if d.ID == "" {
			return datasets.Errorf(datasets.EINVALID, "entry without id")
		}
		ids = append(ids, d.ID)
		if !d.IsPublic() {
			batch.Delete(d.ID)
			docs = append(docs, nil)
			continue
		}
		doc := bleveDoc(d)
		if err := batch.Index(d.ID, doc); err != nil {
			return datasets.Wrap(err, datasets.EINTERNAL, "indexing entry %s", d.ID)
		}
		docs = append(docs, newBitmapDoc(doc))
	}
	return b.write(idx, ids, docs, batch)
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
	return b.write(idx, ids, make([]*bitmapDoc, len(ids)), batch)
}

// write applies batch, which sets the entries ids to docs (nil: removed),
// to bleve and then to the bitmaps, and forgets the remembered answers.
func (b *Bleve) write(idx bleve.Index, ids []string, docs []*bitmapDoc, batch *bleve.Batch) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.cache.beginWrite()
	defer b.cache.endWrite()
	if err := idx.Batch(batch); err != nil {
		// Even a failed batch may have been partly applied: the bitmaps
		// are read back from bleve before the next search.
		b.bits.markStale()
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "writing search index")
	}
	b.bits.apply(ids, docs)
	return nil
}

// textQuery matches any of the plan's alternatives; within one alternative
// most terms must be present somewhere in the entry, and terms found in the
// title, tags or agency name weigh more. A within query, if any, must match
// too and adds nothing to the score: it narrows the entries bleve scores
// without changing the score of any of them. (It goes inside each
// alternative, next to the required terms, rather than beside the whole
// query: a bleve boolean searcher with should clauses loses their bonus on
// some entries when it is advanced rather than iterated, v2.5.7.) The
// boost clauses in dead hold no entry the search scores: they keep their
// place in the query but never read their postings (deadQuery).
func textQuery(p plan, within query.Query, dead map[leaf]bool) query.Query {
	return textQueryWithin(p, func(int) query.Query { return within }, dead)
}

// textQueryWithin is textQuery with a within query for each alternative
// (nil: none).
func textQueryWithin(p plan, withinOf func(ai int) query.Query, dead map[leaf]bool) query.Query {
	var alts []query.Query
	for ai, terms := range p.terms {
		within := withinOf(ai)
		var match, boost []query.Query
		// Bleve walks a disjunction of more than DisjunctionHeapTakeover
		// clauses with a heap, whose order of adding up the clauses an
		// entry matches depends on every clause's position, dead or not:
		// skipping dead ones there would move scores by a rounding error.
		// A smaller disjunction adds them up in clause order.
		altDead := dead
		if len(terms)*len(fieldBoosts)+1 > searcher.DisjunctionHeapTakeover {
			altDead = nil
		}
		for _, t := range terms {
			tq := query.NewTermQuery(t)
			tq.SetField("all")
			match = append(match, tq)
			for _, fb := range fieldBoosts {
				bq := query.NewTermQuery(t)
				bq.SetField(fb.field)
				bq.SetBoost(fb.boost)
				boost = append(boost, maybeDead(bq, altDead))
			}
		}
		// When every term is required, a conjunction leapfrogs over the
		// rarest posting list instead of walking the union of all of them;
		// a disjunction with min = n would match the same entries with the
		// same scores (its coordination factor is then 1).
		var dq query.Query
		switch need := minMatch(len(match)); {
		case need == len(match):
			if within != nil {
				match = append(match, within)
			}
			if len(match) == 1 {
				dq = match[0]
			} else {
				dq = query.NewConjunctionQuery(match)
			}
		default:
			// within goes next to each term, so the union of the
			// posting lists is walked only inside it.
			if within != nil {
				for i, m := range match {
					match[i] = query.NewConjunctionQuery([]query.Query{m, within})
				}
			}
			d := query.NewDisjunctionQuery(match)
			d.SetMin(float64(need))
			dq = d
		}
		exact := query.NewTermQuery(compact(p.alts[ai]))
		exact.SetField("title_exact")
		exact.SetBoost(20)
		boost = append(boost, maybeDead(exact, altDead))
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

// maybeDead is tq, or a deadQuery of it if dead says no entry the search
// scores holds its term.
func maybeDead(tq *query.TermQuery, dead map[leaf]bool) query.Query {
	if dead[leaf{tq.Field(), tq.Term}] {
		return deadQuery{tq}
	}
	return tq
}

// deadQuery is a term query that matches none of the entries a search
// scores (the bitmaps say so), yet must stay in the query: its weight is
// part of the query norm, and its place part of the coordination factor
// of its disjunction, so dropping it would change every score. Its
// searcher is the term query's, built as usual so both are exactly as
// before, but it never walks the postings: advancing such terms to each
// scored entry was up to 40 % of a synonym query's cost at 100,000
// entries (公積金, when all of them could be skipped).
type deadQuery struct{ *query.TermQuery }

func (q deadQuery) Searcher(ctx context.Context, i index.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	s, err := q.TermQuery.Searcher(ctx, i, m, options)
	if err != nil {
		return nil, err
	}
	return deadSearcher{s}, nil
}

type deadSearcher struct{ search.Searcher }

func (deadSearcher) Next(*search.SearchContext) (*search.DocumentMatch, error) { return nil, nil }

func (deadSearcher) Advance(*search.SearchContext, index.IndexInternalID) (*search.DocumentMatch, error) {
	return nil, nil
}

// initialsQuery matches the entries with an initials term starting with
// p.initials (within within, if not nil), weakly boosted.
func initialsQuery(p plan, within query.Query) query.Query {
	pq := query.NewTermQuery(p.initials)
	pq.SetField(initialsField)
	pq.SetBoost(initialsBoost)
	if within == nil {
		return pq
	}
	return query.NewConjunctionQuery([]query.Query{pq, within})
}

// wordsOrInitials is textQuery or, for an initials query, textQuery or
// initialsQuery.
func wordsOrInitials(p plan, within query.Query) query.Query {
	tq := textQuery(p, within, nil)
	if p.initials == "" {
		return tq
	}
	return query.NewDisjunctionQuery([]query.Query{tq, initialsQuery(p, within)})
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

// filters turns q's filters into bleve queries: one OR of terms per group,
// the groups ANDed. A query left with no possible match matches nothing.
func filters(q datasets.SearchQuery) []query.Query {
	groups, ok := filterGroups(q)
	if !ok {
		return []query.Query{query.NewMatchNoneQuery()}
	}
	var fs []query.Query
	for _, g := range groups {
		fs = append(fs, termsFilter(g.field, g.values))
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

// matchQuery is the query of the entries q matches, whatever the order;
// with titled, only of those in sel.titled (titledQuery), each with the
// score it has without titled. sel, if not nil, is what the bitmaps say of
// q: it tells bleve how many entries the filters and titled keep, so it
// walks them rather than the terms.
func matchQuery(p plan, q datasets.SearchQuery, titled bool, sel *selection) *query.BooleanQuery {
	if titled {
		return partQuery(p, q, partTitled, sel)
	}
	return partQuery(p, q, partAll, sel)
}

// matchPart is which of a search's matches a query asks bleve for.
type matchPart int

const (
	partAll      matchPart = iota // every match: words or initials
	partWords                     // the matches of the words
	partTitled                    // the matches of the words in sel.titled
	partInitials                  // the matches of the initials alone
	partWindow                    // the window priorWindow chose (windowQuery)
)

// priorWin is the window of a search priorWindow chose: its entries, and
// the boost clauses none of them holds (deadLeaves).
type priorWin struct {
	ids  []string
	ords []uint32 // ords[i] is the ordinal of ids[i] when chosen
	dead map[leaf]bool
}

// stableScore is an engine score without its last 20 bits. Bleve adds up
// the clauses an entry matches in a disjunction of more than
// searcher.DisjunctionHeapTakeover clauses in heap order, which depends on
// the other entries of the segment, so the same entry's score moves by a
// rounding error when segments merge. A window chosen by prior is meant to
// give the same page whatever the segments; with the noise cut off, entries
// it made unequal tie again and rank orders them by id.
func stableScore(s float64) float64 {
	return math.Float64frombits(math.Float64bits(s) &^ (1<<20 - 1))
}

// windowQuery scores the entries of win, each as the query of the titled
// entries would (partTitled): the same clauses, restricted to the window
// by id instead of by title terms. The window already passed the filters
// and the closed-entry exclusion (the bitmaps chose it from the matches).
//
// It is run as a windowScoped query: each (field, term) is read once for
// all its clauses, at the window's entries only, and the window's ids are
// looked up once.
func windowQuery(p plan, win *priorWin, c *segIDs) query.Query {
	within := sized{windowIDs{win.ids}, uint64(len(win.ids))}
	bq := query.NewBooleanQuery(nil, nil, nil)
	bq.AddMust(textQuery(p, within, win.dead))
	bq.AddMustNot(closedQuery())
	return windowScoped{bq, win.ids, c}
}

// plainWindowQuery is windowQuery as a plain bleve query: the window
// restricted by a DocIDQuery, every clause walking its own postings
// (tests compare both).
func plainWindowQuery(p plan, win *priorWin) query.Query {
	within := withinQuery(nil, query.NewDocIDQuery(win.ids), uint64(len(win.ids)))
	bq := query.NewBooleanQuery(nil, nil, nil)
	bq.AddMust(textQuery(p, within, win.dead))
	bq.AddMustNot(closedQuery())
	return bq
}

// partQuery is the query of part of the entries q matches (matchQuery).
func partQuery(p plan, q datasets.SearchQuery, part matchPart, sel *selection) *query.BooleanQuery {
	titled := part == partTitled && sel != nil && sel.titled != nil
	bq := query.NewBooleanQuery(nil, nil, nil)
	fs := filters(q)
	if p.empty() {
		bq.AddMust(query.NewMatchAllQuery())
	} else {
		// The filters also go next to the terms, so entries they exclude
		// are skipped rather than scored and then dropped.
		var w query.Query
		switch {
		case titled:
			w = withinQuery(fs, titledQuery(sel.titleTerms, sel.exact), sel.titled.GetCardinality())
		case len(fs) > 0 && sel != nil && sel.filters != nil:
			w = withinQuery(fs, nil, sel.filters.GetCardinality())
		case len(fs) > 0:
			w = withinQuery(fs, nil, 0)
		}
		switch {
		case part == partAll && p.initials != "":
			bq.AddMust(wordsOrInitials(p, w))
		case part == partInitials && p.initials != "":
			bq.AddMust(initialsQuery(p, w))
			bq.AddMustNot(textQuery(p, nil, nil))
		case part == partInitials:
			bq.AddMust(query.NewMatchNoneQuery())
		case titled:
			whole := w
			bq.AddMust(textQueryWithin(p, func(ai int) query.Query {
				if ai < len(sel.altTitled) && sel.altTitled[ai] != nil {
					part := sel.altTitled[ai]
					return withinQuery(fs, titledQuery(part.titleTerms, part.exact), part.n)
				}
				return whole
			}, sel.deadTitled))
		case part == partWords && sel != nil:
			bq.AddMust(textQuery(p, w, sel.deadWords))
		default:
			bq.AddMust(textQuery(p, w, nil))
		}
	}
	// With words, the filters are already next to the terms of every
	// clause that matches; a filter on top would only advance its terms
	// to every hit once more. Browsing needs it. AddFilter keeps only one filter query, so all filters go
	// in one conjunction.
	if len(fs) > 0 && p.empty() {
		bq.AddFilter(query.NewConjunctionQuery(filters(q)))
	}
	// Belt and braces: a closed entry that reached the index by a bug is
	// still never returned (its term has no postings otherwise, so this is free).
	bq.AddMustNot(closedQuery())
	return bq
}

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
	// Read the generation before searching: an answer computed while a
	// write lands is then stored under the old generation and never served.
	gen := b.cache.generation()
	rkey := resultKey(p, q)
	if !q.Explain {
		if v, ok := b.cache.get(rkey); ok {
			return cloneResult(v.(datasets.SearchResult)), nil
		}
	}
	// The matching set, its total and its exact facet counts come from the
	// bitmaps; bleve only scores and orders.
	if err := b.bits.ensure(ctx, idx); err != nil {
		return datasets.SearchResult{}, err
	}
	rerank := q.Sort == "relevance" && !p.empty()
	size, from := q.PerPage, (q.Page-1)*q.PerPage
	if rerank {
		size, from = rerankWindow(q), 0
	}
	now := b.now()
	b.bits.mu.RLock()
	sel := b.bits.selectEntries(p, q)
	counted := b.bits.count(sel.match)
	// More titled entries than the window holds: the window is chosen
	// here, by what rank knows before bleve scores (priorWindow), rather
	// than by bleve's top size, whose ties fall by index order.
	// With fewer titled entries than that (none, for an agency's name, or
	// under a filter that keeps none of them) but more matches of the
	// words, the window is chosen the same way among all of those: the
	// titled ones, in tiers above the rest, are classes of their own.
	var win *priorWin
	if rerank && !b.scoreAll {
		var from *roaring.Bitmap
		switch {
		case sel.titled != nil && int(sel.titled.GetCardinality()) >= size:
			from = sel.titled
		case !b.noTextWindow && sel.text != nil && int(sel.text.GetCardinality()) >= size:
			from = sel.text
		}
		if from != nil {
			k := priorWindowPerClass
			if b.perClass > 0 {
				k = b.perClass
			}
			ids, ords := b.bits.priorWindow(p, from, max(k, size), now)
			win = &priorWin{ids: ids, ords: ords.ToArray(), dead: b.bits.deadLeaves(p, ords)}
		}
	}
	b.bits.mu.RUnlock()
	if b.scoreAll {
		// Every match of the words is scored and ranked (tests).
		size = max(size, int(sel.text.GetCardinality()))
	}
	if b.unpruned {
		sel.deadTitled, sel.deadWords, sel.altTitled = nil, nil, nil
		if win != nil {
			win.dead = nil
		}
	}
	out := datasets.SearchResult{Total: counted.total, Facets: counted.facets(), Hits: []datasets.SearchHit{}}
	if counted.total == 0 {
		if !q.Explain {
			b.cache.put(rkey, gen, cloneResult(out))
		}
		return out, nil
	}

	// parts are the queries whose hits, in this order, make the window.
	parts := []matchPart{partAll}
	if rerank {
		words := int(sel.text.GetCardinality())
		switch {
		case win != nil:
			// Score only what can be shown: when enough matches hold the
			// rarest term of an alternative in their title (which takes in
			// the entries rank puts in its upper tiers, bar a title whose
			// words an agency wrote apart), the window is drawn from them
			// alone: a few hundred of them chosen by priorWindow, each
			// scored as among all titled entries (less rounding noise,
			// stableScore). With too few titled entries, the window is
			// drawn the same way from all the matches of the words.
			parts = []matchPart{partWindow}
			size = len(win.ids)
		case sel.initials == nil || sel.initials.IsEmpty() || words >= size:
			// No match by initials alone can reach the window: rank puts
			// them below every match of the words.
			parts = []matchPart{partWords}
		case words == 0:
			parts = []matchPart{partInitials}
		default:
			// Every match of the words, then the best of the initials
			// alone: one query for both could let initials matches with
			// a higher engine score crowd words matches out of the window.
			parts = []matchPart{partWords, partInitials}
		}
	}
	if from >= counted.total {
		if !q.Explain {
			b.cache.put(rkey, gen, cloneResult(out))
		}
		return out, nil
	}
	// Ranking a window needs no stored fields: the bitmaps keep what rank
	// reads, and only the page shown loads them (loadFields).
	light := rerank && !q.Explain
	lightFetch := light
	var cs []candidate
	for _, part := range parts {
		n := size - len(cs)
		if n <= 0 {
			break
		}
		if part == partWindow && lightFetch && !b.plainWindow {
			got, ok, err := b.scoreWindow(ctx, idx, p, win)
			if err != nil {
				return datasets.SearchResult{}, err
			}
			if ok {
				for i := range got {
					got[i].engineScore = stableScore(got[i].engineScore)
				}
				cs = append(cs, got...)
				continue
			}
		}
		var bq query.Query = partQuery(p, q, part, &sel)
		if part == partWindow {
			bq = windowQuery(p, win, b.bits.segIDs)
			if b.plainWindow {
				bq = plainWindowQuery(p, win)
			}
		}
		got, loaded, err := b.fetch(ctx, idx, p, q, bq, n, from, lightFetch)
		if err != nil {
			return datasets.SearchResult{}, err
		}
		if loaded {
			lightFetch = false // written since the search began: load fields from now on
		}
		for i := range got {
			got[i].initialsOnly = part == partInitials
			if part == partWindow {
				got[i].engineScore = stableScore(got[i].engineScore)
			}
		}
		cs = append(cs, got...)
	}
	if !rerank {
		// Engine order; scores still explained on request.
		for i := range cs {
			cs[i].final = cs[i].engineScore
		}
		if q.Explain {
			rankExplainOnly(p, cs, now)
		}
	} else {
		rank(p, cs, now, q.Explain)
		if q.Explain && win != nil {
			for i := range cs {
				cs[i].explain["window"] = "prior"
			}
		}
		lo := min(len(cs), (q.Page-1)*q.PerPage)
		hi := min(len(cs), lo+q.PerPage)
		cs = cs[lo:hi]
	}
	if light {
		if err := loadFields(ctx, idx, cs); err != nil {
			return datasets.SearchResult{}, err
		}
	}
	out.Hits = hitsFromCandidates(p, cs, q.Explain)
	if !q.Explain {
		b.cache.put(rkey, gen, cloneResult(out))
	}
	return out, nil
}

// fetch runs bq for size hits from from, in q's engine order, as
// candidates; light ones have only what the bitmaps keep (loaded is true
// when they had to be loaded from bleve after all).
func (b *Bleve) fetch(ctx context.Context, idx bleve.Index, p plan, q datasets.SearchQuery, bq query.Query, size, from int, light bool) (cs []candidate, loaded bool, err error) {
	req := bleve.NewSearchRequestOptions(bq, size, from, false)
	if !light {
		req.Fields = storedFields
	}
	switch {
	case q.Sort == "updated":
		req.SortBy([]string{"-updated", "-_score", "_id"})
	case q.Sort == "popular":
		req.SortBy([]string{"-popularity", "-_score", "_id"})
	case p.empty():
		// Browsing without words: high-value first (art. 31), then use and freshness.
		req.SortBy([]string{"-hv", "-popularity", "-updated", "_id"})
	}
	run := func() (*bleve.SearchResult, error) {
		res, err := idx.SearchInContext(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, datasets.Wrap(err, datasets.EUNAVAILABLE, "search cancelled")
			}
			return nil, datasets.Wrap(err, datasets.EINTERNAL, "searching")
		}
		return res, nil
	}
	res, err := run()
	if err != nil {
		return nil, false, err
	}
	cs = make([]candidate, 0, len(res.Hits))
	if light {
		b.bits.mu.RLock()
		for _, h := range res.Hits {
			c, ok := b.bits.candidate(h.ID, h.Score)
			if !ok { // written since the search began: load them after all
				light = false
				break
			}
			cs = append(cs, c)
		}
		b.bits.mu.RUnlock()
		if light {
			return cs, false, nil
		}
		cs = cs[:0]
		loaded = true
		req.Fields = storedFields
		if res, err = run(); err != nil {
			return nil, false, err
		}
	}
	for _, h := range res.Hits {
		cs = append(cs, candidateFromBleve(h.ID, h.Score, h.Fields))
	}
	return cs, loaded, nil
}

// loadFields fills in the stored fields of ranked candidates, for
// highlighting; their order and scores stay.
func loadFields(ctx context.Context, idx bleve.Index, cs []candidate) error {
	if len(cs) == 0 {
		return nil
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.id
	}
	req := bleve.NewSearchRequestOptions(query.NewDocIDQuery(ids), len(ids), 0, false)
	req.Fields = storedFields
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "loading search hits")
	}
	byID := make(map[string]map[string]any, len(res.Hits))
	for _, h := range res.Hits {
		byID[h.ID] = h.Fields
	}
	for i := range cs {
		f, ok := byID[cs[i].id]
		if !ok {
			continue // deleted since: shown with what ranking knew
		}
		full := candidateFromBleve(cs[i].id, cs[i].engineScore, f)
		cs[i].title, cs[i].description, cs[i].agency, cs[i].tags = full.title, full.description, full.agency, full.tags
		cs[i].compacted = false
	}
	return nil
}

// withinQuery is the conjunction of the filters fs and, if not nil, of
// titled, adding nothing to any score; n > 0 is how many entries it holds
// (sized).
func withinQuery(fs []query.Query, titled query.Query, n uint64) query.Query {
	within := slices.Clone(fs)
	if titled != nil {
		within = append(within, titled)
	}
	for _, f := range within {
		zeroBoost(f)
	}
	var cq query.Query = within[0]
	if len(within) > 1 {
		c := query.NewConjunctionQuery(within)
		c.SetBoost(0)
		cq = c
	}
	if n > 0 {
		return sized{cq, n}
	}
	return cq
}

// titledQuery matches the entries with a title holding one of titleTerms
// or equal to one of exact (sel.titled before the other conditions).
// Single terms, so bleve walks it cheaply.
func titledQuery(titleTerms, exact []string) query.Query {
	var qs []query.Query
	for _, t := range titleTerms {
		tq := query.NewTermQuery(t)
		tq.SetField("title")
		qs = append(qs, tq)
	}
	for _, e := range exact {
		tq := query.NewTermQuery(e)
		tq.SetField("title_exact")
		qs = append(qs, tq)
	}
	switch len(qs) {
	case 0:
		return query.NewMatchNoneQuery()
	case 1:
		return qs[0]
	}
	return query.NewDisjunctionQuery(qs)
}

// sized is a query whose searcher tells bleve it matches n entries. Bleve
// orders the parts of a conjunction by how many entries each matches and
// walks the smallest, but guesses a composite query's count as the sum of
// its parts'; the bitmaps know the real one.
type sized struct {
	query.Query
	n uint64
}

func (q sized) Searcher(ctx context.Context, i index.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	s, err := q.Query.Searcher(ctx, i, m, options)
	if err != nil {
		return nil, err
	}
	if _, none := s.(*searcher.MatchNoneSearcher); none {
		return s, nil
	}
	return sizedSearcher{s, q.n}, nil
}

type sizedSearcher struct {
	search.Searcher
	n uint64
}

func (s sizedSearcher) Count() uint64 { return s.n }

// zeroBoost makes q and everything in it add nothing to a score.
func zeroBoost(q query.Query) {
	switch q := q.(type) {
	case *query.TermQuery:
		q.SetBoost(0)
	case *query.ConjunctionQuery:
		q.SetBoost(0)
		for _, c := range q.Conjuncts {
			zeroBoost(c)
		}
	case *query.DisjunctionQuery:
		q.SetBoost(0)
		for _, c := range q.Disjuncts {
			zeroBoost(c)
		}
	case query.BoostableQuery:
		q.SetBoost(0)
	}
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
	gen := b.cache.generation()
	skey := "s\x00" + pre + "\x00" + strconv.Itoa(n)
	if v, ok := b.cache.get(skey); ok {
		return slices.Clone(v.([]datasets.Suggestion)), nil
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
	b.cache.put(skey, gen, slices.Clone(out))
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
	b.cache.invalidate()
	idx, err := b.open()
	if err != nil {
		b.done = true
		return err
	}
	b.bits.mu.Lock()
	b.bits.clear()
	b.bits.mu.Unlock()
	b.idx = idx
	return nil
}

// Compact merges the index's segments (bleve's single-segment plan: 13
// segments of 100,000 entries become 2), waiting until done. A search
// opens a term reader per query term and segment, so after a bulk load
// this lowers the fixed cost of every search (5-10 % of a search, a fifth
// of a title suggestion at 100,000 entries); later writes add small
// segments again, which bleve merges as usual. Merging reorders entries,
// and bleve breaks equal scores by that order, but no page depends on it:
// a search with more titled entries than its window chooses the window
// itself (priorWindow), ties by id. An index that is not scorch (the
// in-memory one) is left alone.
func (b *Bleve) Compact(ctx context.Context) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	idx, err := b.index()
	if err != nil {
		return err
	}
	ai, err := idx.Advanced()
	if err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "compacting search index")
	}
	sc, ok := ai.(*scorch.Scorch)
	if !ok {
		return nil
	}
	if err := sc.ForceMerge(ctx, nil); err != nil {
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "compacting search index")
	}
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
