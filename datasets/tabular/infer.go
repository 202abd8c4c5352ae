package tabular

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kaifang/datasets"
)

// maxIntDigits keeps integers within what a float64 (and so JavaScript)
// holds exactly; longer digit runs are identifiers (ID cards, bank cards).
const maxIntDigits = 15

// colStat accumulates, over the whole file, which types every non-empty
// value of a column still fits.
type colStat struct {
	nonEmpty                                      int64
	notInt, notDec, notBool, notDate, notDateTime bool
}

func (c *colStat) observe(s string) {
	if c.notInt && c.notDec && c.notBool && c.notDateTime {
		if s != "" {
			c.nonEmpty++
		}
		return // already text: nothing left to learn
	}
	s = trimSpace(s)
	if isNull(s) {
		return
	}
	c.nonEmpty++
	if !c.notInt && !isInt(s) {
		c.notInt = true
	}
	if !c.notDec && !isDecimal(s) {
		c.notDec = true
	}
	if !c.notBool {
		if _, ok := parseBool(s, false); !ok {
			c.notBool = true
		}
	}
	if !c.notDateTime {
		_, hasTime, ok := parseDateTime(s, false)
		if !ok {
			c.notDateTime, c.notDate = true, true
		} else if hasTime {
			c.notDate = true
		}
	}
}

func (c *colStat) typ() datasets.FieldType {
	switch {
	case c.nonEmpty == 0:
		return datasets.TypeText
	case !c.notInt:
		return datasets.TypeInteger
	case !c.notDec:
		return datasets.TypeDecimal
	case !c.notBool:
		return datasets.TypeBoolean
	case !c.notDate:
		return datasets.TypeDate
	case !c.notDateTime:
		return datasets.TypeDatetime
	}
	return datasets.TypeText
}

func trimSpace(s string) string {
	if s == "" {
		return s
	}
	if b, e := s[0], s[len(s)-1]; b > ' ' && b < 0x80 && e > ' ' && e < 0x80 {
		return s
	}
	return strings.TrimFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '\u3000' || r == '\u00a0' || r == '\ufeff'
	})
}

// isNull reports the markers agencies write for "no value".
func isNull(s string) bool {
	switch s {
	case "", "-", "--", "---", "—", "——", "－", "NA", "N/A", "n/a", "na", "null", "NULL", "Null", "None", "…", "...",
		"#N/A", "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!":
		return true
	}
	return false
}

// isInt accepts what inference may call an integer: an optional minus, no
// leading zero, at most maxIntDigits digits.
func isInt(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	if s == "" || len(s) > maxIntDigits || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDecimal accepts plain decimal notation (no exponent, no grouping, no
// leading zeros except "0.").
func isDecimal(s string) bool {
	if isInt(s) {
		return true
	}
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	dot := strings.IndexByte(s, '.')
	if dot <= 0 || dot == len(s)-1 {
		return false
	}
	ip, fp := s[:dot], s[dot+1:]
	if (ip[0] == '0' && len(ip) > 1) || len(ip)+len(fp) > 17 {
		return false
	}
	for i := 0; i < len(ip); i++ {
		if ip[i] < '0' || ip[i] > '9' {
			return false
		}
	}
	for i := 0; i < len(fp); i++ {
		if fp[i] < '0' || fp[i] > '9' {
			return false
		}
	}
	return true
}

// parseBool reads booleans; loose (for declared boolean columns) also takes 1/0, y/n, t/f.
func parseBool(s string, loose bool) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "是":
		return true, true
	case "false", "no", "否":
		return false, true
	}
	if loose {
		switch strings.ToLower(s) {
		case "1", "y", "t", "有", "對", "对":
			return true, true
		case "0", "n", "f", "無", "无":
			return false, true
		}
	}
	return false, false
}

// parseDateTime reads yyyy-mm-dd, yyyy/m/d, yyyy.mm.dd and yyyy年m月d日,
// optionally followed by [T ]hh:mm[:ss[.fff]] (with 上午/下午) and a zone
// (Z, ±hh:mm, ±hhmm). compact also takes yyyymmdd. Values without a zone
// are returned in UTC with their wall clock kept.
func parseDateTime(s string, compact bool) (t time.Time, hasTime, ok bool) {
	var y, m, d int
	i := 0
	if compact && len(s) == 8 && allDigits(s) {
		y, m, d = atoi(s[:4]), atoi(s[4:6]), atoi(s[6:8])
		i = 8
	} else {
		if len(s) < 8 || !allDigits(s[:4]) {
			return t, false, false
		}
		y, i = atoi(s[:4]), 4
		var sep string
		switch {
		case s[i] == '-' || s[i] == '/' || s[i] == '.':
			sep, i = s[i:i+1], i+1
		case strings.HasPrefix(s[i:], "年"):
			sep, i = "年", i+len("年")
		default:
			return t, false, false
		}
		var n int
		if m, n = digits(s[i:], 2); n == 0 {
			return t, false, false
		}
		i += n
		sep2 := sep
		if sep == "年" {
			sep2 = "月"
		}
		if !strings.HasPrefix(s[i:], sep2) {
			return t, false, false
		}
		i += len(sep2)
		if d, n = digits(s[i:], 2); n == 0 {
			return t, false, false
		}
		i += n
		if sep == "年" && strings.HasPrefix(s[i:], "日") {
			i += len("日")
		}
	}
	if y < 1000 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return t, false, false
	}
	if i == len(s) {
		return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), false, true
	}
	// Time of day.
	if s[i] == 'T' || s[i] == ' ' {
		i++
	} else {
		return t, false, false
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	pm, am := false, false
	if strings.HasPrefix(s[i:], "下午") {
		pm, i = true, i+len("下午")
	} else if strings.HasPrefix(s[i:], "上午") {
		am, i = true, i+len("上午")
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	hh, n := digits(s[i:], 2)
	if n == 0 || i+n >= len(s) || s[i+n] != ':' {
		return t, false, false
	}
	i += n + 1
	mm, n := digits(s[i:], 2)
	if n != 2 {
		return t, false, false
	}
	i += n
	ss, nsec := 0, 0
	if i < len(s) && s[i] == ':' {
		if ss, n = digits(s[i+1:], 2); n != 2 {
			return t, false, false
		}
		i += 3
		if i < len(s) && s[i] == '.' {
			j := i + 1
			for j < len(s) && j-i-1 < 9 && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i+1 {
				return t, false, false
			}
			frac := s[i+1 : j]
			nsec = atoi(frac)
			for k := len(frac); k < 9; k++ {
				nsec *= 10
			}
			i = j
		}
	}
	if pm && hh < 12 {
		hh += 12
	} else if am && hh == 12 {
		hh = 0
	}
	if hh > 23 || mm > 59 || ss > 60 {
		return t, false, false
	}
	if ss == 60 {
		ss = 59
	}
	loc := time.UTC
	if i < len(s) {
		switch {
		case s[i] == 'Z' && i == len(s)-1:
		case s[i] == '+' || s[i] == '-':
			z := s[i+1:]
			var oh, om int
			switch {
			case len(z) == 5 && z[2] == ':' && allDigits(z[:2]) && allDigits(z[3:]):
				oh, om = atoi(z[:2]), atoi(z[3:])
			case len(z) == 4 && allDigits(z):
				oh, om = atoi(z[:2]), atoi(z[2:])
			case len(z) == 2 && allDigits(z):
				oh = atoi(z)
			default:
				return t, false, false
			}
			if oh > 14 || om > 59 {
				return t, false, false
			}
			off := oh*3600 + om*60
			if s[i] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		default:
			return t, false, false
		}
	}
	return time.Date(y, time.Month(m), d, hh, mm, ss, nsec, loc), true, true
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// digits reads up to max leading digits of s.
func digits(s string, max int) (v, n int) {
	for n < len(s) && n < max && s[n] >= '0' && s[n] <= '9' {
		v = v*10 + int(s[n]-'0')
		n++
	}
	return v, n
}

func atoi(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
	}
	return v
}

// parser converts one cell to the typed value of its column; ok is false
// when the cell does not fit.
type parser func(s string) (any, bool)

func parsersFor(cols []datasets.Column) []parser {
	ps := make([]parser, len(cols))
	for i, c := range cols {
		ps[i] = parserFor(c.Type)
	}
	return ps
}

func parserFor(t datasets.FieldType) parser {
	switch t {
	case datasets.TypeInteger:
		return func(s string) (any, bool) {
			s = trimSpace(s)
			if isNull(s) {
				return nil, true
			}
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				// Declared integers written as 12.0 by spreadsheets.
				f, ferr := strconv.ParseFloat(s, 64)
				if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
					return nil, false
				}
				return int64(f), true
			}
			return v, true
		}
	case datasets.TypeDecimal:
		return func(s string) (any, bool) {
			s = trimSpace(s)
			if isNull(s) {
				return nil, true
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, false
			}
			return v, true
		}
	case datasets.TypeBoolean:
		return func(s string) (any, bool) {
			s = trimSpace(s)
			if isNull(s) {
				return nil, true
			}
			v, ok := parseBool(s, true)
			if !ok {
				return nil, false
			}
			return v, true
		}
	case datasets.TypeDate:
		return func(s string) (any, bool) {
			s = trimSpace(s)
			if isNull(s) {
				return nil, true
			}
			t, hasTime, ok := parseDateTime(s, true)
			if !ok || (hasTime && (t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || t.Nanosecond() != 0)) {
				return nil, false
			}
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
		}
	case datasets.TypeDatetime:
		return func(s string) (any, bool) {
			s = trimSpace(s)
			if isNull(s) {
				return nil, true
			}
			t, _, ok := parseDateTime(s, true)
			if !ok {
				return nil, false
			}
			return t, true
		}
	}
	return func(s string) (any, bool) {
		if trimSpace(s) == "" {
			return nil, true
		}
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
		return s, true
	}
}
