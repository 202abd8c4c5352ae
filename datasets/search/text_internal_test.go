package search

import (
	"slices"
	"testing"
)

func TestTokenizeKeepsOriginalOffsets(t *testing.T) {
	text := "醫療ＡＢＣ 2021年"
	var got []string
	for _, tk := range tokenize(text) {
		got = append(got, tk.term+"="+text[tk.start:tk.end])
	}
	want := []string{"医=醫", "医疗=醫療", "疗=療", "abc=ＡＢＣ", "2021=2021", "年=年"}
	if !slices.Equal(got, want) {
		t.Fatalf("tokens %v, want %v", got, want)
	}
}

func TestQueryTerms(t *testing.T) {
	cases := map[string][]string{
		"交通":     {"交通"},
		"水":      {"水"},
		"空氣質量":   {"空气", "气质", "质量"},
		"Bus 公交": {"bus", "公交"},
		"，。！":    nil,
		"公交公交":   {"公交", "交公"},
	}
	for in, want := range cases {
		if got := queryTerms(Fold(in)); !slices.Equal(got, want) {
			t.Errorf("queryTerms(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestExpandUsesLongestTermsAndNoDoubling(t *testing.T) {
	syn := DefaultSynonyms()
	alts := syn.expand("住房公積金")
	for _, a := range alts {
		if a == "住房住房公积金" {
			t.Fatalf("expansion doubled the prefix: %v", alts)
		}
	}
	if alts := syn.expand("社保"); !slices.Contains(alts, "社会保险") {
		t.Fatalf("社保 expands to %v", alts)
	}
}

func TestHighlightEscapesAndMarksFoldedMatches(t *testing.T) {
	p := newPlan("医疗", Synonyms{})
	got := highlight(p, "<b>醫療</b>機構", 200, 1)
	if len(got) != 1 || got[0] != "&lt;b&gt;<mark>醫療</mark>&lt;/b&gt;機構" {
		t.Fatalf("highlight %q", got)
	}
	if got := highlight(p, "道路", 200, 1); got != nil {
		t.Fatalf("highlight without a match = %q", got)
	}
}
