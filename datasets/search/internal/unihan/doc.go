// Package unihan reads the Unicode Unihan database's text files
// (Unihan_Variants.txt, Unihan_Readings.txt: "U+4E00<TAB>kField<TAB>value"
// lines) for the generators of the search package's character tables:
// internal/gent2s (traditional → simplified) and pinyin/internal/genpinyin
// (pinyin initials).
package unihan
