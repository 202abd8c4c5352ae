// Package tabular turns the files agencies publish into typed rows, and typed
// rows back into files people download.
//
// Agencies export whatever their systems produce: UTF-8 with or without a
// BOM, GB18030/GBK from mainland systems, Big5 from older Taiwanese ones,
// UTF-16 "Unicode text" from Excel; preamble lines above the header and
// notes (注：…, 数据来源：…) below the table; XLSX with merged header cells
// and dates stored as serial numbers; JSON arrays, NDJSON and API pages that
// wrap the records in {total, data: […]}. This package owns all of that
// guessing so that nothing downstream has to: the row store only ever sees
// int64, float64, bool, time.Time, string or nil.
//
// The work is split in two passes on purpose. Sniff reads the whole file
// once, because a column's type can only be decided by its last value (a
// code column that is numeric for 80 000 rows and then holds "A12" must be
// text, and the loader must not learn that half way through a transaction).
// Open then streams the rows typed by what Sniff decided, failing on the
// first row that does not fit — with the line, column and field named —
// rather than shifting cells or dropping values.
//
// Decisions that a reader of the data would notice:
//   - Codes with leading zeros (0012345) and numbers longer than 15 digits
//     (18-digit ID numbers) stay text: turning them into numbers loses data.
//   - yyyymmdd values such as 20220101 stay integers unless the entry's
//     declared schema says the field is a date; many 8-digit numbers are not
//     dates, and the declared schema is the publisher's word.
//   - Datetimes without a zone keep their wall clock and are returned in UTC;
//     values with an offset keep it.
//   - Empty cells are null and never decide a type. In typed columns the
//     usual "no value" markers (-, —, NA, N/A, null, #N/A) are null too; in
//     text columns they are kept as written.
//   - Deeply nested JSON (no array of objects at the top level, like the
//     CWA forecast) is not flattened: flattening guesses at meaning. Such a
//     file is reported as not tabular and is stored and served as-is.
package tabular
