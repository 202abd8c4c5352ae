// Package fold owns the one Chinese text normalisation of Kaifang: the same
// string must compare equal whether a citizen typed it in traditional or
// simplified characters, in full-width or half-width forms, in upper or
// lower case. Both search engines fold documents and queries with it, and
// other packages (open-list import, slugs, filters) use it so that every
// comparison of Chinese text in the platform agrees.
//
// The traditional→simplified table is generated from the Unicode Unihan
// database by ../internal/gent2s and committed, so builds need no data files.
package fold
