// Package searchtest is the behaviour contract of datasets.Index, run
// against every engine (bleve always, Meilisearch when MEILISEARCH_URL is
// set), and the search-quality suite: a fixed catalogue of real Chinese
// open-data entries with hand-graded relevance judgements, scored by
// nDCG@10 and recall@10. Keeping both here makes "the same behaviour on
// both engines" a test rather than a hope.
package searchtest
