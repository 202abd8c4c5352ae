package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"kaifang/datasets"
	"kaifang/datasets/search/pinyin"
)

var _ datasets.Index = (*Meili)(nil)

// MeiliConfig says where the Meilisearch index lives.
type MeiliConfig struct {
	URL      string // http(s)://host:port
	Key      string
	Index    string // index uid; "datasets" if empty
	Synonyms Synonyms
	// TaskPoll is how often to poll an enqueued task; 50ms if zero.
	TaskPoll time.Duration
	// TaskTimeout bounds waiting for one task when ctx has no deadline; 30s if zero.
	TaskTimeout time.Duration
	// NoRetries turns off the client's own retries of 502–504 answers; the
	// indexer retries on its next round anyway.
	NoRetries bool
}

// Meili is the production index: a Meilisearch index shared by every
// gateway. Documents carry the original text for display and highlighting
// and the folded text (plus our bigrams) for matching, so the engine sees
// the same normalised Chinese bleve does.
type Meili struct {
	cfg    MeiliConfig
	client meilisearch.ServiceManager
	index  meilisearch.IndexManager
	now    func() time.Time
}

// meiliDoc is the document sent to Meilisearch.
type meiliDoc struct {
	ID                string   `json:"id"`
	Slug              string   `json:"slug"`
	Title             string   `json:"title"`
	Description       string   `json:"description"`
	AgencyName        string   `json:"agency_name"`
	TitleFolded       string   `json:"title_folded"`
	TagsFolded        string   `json:"tags_folded"`
	AgencyFolded      string   `json:"agency_folded"`
	DescriptionFolded string   `json:"description_folded"`
	FieldsFolded      string   `json:"fields_folded"`
	Grams             string   `json:"grams"`
	Initials          string   `json:"initials"` // pinyin.IndexTerms of the title
	Agency            string   `json:"agency"`
	Category          string   `json:"category"`
	OpenClass         string   `json:"open_class"`
	Format            []string `json:"format"`
	Frequency         string   `json:"frequency"`
	Tags              []string `json:"tags"`
	HV                int      `json:"hv"`
	Popularity        int64    `json:"popularity"`
	Updated           int64    `json:"updated"` // unix seconds
}

func toMeiliDoc(d *datasets.Dataset) meiliDoc {
	bd := bleveDoc(d)
	var grams []string
	seen := map[string]bool{}
	for _, s := range []string{d.Title, d.Agency.Name, strings.Join(d.Tags, " ")} {
		for _, t := range tokenize(s) {
			if !seen[t.term] {
				seen[t.term] = true
				grams = append(grams, t.term)
			}
		}
	}
	return meiliDoc{
		ID: d.ID, Slug: d.Slug, Title: d.Title, Description: d.Description, AgencyName: d.Agency.Name,
		TitleFolded:       Fold(d.Title),
		TagsFolded:        Fold(bd["tags_text"].(string)),
		AgencyFolded:      Fold(d.Agency.Name),
		DescriptionFolded: Fold(d.Description),
		FieldsFolded:      Fold(bd["fields_text"].(string)),
		Grams:             strings.Join(grams, " "),
		Initials:          strings.Join(pinyin.IndexTerms(d.Title), " "), // the engine matches prefixes itself
		Agency:            d.Agency.ID,
		Category:          string(d.Category),
		OpenClass:         string(d.OpenClass),
		Format:            bd["format"].([]string),
		Frequency:         string(d.Frequency),
		Tags:              bd["tags"].([]string),
		HV:                bd["hv"].(int),
		Popularity:        d.Downloads + d.APICalls,
		Updated:           d.UpdatedAt.Unix(),
	}
}

// meiliSearchable are the searchable attributes in weight order; the
// pinyin initials of the title come last, so the engine's attribute rule
// puts them below every text field, and only an initials query searches
// them (meiliTextAttributes is the rest).
var meiliSearchable = []string{"title_folded", "tags_folded", "agency_folded", "grams", "description_folded", "fields_folded", "initials"}

var meiliTextAttributes = meiliSearchable[:len(meiliSearchable)-1]

// MeiliSettings returns the index settings Kaifang needs: folded fields
// searchable in weight order (pinyin initials last), every filter field
// filterable and facetable, the sort fields sortable, relevance rules first
// and then high value, use and freshness as tie-breakers, the synonym
// table, Chinese locale for the folded fields, and no typo tolerance on
// the initials (a typo in "gjj" is another word).
func MeiliSettings(syn Synonyms) *meilisearch.Settings {
	synonyms := map[string][]string{}
	for k, v := range syn {
		synonyms[k] = append([]string(nil), v...)
	}
	return &meilisearch.Settings{
		RankingRules:         []string{"sort", "words", "typo", "proximity", "attribute", "exactness", "hv:desc", "popularity:desc", "updated:desc"},
		SearchableAttributes: append([]string(nil), meiliSearchable...),
		DisplayedAttributes:  []string{"id", "slug", "title", "description", "agency_name", "tags", "category", "popularity", "updated"},
		FilterableAttributes: append([]string(nil), facetNames...),
		SortableAttributes:   []string{"updated", "popularity", "hv"},
		Synonyms:             synonyms,
		LocalizedAttributes: []*meilisearch.LocalizedAttributes{
			{AttributePatterns: []string{"*_folded", "grams"}, Locales: []string{"cmn"}},
		},
		// The engine's defaults, but for the initials attribute.
		TypoTolerance: &meilisearch.TypoTolerance{
			Enabled:             true,
			MinWordSizeForTypos: meilisearch.MinWordSizeForTypos{OneTypo: 5, TwoTypos: 9},
			DisableOnWords:      []string{},
			DisableOnAttributes: []string{"initials"},
		},
		Pagination: &meilisearch.Pagination{MaxTotalHits: 100000},
		Faceting:   &meilisearch.Faceting{MaxValuesPerFacet: 200, SortFacetValuesBy: map[string]meilisearch.SortFacetType{"*": meilisearch.SortFacetTypeCount}},
	}
}

// OpenMeili connects, creates the index if missing and applies the settings.
func OpenMeili(ctx context.Context, cfg MeiliConfig) (*Meili, error) {
	if cfg.Index == "" {
		cfg.Index = "datasets"
	}
	if cfg.Synonyms == nil {
		cfg.Synonyms = DefaultSynonyms()
	}
	if cfg.TaskPoll <= 0 {
		cfg.TaskPoll = 50 * time.Millisecond
	}
	if cfg.TaskTimeout <= 0 {
		cfg.TaskTimeout = 30 * time.Second
	}
	var opts []meilisearch.Option
	if cfg.Key != "" {
		opts = append(opts, meilisearch.WithAPIKey(cfg.Key))
	}
	if cfg.NoRetries {
		opts = append(opts, meilisearch.DisableRetries())
	}
	client := meilisearch.New(cfg.URL, opts...)
	m := &Meili{cfg: cfg, client: client, index: client.Index(cfg.Index), now: time.Now}
	info, err := client.CreateIndexWithContext(ctx, &meilisearch.IndexConfig{Uid: cfg.Index, PrimaryKey: "id"})
	if err != nil {
		return nil, meiliError(err, "creating search index")
	}
	if err := m.wait(ctx, info, "index_already_exists"); err != nil {
		return nil, err
	}
	info, err = m.index.UpdateSettingsWithContext(ctx, MeiliSettings(cfg.Synonyms))
	if err != nil {
		return nil, meiliError(err, "configuring search index")
	}
	if err := m.wait(ctx, info); err != nil {
		return nil, err
	}
	return m, nil
}

// wait blocks until the task is done; a failed task is an error unless its
// code is one of ok. Writes are only reported done when the engine applied
// them, so the indexer never moves its cursor past a lost write.
func (m *Meili) wait(ctx context.Context, info *meilisearch.TaskInfo, ok ...string) error {
	if info == nil {
		return datasets.Errorf(datasets.EUNAVAILABLE, "search engine returned no task")
	}
	if _, has := ctx.Deadline(); !has {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.cfg.TaskTimeout)
		defer cancel()
	}
	task, err := m.client.WaitForTaskWithContext(ctx, info.TaskUID, m.cfg.TaskPoll)
	if err != nil {
		return meiliError(err, "waiting for search engine task %d", info.TaskUID)
	}
	switch task.Status {
	case meilisearch.TaskStatusSucceeded:
		return nil
	case meilisearch.TaskStatusFailed:
		for _, c := range ok {
			if task.Error.Code == c {
				return nil
			}
		}
		code := datasets.EINTERNAL
		if strings.HasPrefix(task.Error.Code, "invalid_") || strings.HasPrefix(task.Error.Code, "missing_") {
			code = datasets.EINVALID
		}
		return &datasets.Error{Code: code, Message: fmt.Sprintf("search engine task %d failed", info.TaskUID),
			Err: fmt.Errorf("%s: %s", task.Error.Code, task.Error.Message)}
	}
	return datasets.Errorf(datasets.EUNAVAILABLE, "search engine task %d ended %s", info.TaskUID, task.Status)
}

// meiliError translates meilisearch-go errors at the adapter's edge.
func meiliError(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	var me *meilisearch.Error
	if errors.As(err, &me) {
		switch {
		case me.ErrCode == meilisearch.MeilisearchCommunicationError, me.StatusCode >= 500, me.StatusCode == 0:
			return datasets.Wrap(err, datasets.EUNAVAILABLE, "%s: search engine unreachable", msg)
		case me.StatusCode == 401 || me.StatusCode == 403:
			return datasets.Wrap(err, datasets.EUNAVAILABLE, "%s: search engine refused the key", msg)
		case me.StatusCode == 400 && strings.HasPrefix(me.MeilisearchApiError.Code, "invalid_search"):
			return datasets.Wrap(err, datasets.EINVALID, "%s: search engine refused the query", msg)
		}
		return datasets.Wrap(err, datasets.EINTERNAL, "%s", msg)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return datasets.Wrap(err, datasets.EUNAVAILABLE, "%s: timed out", msg)
	}
	return datasets.Wrap(err, datasets.EUNAVAILABLE, "%s", msg)
}

// Upsert sends public entries and deletes the others.
func (m *Meili) Upsert(ctx context.Context, ds ...datasets.Dataset) error {
	var docs []meiliDoc
	var gone []string
	for i := range ds {
		if ds[i].ID == "" {
			return datasets.Errorf(datasets.EINVALID, "entry without id")
		}
		if ds[i].IsPublic() {
			docs = append(docs, toMeiliDoc(&ds[i]))
		} else {
			gone = append(gone, ds[i].ID)
		}
	}
	if len(docs) > 0 {
		pk := "id"
		info, err := m.index.AddDocumentsWithContext(ctx, docs, &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err != nil {
			return meiliError(err, "indexing entries")
		}
		if err := m.wait(ctx, info); err != nil {
			return err
		}
	}
	return m.Delete(ctx, gone...)
}

// Delete removes entries by id.
func (m *Meili) Delete(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	info, err := m.index.DeleteDocumentsWithContext(ctx, ids, nil)
	if err != nil {
		return meiliError(err, "removing entries")
	}
	return m.wait(ctx, info)
}

// quoteFilter quotes a value for a Meilisearch filter expression.
func quoteFilter(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// meiliFilter builds the filter as an array of OR-groups that are ANDed,
// the form the engine documents, with every value quoted. The open-class
// group is always sent, so the engine itself never returns another class.
func meiliFilter(q datasets.SearchQuery) ([][]string, bool) {
	groups, ok := filterGroups(q)
	if !ok {
		return nil, false
	}
	hasClass := false
	for _, g := range groups {
		hasClass = hasClass || g.field == FacetOpenClass
	}
	if !hasClass {
		groups = append([]filterGroup{{FacetOpenClass, []string{string(datasets.Open), string(datasets.Conditional)}}}, groups...)
	}
	f := make([][]string, 0, len(groups))
	for _, g := range groups {
		out := make([]string, 0, len(g.values))
		for _, v := range g.values {
			out = append(out, g.field+" = "+quoteFilter(v))
		}
		f = append(f, out)
	}
	return f, true
}

// meiliHit is what Search reads back from a hit.
type meiliHit struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	AgencyName  string   `json:"agency_name"`
	Tags        []string `json:"tags"`
	Category    string   `json:"category"`
	Popularity  int64    `json:"popularity"`
	Updated     int64    `json:"updated"`
	Score       float64  `json:"_rankingScore"`
	// Matches names the attributes the query matched (asked for initials
	// queries only).
	Matches map[string]json.RawMessage `json:"_matchesPosition"`
}

// Search runs q; relevance order is re-ranked in Go exactly as for bleve.
func (m *Meili) Search(ctx context.Context, q datasets.SearchQuery) (datasets.SearchResult, error) {
	q, err := normalizeQuery(q)
	if err != nil {
		return datasets.SearchResult{}, err
	}
	empty := datasets.SearchResult{Hits: []datasets.SearchHit{}, Facets: map[string]map[string]int{}}
	for _, f := range facetNames {
		empty.Facets[f] = map[string]int{}
	}
	filter, ok := meiliFilter(q)
	if !ok {
		return empty, nil
	}
	p := newPlan(q.Text, m.cfg.Synonyms)
	rerank := q.Sort == "relevance" && !p.empty()
	per, page := int64(q.PerPage), int64(q.Page)
	if rerank {
		per, page = int64(rerankWindow(q)), 1
	}
	req := &meilisearch.SearchRequest{
		Filter:               filter,
		Facets:               append([]string(nil), facetNames...),
		HitsPerPage:          &per,
		Page:                 page,
		ShowRankingScore:     true,
		AttributesToRetrieve: []string{"id", "title", "description", "agency_name", "tags", "category", "popularity", "updated"},
	}
	switch {
	case p.initials != "":
		// Which attributes matched tells an initials-only match.
		req.ShowMatchesPosition = true
	case !p.empty():
		req.AttributesToSearchOn = append([]string(nil), meiliTextAttributes...)
	}
	switch {
	case q.Sort == "updated":
		req.Sort = []string{"updated:desc"}
	case q.Sort == "popular":
		req.Sort = []string{"popularity:desc"}
	case p.empty():
		req.Sort = []string{"hv:desc", "popularity:desc", "updated:desc"}
	}
	res, err := m.index.SearchWithContext(ctx, p.text, req)
	if err != nil {
		return datasets.SearchResult{}, meiliError(err, "searching")
	}
	var hits []meiliHit
	if err := res.Hits.Decode(&hits); err != nil {
		return datasets.SearchResult{}, datasets.Wrap(err, datasets.EINTERNAL, "reading search hits")
	}
	cs := make([]candidate, 0, len(hits))
	for _, h := range hits {
		c := candidate{id: h.ID, engineScore: h.Score, title: h.Title, description: h.Description,
			agency: h.AgencyName, tags: h.Tags, category: datasets.Category(h.Category), popularity: h.Popularity}
		if h.Updated > 0 {
			c.updated = time.Unix(h.Updated, 0).UTC()
		}
		if p.initials != "" && hasInitials(h.Title, p.initials) {
			// Initials only unless the engine reports a match elsewhere
			// (it may report none for attributes it does not display).
			c.initialsOnly = true
			for a := range h.Matches {
				c.initialsOnly = c.initialsOnly && a == "initials"
			}
		}
		c.final = c.engineScore
		cs = append(cs, c)
	}
	if rerank {
		rank(p, cs, m.now(), q.Explain)
		lo := min(len(cs), (q.Page-1)*q.PerPage)
		cs = cs[lo:min(len(cs), lo+q.PerPage)]
	} else if q.Explain {
		rankExplainOnly(p, cs, m.now())
	}
	out := datasets.SearchResult{Hits: hitsFromCandidates(p, cs, q.Explain), Total: int(res.TotalHits), Facets: empty.Facets}
	if len(res.FacetDistribution) > 0 {
		var fd map[string]map[string]int
		if err := json.Unmarshal(res.FacetDistribution, &fd); err != nil {
			return datasets.SearchResult{}, datasets.Wrap(err, datasets.EINTERNAL, "reading facet counts")
		}
		for _, f := range facetNames {
			for v, n := range fd[f] {
				out.Facets[f][v] = n
			}
		}
	}
	return out, nil
}

// Suggest completes a title prefix with the engine's prefix search on titles.
func (m *Meili) Suggest(ctx context.Context, prefix string, n int) ([]datasets.Suggestion, error) {
	if n <= 0 {
		n = 10
	}
	n = min(n, 50)
	pre := strings.TrimSpace(Fold(prefix))
	if compact(pre) == "" {
		return []datasets.Suggestion{}, nil
	}
	filter, _ := meiliFilter(datasets.SearchQuery{})
	res, err := m.index.SearchWithContext(ctx, pre, &meilisearch.SearchRequest{
		Limit:                int64(n),
		Filter:               filter,
		AttributesToSearchOn: []string{"title_folded"},
		AttributesToRetrieve: []string{"id", "slug", "title"},
	})
	if err != nil {
		return nil, meiliError(err, "suggesting")
	}
	var out []datasets.Suggestion
	if err := res.Hits.Decode(&out); err != nil {
		return nil, datasets.Wrap(err, datasets.EINTERNAL, "reading suggestions")
	}
	if out == nil {
		out = []datasets.Suggestion{}
	}
	return out, nil
}

// Reset deletes every document, keeping the settings.
func (m *Meili) Reset(ctx context.Context) error {
	info, err := m.index.DeleteAllDocumentsWithContext(ctx, nil)
	if err != nil {
		return meiliError(err, "emptying search index")
	}
	return m.wait(ctx, info)
}

// Ping asks the engine's health endpoint.
func (m *Meili) Ping(ctx context.Context) error {
	h, err := m.client.HealthWithContext(ctx)
	if err != nil {
		return meiliError(err, "search engine health")
	}
	if h.Status != "available" {
		return datasets.Errorf(datasets.EUNAVAILABLE, "search engine status %s", strconv.Quote(h.Status))
	}
	return nil
}

// Close releases the client's idle connections.
func (m *Meili) Close() error {
	m.client.Close()
	return nil
}
