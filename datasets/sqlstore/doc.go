// Package sqlstore owns the catalogue (agencies, entries, versions, change
// history, outbox) and the row store (one table per tabular version) on
// SQLite and PostgreSQL.
//
// One implementation serves both databases: SQL is written once with `?`
// placeholders and a small dialect supplies what differs (placeholder
// syntax, column types, row locks, bulk loading). The embedded default is
// SQLite so Kaifang runs with nothing installed; PostgreSQL is the backend
// for several gateways sharing one catalogue.
//
// Identifiers are never taken from callers as-is: table names must match
// ^[a-z][a-z0-9_]{0,62}$ and column names are quoted and may only come from
// the schema the caller passes, so a request can name a column but never
// write SQL. Values are always bound.
//
// Driver errors are translated here, at the edge, into datasets.Error codes:
// unique violations are ECONFLICT, missing rows ENOTFOUND, refused values
// EINVALID, unreachable databases EUNAVAILABLE.
package sqlstore
