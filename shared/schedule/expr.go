package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Years EventBridge Scheduler accepts in a cron expression.
const (
	minYear = 1970
	maxYear = 2199
)

type kind int

const (
	kindAt kind = iota + 1
	kindRate
	kindCron
)

// expr is a parsed schedule expression.
type expr struct {
	kind kind
	// at() holds the wall-clock time, read in the schedule's location by next.
	at string
	// rate() holds the interval.
	every time.Duration
	// cron() holds the fields.
	cron *cronExpr
}

// Next returns the first time strictly after after at which the expression expr,
// evaluated in the IANA time zone tz ("" is UTC), fires; ok is false when it never
// fires again.
//
// Like EventBridge Scheduler: at() fires once, at its wall-clock time in tz. rate()
// fires every interval of elapsed time (a day is 24 hours, whatever the clocks do),
// counted from after, so callers pass the schedule's start or its previous run.
// cron() is matched against the wall clock in tz: a time that does not exist because
// the clocks spring forward is skipped, and a time that occurs twice because they
// fall back fires once, at its first occurrence.
//
// Next returns an error when expr is not valid EventBridge Scheduler syntax, uses a
// feature this package does not support (the W day-of-month wildcard), or tz is not
// a known time zone.
func Next(expr, tz string, after time.Time) (time.Time, bool, error) {
	e, err := parseExpr(expr)
	if err != nil {
		return time.Time{}, false, err
	}
	loc, err := loadLocation(tz)
	if err != nil {
		return time.Time{}, false, err
	}
	t, ok := e.next(loc, after)
	return t, ok, nil
}

// IsOneTime reports whether expr is an at() expression, which fires once.
func IsOneTime(expr string) bool {
	return strings.HasPrefix(strings.TrimSpace(expr), "at(")
}

func loadLocation(tz string) (*time.Location, error) {
	// "Local" would make the schedule depend on the machine it is evaluated on.
	if tz == "Local" {
		return nil, fmt.Errorf("%w: time zone %q: use an IANA name", ErrInvalid, tz)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("%w: time zone %q: %v", ErrInvalid, tz, err)
	}
	return loc, nil
}

func (e expr) next(loc *time.Location, after time.Time) (time.Time, bool) {
	switch e.kind {
	case kindAt:
		t, err := time.ParseInLocation(atLayout, e.at, loc)
		if err != nil || !t.After(after) {
			return time.Time{}, false
		}
		return t, true
	case kindRate:
		return after.Add(e.every), true
	default:
		return e.cron.next(loc, after)
	}
}

const atLayout = "2006-01-02T15:04:05"

func parseExpr(s string) (expr, error) {
	name, body, ok := splitCall(s)
	if !ok {
		return expr{}, fmt.Errorf("%w: expression %q: want at(...), rate(...) or cron(...)", ErrInvalid, s)
	}
	switch name {
	case "at":
		if _, err := time.Parse(atLayout, body); err != nil {
			return expr{}, fmt.Errorf("%w: expression %q: at() wants yyyy-mm-ddThh:mm:ss", ErrInvalid, s)
		}
		return expr{kind: kindAt, at: body}, nil
	case "rate":
		d, err := parseRate(body)
		if err != nil {
			return expr{}, fmt.Errorf("%w: expression %q: %v", ErrInvalid, s, err)
		}
		return expr{kind: kindRate, every: d}, nil
	case "cron":
		c, err := parseCron(body)
		if err != nil {
			return expr{}, fmt.Errorf("%w: expression %q: %v", ErrInvalid, s, err)
		}
		return expr{kind: kindCron, cron: c}, nil
	}
	return expr{}, fmt.Errorf("%w: expression %q: want at(...), rate(...) or cron(...)", ErrInvalid, s)
}

func splitCall(s string) (name, body string, ok bool) {
	open := strings.IndexByte(s, '(')
	if open <= 0 || !strings.HasSuffix(s, ")") {
		return "", "", false
	}
	return s[:open], s[open+1 : len(s)-1], true
}

func parseRate(body string) (time.Duration, error) {
	fields := strings.Fields(body)
	if len(fields) != 2 || strings.Join(fields, " ") != body {
		return 0, fmt.Errorf("rate() wants \"value unit\"")
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("rate() value %q must be a positive whole number", fields[0])
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	unit := fields[1]
	// AWS wants the singular for 1 and the plural otherwise.
	singular := strings.TrimSuffix(unit, "s")
	d, ok := units[singular]
	if !ok {
		return 0, fmt.Errorf("rate() unit %q: want minutes, hours or days", unit)
	}
	if (n == 1) != (unit == singular) {
		return 0, fmt.Errorf("rate(%d %s): use %q for 1 and the plural otherwise", n, unit, singular)
	}
	return time.Duration(n) * d, nil
}

// cronExpr holds the six fields of an EventBridge cron expression as sets.
type cronExpr struct {
	minutes, hours uint64 // bit i set: value i matches
	months         uint16 // bit 1..12
	years          []bool // index year-minYear
	// Exactly one of the day fields is "?": domAny or dowAny.
	domAny, dowAny bool
	dom            uint32 // bit 1..31
	domLast        bool   // L: the last day of the month
	dow            uint8  // bit 0..6, Sunday is 0
	dowNth         []nthWeekday
	dowLast        []time.Weekday // 5L: the last Thursday of the month
}

type nthWeekday struct {
	day time.Weekday
	n   int
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

// field describes one cron field's range and names.
type field struct {
	name     string
	min, max int
	names    map[string]int
}

var (
	fMinute = field{"minutes", 0, 59, nil}
	fHour   = field{"hours", 0, 23, nil}
	fDOM    = field{"day-of-month", 1, 31, nil}
	fMonth  = field{"month", 1, 12, monthNames}
	fDOW    = field{"day-of-week", 1, 7, dayNames}
	fYear   = field{"year", minYear, maxYear, nil}
)

func parseCron(body string) (*cronExpr, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron() wants 6 fields (minutes hours day-of-month month day-of-week year), has %d", len(f))
	}
	c := &cronExpr{}
	var err error
	var set []int
	if set, err = fMinute.parse(f[0]); err != nil {
		return nil, err
	}
	for _, v := range set {
		c.minutes |= 1 << v
	}
	if set, err = fHour.parse(f[1]); err != nil {
		return nil, err
	}
	for _, v := range set {
		c.hours |= 1 << v
	}
	if set, err = fMonth.parse(f[3]); err != nil {
		return nil, err
	}
	for _, v := range set {
		c.months |= 1 << v
	}
	if set, err = fYear.parse(f[5]); err != nil {
		return nil, err
	}
	c.years = make([]bool, maxYear-minYear+1)
	for _, v := range set {
		c.years[v-minYear] = true
	}
	c.domAny, c.dowAny = f[2] == "?", f[4] == "?"
	if c.domAny == c.dowAny {
		return nil, fmt.Errorf("cron(): exactly one of day-of-month and day-of-week must be ?")
	}
	if !c.domAny {
		if err := c.parseDOM(f[2]); err != nil {
			return nil, err
		}
	}
	if !c.dowAny {
		if err := c.parseDOW(f[4]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *cronExpr) parseDOM(s string) error {
	var plain []string
	for _, part := range strings.Split(s, ",") {
		switch {
		case part == "L":
			c.domLast = true
		case strings.Contains(part, "W"):
			return fmt.Errorf("day-of-month %q: the W wildcard is not supported", s)
		case strings.Contains(part, "L"):
			return fmt.Errorf("day-of-month %q: L stands alone (the last day of the month)", s)
		default:
			plain = append(plain, part)
		}
	}
	if len(plain) == 0 {
		return nil
	}
	set, err := fDOM.parse(strings.Join(plain, ","))
	if err != nil {
		return err
	}
	for _, v := range set {
		c.dom |= 1 << v
	}
	return nil
}

func (c *cronExpr) parseDOW(s string) error {
	var plain []string
	for _, part := range strings.Split(s, ",") {
		switch {
		case part == "L":
			// The last day of the week.
			c.dow |= 1 << time.Saturday
		case strings.Contains(part, "#"):
			day, nth, _ := strings.Cut(part, "#")
			d, err := fDOW.value(day)
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(nth)
			if err != nil || n < 1 || n > 5 {
				return fmt.Errorf("day-of-week %q: the number after # must be 1 to 5", part)
			}
			c.dowNth = append(c.dowNth, nthWeekday{time.Weekday(d - 1), n})
		case strings.HasSuffix(part, "L"):
			d, err := fDOW.value(strings.TrimSuffix(part, "L"))
			if err != nil {
				return err
			}
			c.dowLast = append(c.dowLast, time.Weekday(d-1))
		default:
			plain = append(plain, part)
		}
	}
	if len(plain) == 0 {
		return nil
	}
	set, err := fDOW.parse(strings.Join(plain, ","))
	if err != nil {
		return err
	}
	for _, v := range set {
		c.dow |= 1 << (v - 1)
	}
	return nil
}

// parse reads a list of "*", "v", "a-b", "*/s", "v/s" and "a-b/s" items.
func (f field) parse(s string) ([]int, error) {
	if s == "" {
		return nil, fmt.Errorf("%s: empty", f.name)
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("%s %q: step must be a positive whole number", f.name, part)
			}
			step = n
		}
		lo, hi := f.min, f.max
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(a); err != nil {
				return nil, err
			}
			if hi, err = f.value(b); err != nil {
				return nil, err
			}
			if lo > hi {
				return nil, fmt.Errorf("%s %q: range runs backwards", f.name, part)
			}
		default:
			v, err := f.value(rng)
			if err != nil {
				return nil, err
			}
			lo = v
			// "v" alone is one value; "v/s" runs from v to the end of the range.
			if !hasStep {
				hi = v
			}
		}
		for v := lo; v <= hi; v += step {
			out = append(out, v)
		}
	}
	return out, nil
}

func (f field) value(s string) (int, error) {
	if v, ok := f.names[strings.ToUpper(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		if s == "?" || s == "L" || s == "W" || s == "#" {
			return 0, fmt.Errorf("%s: %q is not allowed here", f.name, s)
		}
		return 0, fmt.Errorf("%s: %q is not a number or a name", f.name, s)
	}
	if v < f.min || v > f.max {
		return 0, fmt.Errorf("%s: %d is outside %d-%d", f.name, v, f.min, f.max)
	}
	return v, nil
}

func (c *cronExpr) next(loc *time.Location, after time.Time) (time.Time, bool) {
	start := after.In(loc)
	sy, sm, sd := start.Date()
	for y := max(sy, minYear); y <= maxYear; y++ {
		if !c.years[y-minYear] {
			continue
		}
		for m := time.January; m <= time.December; m++ {
			if c.months&(1<<m) == 0 || (y == sy && m < sm) {
				continue
			}
			last := daysIn(y, m)
			for d := 1; d <= last; d++ {
				if y == sy && m == sm && d < sd {
					continue
				}
				if !c.matchesDay(y, m, d, last) {
					continue
				}
				if t, ok := c.firstOnDay(loc, y, m, d, after); ok {
					return t, true
				}
			}
		}
	}
	return time.Time{}, false
}

// firstOnDay returns the first matching minute of a day that is after after.
func (c *cronExpr) firstOnDay(loc *time.Location, y int, m time.Month, d int, after time.Time) (time.Time, bool) {
	for h := 0; h < 24; h++ {
		if c.hours&(1<<h) == 0 {
			continue
		}
		for mi := 0; mi < 60; mi++ {
			if c.minutes&(1<<mi) == 0 {
				continue
			}
			t := time.Date(y, m, d, h, mi, 0, 0, loc)
			// A wall-clock time the clocks skip comes back normalised to another hour.
			if t.Hour() != h || t.Minute() != mi || t.Day() != d {
				continue
			}
			// time.Date gives the first of two occurrences; a fall-back repeat is
			// never produced, so it fires once.
			if t.After(after) {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

func (c *cronExpr) matchesDay(y int, m time.Month, d, last int) bool {
	if !c.domAny {
		return c.dom&(1<<d) != 0 || (c.domLast && d == last)
	}
	wd := time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()
	if c.dow&(1<<wd) != 0 {
		return true
	}
	for _, n := range c.dowNth {
		if n.day == wd && (d-1)/7+1 == n.n {
			return true
		}
	}
	for _, l := range c.dowLast {
		if l == wd && d+7 > last {
			return true
		}
	}
	return false
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
}
