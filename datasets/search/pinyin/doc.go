// Package pinyin gives the pinyin initials of Chinese text, so that a
// citizen who types "shbx" or "gjj" in the search box finds 社会保险 and
// 住房公积金 entries: the "pinyin initials" bonus of the catalogue search.
//
// Each Han character stands for the first letter of its most common
// Mandarin reading: 社会保险 → "shbx". The readings come from the Unicode
// Unihan database (field kMandarin, which lists the customary reading
// first), turned into a table by ./internal/genpinyin and committed as
// table.go, so builds need no data files. The table covers every character
// Unihan gives a kMandarin reading (the CJK Unified Ideographs and their
// extensions), simplified and traditional alike, plus the rare simplified
// characters without one, which take their traditional form's. Input is
// folded with package fold first, so traditional and simplified spellings
// of the same text always give the same initials (社會保險 → "shbx").
//
// A character can read differently in different words (厦 is shà in 大厦
// but xià in 厦门; 行 is xíng in 行政 but háng in 银行). A short phrase list
// in phrases.go overrides the table for words a data catalogue uses, so
// 厦门 → "xm", 银行 → "yh", 重庆 → "cq"; add to it when a common word comes
// out wrong. Initials are first letters only: zh, ch and sh give z, c and s.
//
// Words are made as follows. ASCII letters and digits (and their full-width
// forms) are kept, lower-cased, whole; a Han character with a reading gives
// its initial; everything else (spaces, punctuation, other scripts, Han
// characters without a reading, invalid UTF-8) is a word boundary, and a
// change between ASCII and Han text is a boundary too. Initials joins the
// words without separators, so it drops the boundaries; Words and
// IndexTerms keep them.
//
// Wiring into search (done by package search, not here): index IndexTerms
// of an entry's title in a keyword field, and when IsInitialsQuery accepts
// the query, add a prefix query for it on that field, boosted below title
// matches.
package pinyin
