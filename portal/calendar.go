package portal

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"kaifang/datasets"
)

// Shanghai is the zone every deadline is counted in. China keeps no
// daylight saving, so a fixed offset is exact and needs no tzdata.
var Shanghai = time.FixedZone("CST", 8*3600)

//go:embed holidays/*.json
var holidayFS embed.FS

// CalendarYear is one year's arrangement of public holidays and adjusted
// working days (放假調休), as the State Council publishes it each autumn.
type CalendarYear struct {
	Year        int    `json:"year"`
	Source      string `json:"source"`
	Provisional bool   `json:"provisional"` // not yet from the official notice
	Holidays    []struct {
		Name string `json:"name"`
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"holidays"`
	Workdays []string `json:"workdays"` // weekend days that are working days (調休上班)
}

// Calendar knows which days are working days: Monday to Friday, minus the
// year's public holidays, plus its adjusted working weekends. A year with
// no file falls back to Monday–Friday; Years says which are loaded so that
// administrators see what is missing. A nil *Calendar uses the built-in years.
type Calendar struct {
	mu    sync.RWMutex
	years map[int]*calendarYear
}

type calendarYear struct {
	info CalendarYear
	off  map[string]bool // holiday dates
	on   map[string]bool // adjusted working dates
}

var (
	builtinOnce sync.Once
	builtin     *Calendar
)

// DefaultCalendar returns the calendar built from the repository's
// holidays/*.json files.
func DefaultCalendar() *Calendar {
	builtinOnce.Do(func() {
		c, err := LoadCalendar(holidayFS, "holidays")
		if err != nil {
			panic("portal: built-in holiday files are broken: " + err.Error()) // caught by tests, never by input
		}
		builtin = c
	})
	return builtin
}

// NewCalendar returns a calendar with the built-in years, to which
// configuration may add or replace years with LoadFile or LoadDir.
func NewCalendar() *Calendar {
	c := &Calendar{years: map[int]*calendarYear{}}
	d := DefaultCalendar()
	d.mu.RLock()
	for y, v := range d.years {
		c.years[y] = v
	}
	d.mu.RUnlock()
	return c
}

// LoadCalendar reads every *.json file in dir of fsys.
func LoadCalendar(fsys fs.FS, dir string) (*Calendar, error) {
	c := &Calendar{years: map[int]*calendarYear{}}
	names, err := fs.Glob(fsys, dir+"/*.json")
	if err != nil {
		return nil, datasets.Wrap(err, datasets.EINVALID, "reading calendar directory")
	}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, datasets.Wrap(err, datasets.EINVALID, "reading calendar file %s", n)
		}
		if err := c.Load(b); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// LoadDir adds or replaces years from every *.json file in a directory on disk.
func (c *Calendar) LoadDir(dir string) error {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return datasets.Wrap(err, datasets.EINVALID, "reading calendar directory")
	}
	for _, n := range names {
		if err := c.LoadFile(n); err != nil {
			return err
		}
	}
	return nil
}

// LoadFile adds or replaces a year from a JSON file on disk.
func (c *Calendar) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return datasets.Wrap(err, datasets.EINVALID, "reading calendar file %s", filepath.Base(path))
	}
	return c.Load(b)
}

// Load parses one year's JSON arrangement and adds or replaces that year.
// EINVALID names what is wrong; the calendar is unchanged then.
func (c *Calendar) Load(b []byte) error {
	y, err := ParseCalendarYear(b)
	if err != nil {
		return err
	}
	cy := &calendarYear{info: *y, off: map[string]bool{}, on: map[string]bool{}}
	for _, h := range y.Holidays {
		from, _ := time.ParseInLocation(time.DateOnly, h.From, Shanghai)
		to, _ := time.ParseInLocation(time.DateOnly, h.To, Shanghai)
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			cy.off[d.Format(time.DateOnly)] = true
		}
	}
	for _, w := range y.Workdays {
		cy.on[w] = true
	}
	c.mu.Lock()
	if c.years == nil {
		c.years = map[int]*calendarYear{}
	}
	c.years[y.Year] = cy
	c.mu.Unlock()
	return nil
}

// ParseCalendarYear decodes and checks one year's arrangement: every date in
// that year, holiday ranges in order, adjusted working days on weekends.
func ParseCalendarYear(b []byte) (*CalendarYear, error) {
	var y CalendarYear
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&y); err != nil {
		return nil, datasets.Wrap(err, datasets.EINVALID, "calendar file is not valid JSON: %v", err)
	}
	if y.Year < 2000 || y.Year > 2200 {
		return nil, datasets.Errorf(datasets.EINVALID, "calendar year %d is out of range", y.Year)
	}
	inYear := func(s, what string) (time.Time, error) {
		t, err := time.ParseInLocation(time.DateOnly, s, Shanghai)
		if err != nil || t.Year() != y.Year {
			return t, datasets.Errorf(datasets.EINVALID, "calendar %d: %s %q is not a date of that year", y.Year, what, s)
		}
		return t, nil
	}
	for _, h := range y.Holidays {
		from, err := inYear(h.From, "holiday "+h.Name+" from")
		if err != nil {
			return nil, err
		}
		to, err := inYear(h.To, "holiday "+h.Name+" to")
		if err != nil {
			return nil, err
		}
		if to.Before(from) {
			return nil, datasets.Errorf(datasets.EINVALID, "calendar %d: holiday %s ends before it starts", y.Year, h.Name)
		}
	}
	for _, w := range y.Workdays {
		t, err := inYear(w, "working day")
		if err != nil {
			return nil, err
		}
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			return nil, datasets.Errorf(datasets.EINVALID, "calendar %d: adjusted working day %s is not a weekend day", y.Year, w)
		}
	}
	return &y, nil
}

func (c *Calendar) get() *Calendar {
	if c == nil {
		return DefaultCalendar()
	}
	return c
}

// Years lists the loaded years and whether each is provisional.
func (c *Calendar) Years() map[int]bool {
	c = c.get()
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[int]bool, len(c.years))
	for y, v := range c.years {
		out[y] = v.info.Provisional
	}
	return out
}

// Warnings describes years that deadlines may be computed wrongly in: the
// current and next year when missing or provisional. Administrators see them.
func (c *Calendar) Warnings(now time.Time) []string {
	years := c.Years()
	var out []string
	y := now.In(Shanghai).Year()
	for _, yr := range []int{y, y + 1} {
		prov, ok := years[yr]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("no holiday calendar for %d: Monday–Friday are taken as working days", yr))
		case prov:
			out = append(out, fmt.Sprintf("the holiday calendar for %d is provisional: replace it once the State Council notice is published", yr))
		}
	}
	sort.Strings(out)
	return out
}

// IsWorkday reports whether t's date in Asia/Shanghai is a working day.
func (c *Calendar) IsWorkday(t time.Time) bool {
	c = c.get()
	t = t.In(Shanghai)
	key := t.Format(time.DateOnly)
	c.mu.RLock()
	y := c.years[t.Year()]
	c.mu.RUnlock()
	if y != nil {
		if y.on[key] {
			return true
		}
		if y.off[key] {
			return false
		}
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// AddWorkdays returns the same Shanghai clock time on the n-th working day
// after start's date (before it, for negative n); the start day itself is
// not counted, as "within N working days" is counted from the next day.
func (c *Calendar) AddWorkdays(start time.Time, n int) time.Time {
	t := start.In(Shanghai)
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		t = t.AddDate(0, 0, step)
		if c.IsWorkday(t) {
			n--
		}
	}
	return t
}

// Deadline returns the last instant of the n-th working day after start:
// an answer "within n working days" is on time until then.
func (c *Calendar) Deadline(start time.Time, n int) time.Time {
	d := c.AddWorkdays(start, n)
	y, m, day := d.Date()
	return time.Date(y, m, day, 23, 59, 59, 0, Shanghai)
}

// WorkdaysBetween counts the working days after a's date up to and
// including b's date (Shanghai); negative when b is before a.
func (c *Calendar) WorkdaysBetween(a, b time.Time) int {
	a, b = a.In(Shanghai), b.In(Shanghai)
	da := time.Date(a.Year(), a.Month(), a.Day(), 12, 0, 0, 0, Shanghai)
	db := time.Date(b.Year(), b.Month(), b.Day(), 12, 0, 0, 0, Shanghai)
	sign := 1
	if db.Before(da) {
		da, db, sign = db, da, -1
	}
	n := 0
	for d := da.AddDate(0, 0, 1); !d.After(db); d = d.AddDate(0, 0, 1) {
		if c.IsWorkday(d) {
			n++
		}
	}
	return sign * n
}
