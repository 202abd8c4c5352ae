package search

import (
	"bytes"
	"context"
	"slices"
	"sort"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/scorer"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"

	"kaifang/datasets"
)

// windowScoped is the query of a window chosen by priorWindow (windowQuery)
// run so that each (field, term) is read once for the whole query, and only
// at the window's entries.
//
// Why: the alternatives of a synonym query repeat terms (企業信用, 企业信用信息
// and 信用信息 each hold 信用, which every generated description holds), and
// a "most of the terms" alternative puts the window next to each term. Each
// of those clauses walked its own postings to the same few hundred entries
// and looked the window's ids up in every segment's id dictionary again;
// advancing a postings list to a few hundred scattered entries decodes
// nearly every chunk of a common term, so the walks cost about as much as
// reading the whole list, once per clause.
//
// How: the searchers of the query read a wrapped index reader (windowReader)
// whose term readers hold, for each (field, term), the postings of that
// term at the window's entries, read from bleve once, on first use, by one
// walk of bleve's own reader; every other clause on that term replays them.
// The window's internal ids are found once (windowIDs), in segIDs. A
// clause reads the same frequency and norm at every entry of the window
// as before, and bleve's count of the term (idf) is the real one, so every
// score of a window entry is unchanged; entries outside the window, which
// the query's required part excludes anyway, are never seen. A test
// compares every page, scores and explanations included, with the plain
// query's (plainWindowQuery).
type windowScoped struct {
	query.Query
	ids    []string // external ids of the window
	segIDs *segIDs  // where the ids are in scorch's segments (nil: ask bleve)
}

func (q windowScoped) Searcher(ctx context.Context, i index.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	wr, err := newWindowReader(i, q.ids, q.segIDs)
	if err != nil {
		return nil, err
	}
	return q.Query.Searcher(ctx, wr, m, options)
}

// windowReader is an index reader whose term readers see only the
// window's entries (windowScoped).
type windowReader struct {
	index.IndexReader
	iids  []index.IndexInternalID // the window's internal ids, ascending
	at    []int32                 // each one's index in the window's ids (nil: not known)
	lists map[windowKey]*windowPostings
}

type windowKey struct {
	field, term     string
	freq, norm, vec bool
}

func newWindowReader(i index.IndexReader, ids []string, c *segIDs) (*windowReader, error) {
	if snap, ok := i.(*scorch.IndexSnapshot); ok && c != nil {
		iids, at, err := c.internalIDsAt(snap, ids)
		if err != nil {
			return nil, err
		}
		return &windowReader{IndexReader: i, iids: iids, at: at, lists: map[windowKey]*windowPostings{}}, nil
	}
	dr, err := i.DocIDReaderOnly(ids)
	if err != nil {
		return nil, err
	}
	defer dr.Close()
	iids := make([]index.IndexInternalID, 0, len(ids))
	for {
		iid, err := dr.Next()
		if err != nil {
			return nil, err
		}
		if iid == nil {
			break
		}
		iids = append(iids, slices.Clip(slices.Clone(iid)))
	}
	// Scorch enumerates in ascending order already; a reader that did
	// not would still be walked correctly.
	if !slices.IsSortedFunc(iids, compareIID) {
		slices.SortFunc(iids, compareIID)
	}
	return &windowReader{IndexReader: i, iids: iids, lists: map[windowKey]*windowPostings{}}, nil
}

func compareIID(a, b index.IndexInternalID) int { return bytes.Compare(a, b) }

func (r *windowReader) TermFieldReader(ctx context.Context, term []byte, field string, includeFreq, includeNorm, includeTermVectors bool) (index.TermFieldReader, error) {
	k := windowKey{field, string(term), includeFreq, includeNorm, includeTermVectors}
	l := r.lists[k]
	// A new term, or one whose earlier readers were all closed before
	// any read it: open bleve's reader.
	if l == nil || (l.real == nil && !l.read) {
		real, err := r.IndexReader.TermFieldReader(ctx, term, field, includeFreq, includeNorm, includeTermVectors)
		if err != nil {
			return nil, err
		}
		l = &windowPostings{real: real, count: real.Count(), iids: r.iids}
		r.lists[k] = l
	}
	l.refs++
	return &windowTermReader{l: l}, nil
}

// windowPostings is one term's postings at the window's entries, read
// from bleve's reader on first use.
type windowPostings struct {
	real  index.TermFieldReader // nil once read and closed
	count uint64                // entries holding the term in the whole index (idf)
	iids  []index.IndexInternalID
	docs  []index.TermFieldDoc
	read  bool
	refs  int
	err   error
}

func (l *windowPostings) load() error {
	if l.read {
		return l.err
	}
	l.read = true
	var tfd index.TermFieldDoc
	for j := 0; j < len(l.iids); {
		d, err := l.real.Advance(l.iids[j], tfd.Reset())
		if err != nil {
			l.err = err
			break
		}
		if d == nil {
			break
		}
		for j < len(l.iids) && bytes.Compare(l.iids[j], d.ID) < 0 {
			j++
		}
		if j < len(l.iids) && bytes.Equal(l.iids[j], d.ID) {
			l.docs = append(l.docs, index.TermFieldDoc{
				Term: d.Term, ID: l.iids[j], Freq: d.Freq, Norm: d.Norm,
				Vectors: slices.Clone(d.Vectors),
			})
			j++
		}
	}
	l.closeReal()
	return l.err
}

func (l *windowPostings) closeReal() {
	if l.real != nil {
		_ = l.real.Close()
		l.real = nil
	}
}

// windowTermReader replays a windowPostings.
type windowTermReader struct {
	l      *windowPostings
	pos    int
	closed bool
}

func (r *windowTermReader) Next(pre *index.TermFieldDoc) (*index.TermFieldDoc, error) {
	if err := r.l.load(); err != nil {
		return nil, err
	}
	if r.pos >= len(r.l.docs) {
		return nil, nil
	}
	d := &r.l.docs[r.pos]
	r.pos++
	if pre == nil {
		pre = &index.TermFieldDoc{}
	}
	// Copies: the caller reuses pre, and must never write into ours.
	pre.Term, pre.Freq, pre.Norm = d.Term, d.Freq, d.Norm
	pre.ID = append(pre.ID[:0], d.ID...)
	pre.Vectors = append(pre.Vectors[:0], d.Vectors...)
	return pre, nil
}

func (r *windowTermReader) Advance(id index.IndexInternalID, pre *index.TermFieldDoc) (*index.TermFieldDoc, error) {
	if err := r.l.load(); err != nil {
		return nil, err
	}
	// From the start, as bleve's readers: Advance may go back, or ask
	// for the entry it returned last.
	docs := r.l.docs
	r.pos = sort.Search(len(docs), func(i int) bool { return bytes.Compare(docs[i].ID, id) >= 0 })
	return r.Next(pre)
}

func (r *windowTermReader) Count() uint64 { return r.l.count }

func (r *windowTermReader) Close() error {
	if !r.closed {
		r.closed = true
		if r.l.refs--; r.l.refs == 0 {
			r.l.closeReal()
		}
	}
	return nil
}

func (r *windowTermReader) Size() int { return 64 }

// scoreWindow scores the entries of win as windowQuery does through
// bleve's SearchInContext, but collects the scores itself: every window
// entry matches and rank orders them all, so bleve's top-N collector
// (a heap, then an external-id lookup in the stored fields of every hit,
// ≈ 0.7 µs each) and a map lookup per hit to find its ordinal only cost.
// ok is false when it cannot (not a scorch index, or entries written
// since the window was chosen): the caller then runs the query as usual.
func (b *Bleve) scoreWindow(ctx context.Context, idx bleve.Index, p plan, win *priorWin) (cs []candidate, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, datasets.Wrap(err, datasets.EUNAVAILABLE, "search cancelled")
	}
	ai, err := idx.Advanced()
	if err != nil {
		return nil, false, nil
	}
	r, err := ai.Reader()
	if err != nil {
		return nil, false, datasets.Wrap(err, datasets.EINTERNAL, "searching")
	}
	defer r.Close()
	if _, ok := r.(*scorch.IndexSnapshot); !ok {
		return nil, false, nil
	}
	wr, err := newWindowReader(r, win.ids, b.bits.segIDs)
	if err != nil {
		return nil, false, datasets.Wrap(err, datasets.EINTERNAL, "searching")
	}
	// As SearchInContext sets it for an index scored by TF-IDF.
	ctx = context.WithValue(ctx, search.GetScoringModelCallbackKey,
		search.GetScoringModelCallbackFn(func() string { return index.DefaultScoringModel }))
	s, err := windowQuery(p, win, nil).(windowScoped).Query.Searcher(ctx, wr, idx.Mapping(), search.SearcherOptions{})
	if err != nil {
		return nil, false, datasets.Wrap(err, datasets.EINTERNAL, "searching")
	}
	defer s.Close()
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0), IndexReader: r}
	scores := make([]float64, len(win.ids))
	hit := make([]bool, len(win.ids))
	for {
		dm, err := s.Next(sctx)
		if err != nil {
			return nil, false, datasets.Wrap(err, datasets.EINTERNAL, "searching")
		}
		if dm == nil {
			break
		}
		j := sort.Search(len(wr.iids), func(j int) bool { return bytes.Compare(wr.iids[j], dm.IndexInternalID) >= 0 })
		if j < len(wr.iids) && bytes.Equal(wr.iids[j], dm.IndexInternalID) {
			scores[wr.at[j]], hit[wr.at[j]] = dm.Score, true
		}
		sctx.DocumentMatchPool.Put(dm)
	}
	x := b.bits
	x.mu.RLock()
	defer x.mu.RUnlock()
	cs = make([]candidate, 0, len(wr.iids))
	for k, id := range win.ids {
		if !hit[k] {
			continue
		}
		ord := win.ords[k]
		if int(ord) >= len(x.ids) || x.ids[ord] != id {
			return nil, false, nil // written since the window was chosen
		}
		cs = append(cs, x.candidateAt(ord, scores[k]))
	}
	return cs, true, nil
}

// windowIDs matches the entries of the window of the windowReader it is
// searched with, adding nothing to any score: the window's DocIDQuery
// without looking its ids up again. With another reader it is that
// DocIDQuery.
type windowIDs struct{ ids []string }

func (q windowIDs) Searcher(ctx context.Context, i index.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	wr, ok := i.(*windowReader)
	if !ok {
		return searcher.NewDocIDSearcher(ctx, i, q.ids, 0, options)
	}
	return &windowIDsSearcher{iids: wr.iids, scorer: scorer.NewConstantScorer(1.0, 0, options)}, nil
}

type windowIDsSearcher struct {
	iids   []index.IndexInternalID
	pos    int
	scorer *scorer.ConstantScorer
}

func (s *windowIDsSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	if s.pos >= len(s.iids) {
		return nil, nil
	}
	s.pos++
	// A copy: the scorer keeps it in a DocumentMatch, whose id bleve
	// later reuses for other entries (append into it).
	return s.scorer.Score(ctx, slices.Clone(s.iids[s.pos-1])), nil
}

func (s *windowIDsSearcher) Advance(ctx *search.SearchContext, id index.IndexInternalID) (*search.DocumentMatch, error) {
	iids := s.iids
	s.pos = sort.Search(len(iids), func(i int) bool { return bytes.Compare(iids[i], id) >= 0 })
	return s.Next(ctx)
}

func (s *windowIDsSearcher) Weight() float64            { return s.scorer.Weight() }
func (s *windowIDsSearcher) SetQueryNorm(qnorm float64) { s.scorer.SetQueryNorm(qnorm) }
func (s *windowIDsSearcher) Count() uint64              { return uint64(len(s.iids)) }
func (s *windowIDsSearcher) Min() int                   { return 0 }
func (s *windowIDsSearcher) Size() int                  { return 64 }
func (s *windowIDsSearcher) DocumentMatchPoolSize() int { return 1 }
func (s *windowIDsSearcher) Close() error               { return nil }
