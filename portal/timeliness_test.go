package portal_test

import (
	"testing"
	"time"

	"kaifang/datasets"
	"kaifang/portal"
)

func TestTimelinessOf(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	ready := day("2026-01-31")
	cases := []struct {
		name    string
		d       datasets.Dataset
		now     time.Time
		due     string
		overdue bool
		days    int
	}{
		{"monthly from its version, on time", datasets.Dataset{Frequency: datasets.Monthly, CurrentVersion: &datasets.Version{ReadyAt: &ready}}, day("2026-02-27"), "2026-03-03", false, 0},
		{"monthly from its version, late", datasets.Dataset{Frequency: datasets.Monthly, CurrentVersion: &datasets.Version{ReadyAt: &ready}}, day("2026-03-13"), "2026-03-03", true, 10},
		{"daily without a version counts from creation", datasets.Dataset{Frequency: datasets.Daily, CreatedAt: day("2026-03-01")}, day("2026-03-05"), "2026-03-02", true, 3},
		{"irregular is never due", datasets.Dataset{Frequency: datasets.Irregular, CreatedAt: day("2020-01-01")}, day("2026-03-05"), "", false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := portal.TimelinessOf(&c.d, c.now)
			if (got.NextDue == nil) != (c.due == "") || (got.NextDue != nil && got.NextDue.Format("2006-01-02") != c.due) {
				t.Errorf("next due %v, want %s", got.NextDue, c.due)
			}
			if got.Overdue != c.overdue || got.DaysOverdue != c.days {
				t.Errorf("overdue %v by %d days, want %v by %d", got.Overdue, got.DaysOverdue, c.overdue, c.days)
			}
		})
	}
}
