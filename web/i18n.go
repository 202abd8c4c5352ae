package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

//go:embed i18n/*.json
var i18nFS embed.FS

// Languages in the order the switch shows them; the first is the default
// (the regulations' own script).
var languages = []string{"zh-Hant", "zh-Hans", "en"}

// catalogues holds every UI string of the site per language. Templates never
// contain words of their own, only keys, so a missing key in one language is
// caught by a test rather than shown as mixed-language pages.
type catalogues struct {
	byLang map[string]map[string]string
}

func loadCatalogues() (*catalogues, error) {
	cs := &catalogues{byLang: map[string]map[string]string{}}
	for _, l := range languages {
		b, err := i18nFS.ReadFile("i18n/" + l + ".json")
		if err != nil {
			return nil, fmt.Errorf("web: message catalogue %s: %w", l, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("web: message catalogue %s: %w", l, err)
		}
		cs.byLang[l] = m
	}
	// Every language must have exactly the keys of the default one.
	base := cs.byLang[languages[0]]
	for _, l := range languages[1:] {
		if missing := diffKeys(base, cs.byLang[l]); len(missing) > 0 {
			return nil, fmt.Errorf("web: message catalogue %s lacks %v", l, missing)
		}
		if extra := diffKeys(cs.byLang[l], base); len(extra) > 0 {
			return nil, fmt.Errorf("web: message catalogue %s has unknown keys %v", l, extra)
		}
	}
	return cs, nil
}

func diffKeys(a, b map[string]string) []string {
	var out []string
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (cs *catalogues) has(lang string) bool { return slices.Contains(languages, lang) }

// pick returns the language chosen by cookie, or the default.
func (cs *catalogues) pick(cookie, _ string) string {
	if cs.has(cookie) {
		return cookie
	}
	return languages[0]
}

// text returns the message of key in lang; an unknown key shows as itself,
// which the template test refuses.
func (cs *catalogues) text(lang, key string) string {
	if m, ok := cs.byLang[lang][key]; ok {
		return m
	}
	return key
}
