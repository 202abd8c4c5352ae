package main

import (
	"slices"
	"strings"
	"testing"
)

func TestFollowChains(t *testing.T) {
	got := followChains([]pair{
		{'薴', '苧'}, {'苧', '苎'}, // a chain of two steps
		{'a', 'b'}, {'b', 'c'}, {'c', 'b'}, // runs into a cycle
		{'x', 'y'}, // a single step
	})
	slices.SortFunc(got, func(a, b pair) int { return int(a.from - b.from) })
	want := []pair{{'a', 'b'}, {'c', 'b'}, {'x', 'y'}, {'苧', '苎'}, {'薴', '苎'}}
	slices.SortFunc(want, func(a, b pair) int { return int(a.from - b.from) })
	if !slices.Equal(got, want) {
		t.Errorf("followChains = %q, want %q", got, want)
	}
}

func TestParseFollowsChains(t *testing.T) {
	in := "U+85B4\tkSimplifiedVariant\tU+82E7\n" +
		"U+82E7\tkSimplifiedVariant\tU+82CE\n" +
		"U+4E7E\tkSimplifiedVariant\tU+4E7E U+5E72\n"
	pairs, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pairs {
		if p.from == '薴' && p.to != '苎' {
			t.Errorf("薴 → %c, want 苎", p.to)
		}
		if p.from == '乾' {
			t.Errorf("乾 is in use in simplified text and must stay, got → %c", p.to)
		}
	}
}
