// Package datasets is the domain root of Kaifang: the types of the open-data
// catalogue (agencies, open-list entries, versions, rows), the one error type
// every layer speaks, and the interfaces that storage and search adapters
// implement. It imports only the standard library; adapters live in the
// subpackages named after their technology (sqlstore, blob, tabular, search).
package datasets
