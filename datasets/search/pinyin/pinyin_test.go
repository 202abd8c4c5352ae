package pinyin

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"kaifang/datasets/search/fold"
)

func TestInitials(t *testing.T) {
	cases := []struct{ in, want string }{
		// The words citizens type, simplified and traditional.
		{"社会保险", "shbx"},
		{"社會保險", "shbx"},
		{"交通", "jt"},
		{"交通運輸", "jtys"},
		{"医疗", "yl"},
		{"醫療", "yl"},
		{"医疗保险", "ylbx"},
		{"公积金", "gjj"},
		{"公積金", "gjj"},
		{"住房公积金", "zfgjj"},
		{"住房公積金", "zfgjj"},
		{"企业信用", "qyxy"},
		{"就业", "jy"},
		{"教育", "jy"},
		{"环境", "hj"},
		{"環境", "hj"},
		{"气象", "qx"},
		{"氣象", "qx"},
		{"企業登記監管", "qydjjg"},
		{"上海市", "shs"},
		{"沈阳", "sy"},
		{"瀋陽", "sy"},
		{"温州", "wz"},
		{"溫州", "wz"},
		// Heteronyms: the table reading, and the phrase overrides.
		{"厦门", "xm"},
		{"廈門", "xm"},
		{"厦门市公交线路", "xmsgjxl"},
		{"大厦", "ds"},
		{"银行", "yh"},
		{"銀行", "yh"},
		{"行政许可", "xzxk"},
		{"行政處罰", "xzcf"},
		{"重庆", "cq"},
		{"重慶", "cq"},
		{"重点", "zd"},
		{"长沙", "cs"},
		{"長沙", "cs"},
		{"增长率", "zzl"},
		{"会计", "kj"},
		{"會計師事務所", "kjssws"},
		{"給排水", "jps"},
		{"西藏", "xz"},
		// Full-width, case, digits and ASCII words.
		{"GDP", "gdp"},
		{"ＧＤＰ", "gdp"},
		{"2023年GDP统计", "2023ngdptj"},
		{"PM2.5监测", "pm25jc"},
		{"bus", "bus"},
		// Boundaries are dropped.
		{"住房公积金 2023年报表", "zfgjj2023nbb"},
		{"《上海市公共数据开放暂行办法》", "shsggsjkfzxbf"},
		{"社会·保险", "shbx"},
		// Nothing to give.
		{"", ""},
		{"  ", ""},
		{"，。！", ""},
		{"한국어", ""},
		{"\xff\xfe", ""},
	}
	for _, c := range cases {
		if got := Initials(c.in); got != c.want {
			t.Errorf("Initials(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestInitial(t *testing.T) {
	cases := []struct {
		r    rune
		want byte
	}{
		{'社', 's'}, {'會', 'h'}, {'会', 'h'},
		{'厦', 's'}, // shà: the word 厦门 is a phrase override
		{'吕', 'l'}, // lǚ
		{'阿', 'a'}, // ā: the tone mark is dropped
		{'饿', 'e'}, {'欧', 'o'},
		{'嗯', 'n'},          // ǹg: a reading without a vowel
		{'㐀', 'q'},          // U+3400, Extension A
		{'\U00020000', 'h'}, // Extension B
		{'a', 0}, {'1', 0}, {'，', 0}, {'한', 0},
		{'\u4DC0', 0}, // a Yijing hexagram, between Extension A and the URO
	}
	for _, c := range cases {
		if got := Initial(c.r); got != c.want {
			t.Errorf("Initial(%q) = %q, want %q", c.r, got, c.want)
		}
	}
}

// TestTableCoverage checks that the generated table holds what genpinyin
// counted and only letters a syllable can start with.
func TestTableCoverage(t *testing.T) {
	n := 0
	for _, s := range []string{bmp, sup, ext, sparseLetters} {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c == '_' {
				continue
			}
			if !strings.ContainsRune(Letters, rune(c)) {
				t.Fatalf("table holds %q, not in %q", c, Letters)
			}
			n++
		}
	}
	if n != unihanReadings {
		t.Errorf("table holds %d readings, generator wrote %d", n, unihanReadings)
	}
	if !slices.IsSorted(sparseRunes[:]) || len(sparseRunes) != len(sparseLetters) {
		t.Errorf("sparse table is not sorted or not aligned")
	}
	// Every character of the CJK Unified Ideographs block up to U+9FA5
	// (the GB and Big5 repertoire) has a reading but ten Japanese-made
	// characters for units (兙 decagram, 瓩 kilogram, ...) that Unihan gives
	// no Mandarin reading.
	const unread = "兙兡嗧桛烪瓧瓰瓱瓼甅"
	for r := rune(0x4E00); r <= 0x9FA5; r++ {
		if (Initial(r) == 0) != strings.ContainsRune(unread, r) {
			t.Errorf("Initial(%q) (U+%04X) = %q", r, r, Initial(r))
		}
	}
}

// TestTraditionalSameAsSimplified checks the promise that both spellings of
// a text give the same initials, over every character the fold table maps.
func TestTraditionalSameAsSimplified(t *testing.T) {
	for r := rune(0x3400); r <= 0x323AF; r++ {
		s := fold.Rune(r)
		if s == r {
			continue
		}
		if a, b := Initial(r), Initial(s); a != b || a == 0 && lookup(r) != 0 {
			t.Errorf("Initial(%q) = %q but Initial(%q) = %q", r, a, s, b)
		}
	}
}

func TestPhrases(t *testing.T) {
	for k, v := range phraseInitials {
		if fold.String(k) != k {
			t.Errorf("phrase %q is not in folded (simplified) form %q", k, fold.String(k))
		}
		if utf8.RuneCountInString(k) != len(v) {
			t.Errorf("phrase %q has %d characters but initials %q", k, utf8.RuneCountInString(k), v)
		}
		for _, r := range k {
			if Initial(r) == 0 {
				t.Errorf("phrase %q: %q has no reading", k, r)
			}
		}
		if !IsInitialsQuery(v) {
			t.Errorf("phrase %q: initials %q use a letter no syllable starts with", k, v)
		}
		// An override that agrees with the table is dead weight.
		if same := tableInitials(k); same == v {
			t.Errorf("phrase %q: table already gives %q", k, v)
		}
	}
}

func tableInitials(s string) string {
	var b []byte
	for _, r := range s {
		b = append(b, Initial(r))
	}
	return string(b)
}

func TestWords(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"住房公积金 2023年报表", []string{"zfgjj", "2023", "nbb"}},
		{"PM2.5监测", []string{"pm2", "5", "jc"}},
		{"社会保险（养老）", []string{"shbx", "yl"}},
		{"", nil},
		{"。", nil},
	}
	for _, c := range cases {
		if got := Words(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Words(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestIndexTerms(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"住房公积金", []string{"fgjj", "gjj", "jj", "zfgjj"}},
		{"住房公積金", []string{"fgjj", "gjj", "jj", "zfgjj"}},
		{"社", nil},
		{"GDP", nil},
		{"2023年GDP统计", []string{"tj"}},
		// Terms are cut at MaxQueryLen letters and sorted; repeats are left out.
		{"上海市公共数据开放平台数据", []string{
			"fptsj", "ggsjkfpt", "gsjkfpts", "hsggsjkf", "jkfptsj", "kfptsj",
			"ptsj", "sggsjkfp", "shsggsjk", "sjkfptsj", "tsj"}},
		// A term that is a prefix of another adds nothing to prefix queries.
		{"数据数据", []string{"jsj", "sjsj"}},
		{"社保 社保", []string{"sb"}},
	}
	for _, c := range cases {
		if got := IndexTerms(c.in); !slices.Equal(got, c.want) {
			t.Errorf("IndexTerms(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestQueriesFindTitles is the behaviour search relies on: an initials
// query, used as a prefix over IndexTerms of a title, finds the title.
func TestQueriesFindTitles(t *testing.T) {
	cases := []struct {
		query, title string
		want         bool
	}{
		{"shbx", "社會保險參保人數", true},
		{"gjj", "住房公积金缴存情况", true},
		{"zfgjj", "住房公積金繳存情況", true},
		{"jt", "交通运输行政执法", true},
		{"xm", "厦门市公交线路", true},
		{"yl", "醫療機構名錄", true},
		{"JT", "交通运输行政执法", true},
		{"gjj", "社会保险参保人数", false},
		{"shbx", "住房公积金", false},
	}
	for _, c := range cases {
		q, ok := ParseQuery(c.query)
		if !ok {
			t.Fatalf("ParseQuery(%q) refused", c.query)
		}
		found := slices.ContainsFunc(IndexTerms(c.title), func(term string) bool {
			return strings.HasPrefix(term, q)
		})
		if found != c.want {
			t.Errorf("query %q on %q: found = %v, want %v (terms %q)", c.query, c.title, found, c.want, IndexTerms(c.title))
		}
	}
}

func TestParseQuery(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"sb", "sb", true},
		{"gjj", "gjj", true},
		{"shbx", "shbx", true},
		{"zfgjj", "zfgjj", true},
		{" GJJ ", "gjj", true},
		{"ｇｊｊ", "gjj", true},
		{"abcdefgh", "abcdefgh", true},
		{"s", "", false},         // too short
		{"abcdefghk", "", false}, // too long
		{"bus", "", false},       // u starts no syllable
		{"api", "", false},       // nor i
		{"csv", "", false},       // nor v
		{"gjj 2023", "", false},  // space, digits
		{"gjj2", "", false},      // digit
		{"社保", "", false},        // Han: the text fields handle it
		{"sh-bx", "", false},     // punctuation
		{"", "", false},
	}
	for _, c := range cases {
		got, ok := ParseQuery(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseQuery(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
		if IsInitialsQuery(c.in) != c.ok {
			t.Errorf("IsInitialsQuery(%q) = %v, want %v", c.in, !c.ok, c.ok)
		}
	}
}

func FuzzInitials(f *testing.F) {
	for _, s := range []string{"社会保险", "社會保險", "厦门市", "2023年GDP", "ＧＤＰ", "长三角长", "\xff", "", "a·b", "\U00020000\U0002A6D6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Initials(s)
		for i := 0; i < len(got); i++ {
			if c := got[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
				t.Fatalf("Initials(%q) = %q: byte %q", s, got, c)
			}
		}
		if j := strings.Join(Words(s), ""); j != got {
			t.Fatalf("Words(%q) joined = %q, Initials = %q", s, j, got)
		}
		if f := Initials(fold.String(s)); f != got {
			t.Fatalf("Initials(fold(%q)) = %q, Initials = %q", s, f, got)
		}
		if utf8.RuneCountInString(s) < len(got) {
			t.Fatalf("Initials(%q) = %q is longer than its input", s, got)
		}
		for _, term := range IndexTerms(s) {
			if !IsInitialsQuery(term) || !strings.Contains(got, term) {
				t.Fatalf("IndexTerms(%q) holds %q, which no query matches", s, term)
			}
		}
		if q, ok := ParseQuery(s); ok && (len(q) < MinQueryLen || len(q) > MaxQueryLen) {
			t.Fatalf("ParseQuery(%q) = %q", s, q)
		}
	})
}

func BenchmarkInitials(b *testing.B) {
	const title = "上海市住房公积金缴存情况统计（2023年度）"
	for b.Loop() {
		Initials(title)
	}
}

func BenchmarkIndexTerms(b *testing.B) {
	const title = "上海市住房公积金缴存情况统计（2023年度）"
	for b.Loop() {
		IndexTerms(title)
	}
}
