package fold

import (
	"testing"
	"unicode/utf8"
)

// A folded character must not fold again: the index stores folded text and
// the query is folded once, so 薴 → 苧 → 苎 would leave 薴 in a query unable
// to find 苎 in a title.
func TestRuneIdempotentOverTable(t *testing.T) {
	for i, from := range t2sFrom {
		to := Rune(from)
		if to != t2sTo[i] {
			t.Errorf("Rune(%c U+%04X) = %c, table says %c", from, from, to, t2sTo[i])
		}
		if again := Rune(to); again != to {
			t.Errorf("not idempotent: %c U+%04X → %c U+%04X → %c U+%04X", from, from, to, to, again, again)
		}
	}
}

func TestRuneIdempotentEverywhere(t *testing.T) {
	for r := rune(0); r <= utf8.MaxRune; r++ {
		once := Rune(r)
		if again := Rune(once); again != once {
			t.Errorf("not idempotent: U+%04X → U+%04X → U+%04X", r, once, again)
		}
	}
}

func TestChainFollowed(t *testing.T) {
	if got := String("薴麻"); got != "苎麻" {
		t.Errorf(`String("薴麻") = %q, want "苎麻"`, got)
	}
}
