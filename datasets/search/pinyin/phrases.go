package pinyin

import "sort"

// phraseInitials overrides the per-character table for words in which a
// character does not take its most common reading, keyed by the simplified
// (folded) spelling; the traditional spelling folds to it. Only words a data
// catalogue is likely to hold are listed: place names, banking, industry,
// utilities. The comment names the character whose table reading is wrong
// and what Unihan gives for it.
var phraseInitials = map[string]string{
	// 厦 shà (大厦) → xià
	"厦门": "xm",
	// 长 zhǎng (增长, 局长) → cháng
	"长沙": "cs", "长春": "cc", "长江": "cj", "长城": "cc", "长安": "ca",
	"长宁": "cn", "长治": "cz", "长三角": "csj", "长途": "ct", "长期": "cq",
	"长效": "cx", "长度": "cd", "延长": "yc",
	// 行 xíng (行政) → háng
	"银行": "yh", "行业": "hy", "各行各业": "ghgy", "闵行": "mh", "行情": "hq",
	// 重 zhòng (重点) → chóng
	"重庆": "cq", "重复": "cf", "重新": "cx", "重建": "cj", "重组": "cz", "重阳": "cy",
	// 会 huì → kuài
	"会计": "kj",
	// 给 gěi → jǐ
	"给水": "js", "给排水": "jps", "供给": "gj", "补给": "bj",
	// 藏 cáng → zàng
	"西藏": "xz", "藏族": "zz",
	// 番 fān → pān
	"番禺": "py",
	// 乐 lè → yuè
	"乐清": "yq", "音乐": "yy",
	// 莘 shēn → xīn
	"莘庄": "xz",
	// 调 diào (调查) → tiáo
	"调整": "tz", "调解": "tj", "调节": "tj", "调控": "tk", "调剂": "tj",
	"空调": "kt", "协调": "xt",
	// 识 shí → zhì
	"标识": "bz",
}

type phrase struct {
	runes    []rune
	initials string
}

// phrases holds phraseInitials by first character, longest first.
var phrases = func() map[rune][]phrase {
	m := map[rune][]phrase{}
	for k, v := range phraseInitials {
		rs := []rune(k)
		m[rs[0]] = append(m[rs[0]], phrase{rs, v})
	}
	for _, ps := range m {
		sort.Slice(ps, func(i, j int) bool {
			if len(ps[i].runes) != len(ps[j].runes) {
				return len(ps[i].runes) > len(ps[j].runes)
			}
			return string(ps[i].runes) < string(ps[j].runes)
		})
	}
	return m
}()

// matchPhrase returns the longest phrase rs starts with.
func matchPhrase(rs []rune) (phrase, bool) {
	for _, p := range phrases[rs[0]] {
		if len(p.runes) <= len(rs) && equal(p.runes, rs[:len(p.runes)]) {
			return p, true
		}
	}
	return phrase{}, false
}

func equal(a, b []rune) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
