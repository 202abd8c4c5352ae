// Package search owns the catalogue's derived search index: the Chinese text
// handling (folding, bigrams, synonyms), the ranking rules the regulations ask
// for (relevance, then high-value categories, then use and freshness), and
// the two engines behind datasets.Index — bleve in process by default and
// Meilisearch for deployments with several gateways.
//
// Ranking and highlighting are decided here in Go on top of the engine's
// relevance score, not inside each engine, so that both engines order the
// shared test set the same way and explain their order the same way.
//
// Beside bleve, an in-memory mirror (bitmapIndex) holds a roaring bitmap of
// the entries of every indexed term and facet value: the matching set of a
// search, its total and its exact facet counts are bitmap operations, and
// bleve only scores and orders the entries a page can show. The bleve index
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
