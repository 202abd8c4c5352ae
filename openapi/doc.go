// Package openapi owns Kaifang's OpenAPI 3 documents: the gateway's own,
// kept as YAML beside the code so reviewers read it as a document, and one
// generated per published tabular version, whose records operation lists
// that dataset's real fields and filters. It also validates records
// requests against a dataset's document, and serves the Redoc bundle that
// renders both (vendored from npm and embedded, so /docs needs no CDN).
//
// Documents are built and validated once per version and cached: a version
// is immutable, so its document is too.
package openapi
