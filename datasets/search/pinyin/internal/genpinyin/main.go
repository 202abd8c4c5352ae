// Command genpinyin writes the Han character → pinyin initial table of
// package pinyin from the Unicode Unihan database (field kMandarin of
// Unihan_Readings.txt), so the build never needs the Unihan files: the
// output is committed beside it.
//
// Usage (see the go:generate line in ../../pinyin.go, run from there):
//
//	go run ./internal/genpinyin -in /usr/share/unicode/Unihan_Readings.txt.bz2 \
//		-variants /usr/share/unicode/Unihan_Variants.txt.bz2 -o table.go
//
// Debian ships the data in the unicode-data package (apt-get install
// unicode-data).
//
// kMandarin lists the most customary reading first (for two values, the
// first is the one used in the People's Republic of China), so the table
// keeps the first letter of the first value, with its tone mark removed.
// About two thousand rare simplified characters (most in Extension G) have
// no kMandarin although their traditional form has one; they take the
// initial of their traditional form (kSimplifiedVariant of
// Unihan_Variants.txt), so that both spellings give the same initials.
// Readings that depend on the word (厦门 xiàmén but 大厦 dàshà) are
// handled by the phrase list of package pinyin, not here.
package main

import (
	"bytes"
	"compress/bzip2"
	"flag"
	"fmt"
	"go/format"
	"io"
	"log"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"kaifang/datasets/search/internal/unihan"
)

// The dense segments of the table: CJK Extension A and the Unified
// Ideographs block (U+3400..U+9FFF, with the 64 Yijing hexagrams between
// them left empty), and Extensions B to E from U+20000. Characters elsewhere
// (compatibility ideographs, later extensions) go to a sorted sparse list.
const (
	bmpLo, bmpHi = 0x3400, 0xA000
	supLo, supHi = 0x20000, 0x2D000
	extLo, extHi = 0x30000, 0x32400 // Extensions G and H
)

// letters is every letter a pinyin syllable can start with: no syllable
// starts with i, u or ü (they are written yi, wu, yu). The generator fails
// if Unihan ever says otherwise, because IsInitialsQuery relies on it.
const letters = "abcdefghjklmnopqrstwxyz"

// none marks a code point without a reading in the dense strings.
const none = '_'

func main() {
	in := flag.String("in", "/usr/share/unicode/Unihan_Readings.txt.bz2", "Unihan_Readings.txt, plain or .bz2")
	variants := flag.String("variants", "/usr/share/unicode/Unihan_Variants.txt.bz2", "Unihan_Variants.txt, plain or .bz2")
	out := flag.String("o", "table.go", "output Go file")
	pkg := flag.String("pkg", "pinyin", "package name of the output")
	flag.Parse()

	r, err := open(*in)
	if err != nil {
		log.Fatalf("genpinyin: %v (install Debian's unicode-data package)", err)
	}
	t, err := parse(r)
	r.Close()
	if err != nil {
		log.Fatalf("genpinyin: %v", err)
	}
	r, err = open(*variants)
	if err != nil {
		log.Fatalf("genpinyin: %v (install Debian's unicode-data package)", err)
	}
	added, err := t.inherit(r)
	r.Close()
	if err != nil {
		log.Fatalf("genpinyin: %v", err)
	}
	log.Printf("genpinyin: %d simplified characters take the reading of their traditional form", added)
	src, err := render(*pkg, baseName(*in)+" and "+baseName(*variants), t)
	if err != nil {
		log.Fatalf("genpinyin: %v", err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatalf("genpinyin: %v", err)
	}
	log.Printf("genpinyin: wrote %d readings (Unicode %s) to %s", len(t.initial), t.version, *out)
}

type readCloser struct {
	io.Reader
	io.Closer
}

func open(name string) (io.ReadCloser, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(name, ".bz2") {
		return readCloser{bzip2.NewReader(f), f}, nil
	}
	return f, nil
}

type table struct {
	version string        // "15.0.0", from the file header
	initial map[rune]byte // code point → initial letter
}

func parse(r io.Reader) (*table, error) {
	t := &table{initial: map[rune]byte{}}
	version := func(line string) {
		if v, ok := strings.CutPrefix(line, "# Unicode version:"); ok {
			t.version = strings.TrimSpace(v)
		}
	}
	err := unihan.Lines(r, "kMandarin", version, func(cp rune, value string) error {
		fields := strings.Fields(value)
		if len(fields) == 0 {
			return fmt.Errorf("empty kMandarin")
		}
		c, err := initialOf(fields[0])
		if err != nil {
			return err
		}
		t.initial[cp] = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(t.initial) == 0 {
		return nil, fmt.Errorf("no kMandarin lines: is this Unihan_Readings.txt?")
	}
	return t, nil
}

// inherit gives each simplified character without a reading the initial of
// its traditional form, read from the kSimplifiedVariant lines of
// Unihan_Variants.txt; where several traditional forms have readings, the
// lowest code point's wins. It returns how many characters it added.
func (t *table) inherit(r io.Reader) (int, error) {
	from := map[rune]rune{} // simplified → lowest traditional with a reading
	err := unihan.Lines(r, "kSimplifiedVariant", nil, func(trad rune, value string) error {
		if _, ok := t.initial[trad]; !ok {
			return nil
		}
		for _, v := range strings.Fields(value) {
			simp, err := unihan.CodePoint(v)
			if err != nil {
				return err
			}
			if _, ok := t.initial[simp]; ok {
				continue
			}
			if old, ok := from[simp]; !ok || trad < old {
				from[simp] = trad
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for simp, trad := range from {
		t.initial[simp] = t.initial[trad]
	}
	return len(from), nil
}

// toneless maps the tone-marked letters a kMandarin value can start with to
// their base letter.
var toneless = map[rune]byte{
	'ā': 'a', 'á': 'a', 'ǎ': 'a', 'à': 'a',
	'ē': 'e', 'é': 'e', 'ě': 'e', 'è': 'e', 'ê': 'e', 'ế': 'e', 'ề': 'e',
	'ō': 'o', 'ó': 'o', 'ǒ': 'o', 'ò': 'o',
	'ḿ': 'm', 'ń': 'n', 'ň': 'n', 'ǹ': 'n',
}

func initialOf(reading string) (byte, error) {
	r, _ := utf8.DecodeRuneInString(reading)
	var c byte
	switch {
	case 'a' <= r && r <= 'z':
		c = byte(r)
	default:
		c = toneless[r]
	}
	if c == 0 || !strings.ContainsRune(letters, rune(c)) {
		return 0, fmt.Errorf("reading %q starts with %q, not a pinyin initial", reading, r)
	}
	return c, nil
}

// dense returns the letters of lo..hi-1 as a string, trimmed after the last
// code point that has a reading.
func dense(t *table, lo, hi rune) string {
	b := make([]byte, hi-lo)
	last := -1
	for i := range b {
		c, ok := t.initial[lo+rune(i)]
		if !ok {
			c = none
		} else {
			last = i
		}
		b[i] = c
	}
	return string(b[:last+1])
}

func render(pkg, source string, t *table) ([]byte, error) {
	bmp := dense(t, bmpLo, bmpHi)
	sup := dense(t, supLo, supHi)
	var sparse []rune
	for cp := range t.initial {
		if !(bmpLo <= cp && cp < bmpHi) && !(supLo <= cp && cp < supHi) && !(extLo <= cp && cp < extHi) {
			sparse = append(sparse, cp)
		}
	}
	slices.Sort(sparse)

	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by genpinyin from %s\n", source)
	fmt.Fprintf(&b, "// (Unicode %s Unihan database, fields kMandarin and kSimplifiedVariant, Debian package\n", t.version)
	fmt.Fprintf(&b, "// unicode-data); DO NOT EDIT.\n\n")
	fmt.Fprintf(&b, "package %s\n\n", pkg)
	fmt.Fprintf(&b, "// unihanVersion is the Unicode version of the Unihan data the table comes from.\n")
	fmt.Fprintf(&b, "const unihanVersion = %q\n\n", t.version)
	fmt.Fprintf(&b, "// unihanReadings is the number of characters the table gives an initial.\n")
	fmt.Fprintf(&b, "const unihanReadings = %d\n\n", len(t.initial))
	writeDense(&b, "bmp", "U+3400..U+9FFF", bmpLo, bmp)
	writeDense(&b, "sup", "U+20000..U+2CFFF", supLo, sup)
	writeDense(&b, "ext", "U+30000..U+323FF", extLo, dense(t, extLo, extHi))
	fmt.Fprintf(&b, "// sparseRunes lists, sorted, the other characters with a reading;\n")
	fmt.Fprintf(&b, "// sparseLetters[i] is the initial of sparseRunes[i].\n")
	fmt.Fprintf(&b, "var sparseRunes = [...]rune{\n")
	sparseLetters := make([]byte, len(sparse))
	for i, cp := range sparse {
		fmt.Fprintf(&b, "0x%X,", cp)
		if i%12 == 11 {
			b.WriteByte('\n')
		}
		sparseLetters[i] = t.initial[cp]
	}
	fmt.Fprintf(&b, "\n}\n\nconst sparseLetters = %q\n", sparseLetters)
	return format.Source(b.Bytes())
}

func writeDense(b *bytes.Buffer, name, what string, lo rune, s string) {
	fmt.Fprintf(b, "// %s holds the initial of each code point of %s at index r-%sLo,\n", name, what, name)
	fmt.Fprintf(b, "// %q where Unihan gives no Mandarin reading.\n", string(rune(none)))
	fmt.Fprintf(b, "const %sLo = 0x%X\n\n", name, lo)
	fmt.Fprintf(b, "const %s = \"\" +\n", name)
	const width = 128
	for i := 0; i < len(s); i += width {
		end := min(i+width, len(s))
		sep := " +"
		if end == len(s) {
			sep = ""
		}
		fmt.Fprintf(b, "\t%q%s\n", s[i:end], sep)
	}
	b.WriteString("\n")
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
