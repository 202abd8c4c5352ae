package portal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kaifang/datasets"
)

func day(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.ParseInLocation("2006-01-02 15:04", s, Shanghai)
	if err != nil {
		tb.Fatalf("bad test date %q: %v", s, err)
	}
	return t
}

func TestCalendarIsWorkday(t *testing.T) {
	c := DefaultCalendar()
	for _, tc := range []struct {
		date string
		want bool
	}{
		{"2026-09-18 10:00", true},  // Friday
		{"2026-09-19 10:00", false}, // Saturday
		{"2026-09-20 10:00", true},  // Sunday, 調休 working day before National Day
		{"2026-09-25 10:00", false}, // Mid-Autumn, a Friday
		{"2026-10-01 10:00", false},
		{"2026-10-07 10:00", false},
		{"2026-10-08 10:00", true},
		{"2026-10-10 10:00", true}, // Saturday, 調休
		{"2026-10-11 10:00", false},
		{"2026-02-14 10:00", true},  // Saturday before Spring Festival
		{"2026-02-23 10:00", false}, // Monday, still Spring Festival
		{"2026-01-04 10:00", true},  // Sunday after New Year
		{"2027-02-08 10:00", false}, // provisional 2027 Spring Festival, a Monday
		{"2027-10-04 10:00", true},  // provisional: statutory National Day ends 10-03
		{"2031-03-03 10:00", true},  // no file: Monday–Friday
		{"2031-03-01 10:00", false},
	} {
		t.Run(tc.date[:10], func(t *testing.T) {
			if got := c.IsWorkday(day(t, tc.date)); got != tc.want {
				t.Errorf("IsWorkday(%s) = %v, want %v", tc.date, got, tc.want)
			}
		})
	}
}

func TestCalendarIsWorkdayUsesShanghaiDate(t *testing.T) {
	// 2026-09-30 17:00 UTC is already 10-01 01:00 in Shanghai: a holiday.
	if DefaultCalendar().IsWorkday(time.Date(2026, 9, 30, 17, 0, 0, 0, time.UTC)) {
		t.Fatal("the Shanghai date (National Day) must decide, not the UTC date")
	}
}

func TestCalendarAddWorkdays(t *testing.T) {
	c := DefaultCalendar()
	for _, tc := range []struct {
		name  string
		start string
		n     int
		want  string
	}{
		{"across National Day", "2026-09-30 10:00", 1, "2026-10-08 10:00"},
		{"onto the 調休 Saturday", "2026-10-09 10:00", 1, "2026-10-10 10:00"},
		{"onto the 調休 Sunday", "2026-09-18 09:30", 1, "2026-09-20 09:30"},
		{"over Mid-Autumn", "2026-09-24 10:00", 1, "2026-09-28 10:00"},
		{"15 days from before the holidays", "2026-09-21 10:00", 15, "2026-10-19 10:00"},
		{"zero", "2026-10-03 10:00", 0, "2026-10-03 10:00"},
		{"backwards", "2026-10-08 10:00", -1, "2026-09-30 10:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.AddWorkdays(day(t, tc.start), tc.n)
			if want := day(t, tc.want); !got.Equal(want) {
				t.Errorf("AddWorkdays(%s, %d) = %s, want %s", tc.start, tc.n, got.Format(time.DateTime), tc.want)
			}
		})
	}
}

func TestCalendarDeadlineAndBetween(t *testing.T) {
	c := DefaultCalendar()
	start := day(t, "2026-09-21 10:00")
	due := c.Deadline(start, 15)
	if want := time.Date(2026, 10, 19, 23, 59, 59, 0, Shanghai); !due.Equal(want) {
		t.Fatalf("Deadline = %s, want %s", due, want)
	}
	if n := c.WorkdaysBetween(start, due); n != 15 {
		t.Errorf("WorkdaysBetween(start, due) = %d, want 15", n)
	}
	if n := c.WorkdaysBetween(day(t, "2026-09-30 10:00"), day(t, "2026-10-08 09:00")); n != 1 {
		t.Errorf("WorkdaysBetween over National Day = %d, want 1", n)
	}
	if n := c.WorkdaysBetween(due, start); n != -15 {
		t.Errorf("WorkdaysBetween reversed = %d, want -15", n)
	}
}

func TestCalendarOverride(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "calendar_2027_override.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "2027.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	c := NewCalendar()
	if err := c.LoadDir(dir); err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	if prov := c.Years()[2027]; prov {
		t.Error("the override is not provisional, but the year still says so")
	}
	if !c.IsWorkday(day(t, "2027-02-20 10:00")) {
		t.Error("the override's adjusted working Saturday 2027-02-20 is not a working day")
	}
	if DefaultCalendar().IsWorkday(day(t, "2027-02-20 10:00")) {
		t.Error("overriding a copy changed the built-in calendar")
	}
	if !c.IsWorkday(day(t, "2026-09-20 10:00")) {
		t.Error("loading 2027 lost the built-in 2026")
	}
}

func TestCalendarWarnings(t *testing.T) {
	w := DefaultCalendar().Warnings(day(t, "2026-12-01 10:00"))
	if len(w) != 1 || !strings.Contains(w[0], "2027 is provisional") {
		t.Errorf("Warnings in 2026 = %q, want one about provisional 2027", w)
	}
	w = DefaultCalendar().Warnings(day(t, "2027-12-01 10:00"))
	if len(w) != 2 {
		t.Errorf("Warnings in 2027 = %q, want provisional 2027 and missing 2028", w)
	}
}

func TestParseCalendarYearRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"not json":            `{`,
		"unknown field":       `{"year":2026,"holidayz":[]}`,
		"date in other year":  `{"year":2026,"holidays":[{"name":"x","from":"2025-12-31","to":"2026-01-01"}]}`,
		"ends before start":   `{"year":2026,"holidays":[{"name":"x","from":"2026-01-03","to":"2026-01-01"}]}`,
		"workday on a Monday": `{"year":2026,"workdays":["2026-01-05"]}`,
		"year out of range":   `{"year":99999}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseCalendarYear([]byte(in)); !datasets.IsCode(err, datasets.EINVALID) {
				t.Errorf("ParseCalendarYear(%s) = %v, want EINVALID", in, err)
			}
		})
	}
}

func FuzzParseCalendarYear(f *testing.F) {
	for _, n := range []string{"holidays/2026.json", "holidays/2027.json", "testdata/calendar_2027_override.json"} {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"year":2026,"workdays":["2026-02-30"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		y, err := ParseCalendarYear(b)
		if err != nil {
			if !datasets.IsCode(err, datasets.EINVALID) {
				t.Fatalf("error is %v, want EINVALID", err)
			}
			return
		}
		c := &Calendar{}
		if err := c.Load(b); err != nil {
			t.Fatalf("parsed but did not load: %v", err)
		}
		for _, w := range y.Workdays {
			d, _ := time.ParseInLocation(time.DateOnly, w, Shanghai)
			if !c.IsWorkday(d) {
				t.Fatalf("adjusted working day %s is not a working day", w)
			}
		}
	})
}
