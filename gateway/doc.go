// Package gateway owns the machine-facing HTTP API of Kaifang: the one route
// table of /api/v1, the health and metrics endpoints, downloads, the records
// API, anonymous rate limits and the single place where domain errors turn
// into RFC 9457 problem documents.
//
// It speaks only to the datasets interfaces, so the same gateway runs on the
// embedded stores and on the production ones. Entries are always loaded with
// Catalog.PublicDataset or PublicDatasets: a closed or unpublished entry has
// no code path that could reach a client, whatever the handler forgets.
package gateway
