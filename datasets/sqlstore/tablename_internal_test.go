package sqlstore

import (
	"regexp"
	"strings"
	"testing"
)

var tableNameRE = regexp.MustCompile(tableNamePattern)

// The hand-written check accepts exactly the names the pattern it reports
// in its error accepts.
func TestValidTableMatchesPattern(t *testing.T) {
	for _, name := range []string{
		"", "a", "r_19550c19a8374cb291ae3667fde40c0d", "A", "_r", "9r", "r-1", "r 1", "r\n", "r\x00",
		"表", "r表", strings.Repeat("a", 63), strings.Repeat("a", 64), "a" + strings.Repeat("_", 62), "r_\u00e9",
	} {
		if got, want := validTable(name), tableNameRE.MatchString(name); got != want {
			t.Errorf("validTable(%q) = %v, the pattern says %v", name, got, want)
		}
	}
	if err := checkTable("r_1; DROP TABLE datasets"); err == nil || !strings.Contains(err.Error(), tableNamePattern) {
		t.Errorf("checkTable of an injection = %v, want an error naming the pattern", err)
	}
}

func FuzzValidTable(f *testing.F) {
	for _, s := range []string{"r_abc", "", "A", strings.Repeat("z", 64), "r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := validTable(name), tableNameRE.MatchString(name); got != want {
			t.Fatalf("validTable(%q) = %v, the pattern says %v", name, got, want)
		}
	})
}
