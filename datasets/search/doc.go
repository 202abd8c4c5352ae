// Package search owns the catalogue's derived search index: the Chinese text
// handling (folding, bigrams, synonyms), the ranking rules the regulations ask
// for (relevance, then high-value categories, then use and freshness), and
// the two engines behind datasets.Index — bleve in process by default and
// Meilisearch for deployments with several gateways.
//
// A query that could be pinyin initials (pinyin.ParseQuery: "shbx",
// "gjj", "jt") also matches entries whose title has them: the initials of
// each title (pinyin.IndexTerms) are indexed, in bleve with every prefix
// in a keyword field so the query is one weakly boosted term clause, in
// Meilisearch as the last searchable attribute, without typo tolerance.
// Other queries ("bus", "api") never touch them. An entry found only by
// its initials ranks below every entry its words match, however the
// engine scored it; among such entries, characters several of them share
// (公积金 rather than 管局经) count as the word meant, and are highlighted.
// Filters, the closed-entry exclusion and facet counts treat initials
// matches like any other, and explain names the "initials" field. An index
// built before initials were indexed finds them only once reindexed.
//
// Ranking and highlighting are decided here in Go on top of the engine's
// relevance score, not inside each engine, so that both engines order the
// shared test set the same way and explain their order the same way.
//
// Beside bleve, an in-memory mirror (bitmapIndex) holds a roaring bitmap of
// the entries of every indexed term and facet value: the matching set of a
// search, its total and its exact facet counts are bitmap operations, and
// bleve only scores and orders the entries a page can show. The bitmaps also
// shape the query bleve runs without changing any score: a boost clause no
// scored entry holds keeps its place and weight but never walks its
// postings, and each synonym alternative walks only the titled entries it
// can match. When more entries hold the query in their title than a page's
// re-ranking window takes, the bitmaps also choose that window before bleve
// scores: they split those entries by the boost clauses each holds and keep
// the first few hundred of each part in rank's order without relevance
// (tier, high value, use, freshness, id), so bleve scores a few hundred
// entries instead of thousands, and the page no longer depends on the
// order in which bleve breaks ties, which changed when segments merged
// (explain says "window": "prior"). A search with fewer titled entries
// than that but more matches (an agency's name; a filter that keeps none
// of the titled entries) has its window chosen the same way among all its
// matches. Bleve scores a window through a reader that reads each (field,
// term) of the query once, at the window's entries only, however many
// synonym alternatives repeat it, finds the window's entries in its
// segments from what the bitmaps learnt when the index was opened
// (segIDs), and hands back scores without its top-N collector; every
// score is what the plain bleve query gives. The bleve index
// also remembers its answers (result pages, suggestions) until the next
// write, since the catalogue changes rarely compared with how often the same
// few queries are asked.
//
// The Indexer keeps the index converging on the catalogue: it reads the
// catalogue's outbox after a stored cursor and applies each change
// idempotently, so a crash or an engine outage between a catalogue commit
// and an index update is repaired on the next Sync rather than by a full
// reindex.
package search
