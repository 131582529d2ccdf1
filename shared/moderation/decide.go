package moderation

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/displayname"
)

// MaxActivityBytes bounds the JSON encoding of any Activity Decide returns.
const MaxActivityBytes = 3072

// Activity is a member's recent activity in one group, stored as one item.
// Times are Unix milliseconds. Decide returns a new Activity and never
// modifies the one it is given.
type Activity struct {
	// Times of the member's latest messages inside the flood window, oldest
	// first; at most Flood.MaxMessages (≤ MaxTimes) of them, which is all
	// the flood rule needs. Empty while the flood rule is off.
	Times []int64 `json:"times,omitempty" dynamo:"times,omitempty"`
	// Texts holds the latest text hashes inside the repeat window, oldest
	// first, at most MaxTexts. Empty while the repeat rule is off.
	Texts []TextSeen `json:"texts,omitempty" dynamo:"texts,omitempty"`
	// Violations recorded inside the removal window (7 days when removal is
	// off), oldest first, at most MaxViolations.
	Violations   []Violation `json:"violations,omitempty" dynamo:"violations,omitempty"`
	LastActiveAt int64       `json:"last_active_at,omitempty" dynamo:"last_active_at,omitempty"`
	LastWarnedAt int64       `json:"last_warned_at,omitempty" dynamo:"last_warned_at,omitempty"`
	// Version is 0 before the first save and one more on every save; the
	// caller's write is conditional on the version it read.
	Version int64 `json:"version" dynamo:"version"`
}

// LastActive returns LastActiveAt as a time, the zero time if never active.
func (a Activity) LastActive() time.Time {
	if a.LastActiveAt == 0 {
		return time.Time{}
	}
	return time.UnixMilli(a.LastActiveAt).UTC()
}

// TextSeen is one text message's hash and time.
type TextSeen struct {
	Hash uint32 `json:"h" dynamo:"h"`
	At   int64  `json:"at" dynamo:"at"`
}

// Violation is one recorded violation: the first rule with the record action
// that the message broke.
type Violation struct {
	Rule RuleName `json:"rule" dynamo:"rule"`
	At   int64    `json:"at" dynamo:"at"`
}

// Decision is what to do about one message. Act on it only once the Activity
// returned with it has been saved.
type Decision struct {
	// Exempt is set for owners, admins and KOLs, whose messages no rule is
	// checked against.
	Exempt bool
	// Matched lists the rules the message broke, in the order of the Rule
	// constants.
	Matched []RuleName
	// Actions is the union of the matched rules' actions in the order warn,
	// record, deduct_points, remove; remove is added when the violation count
	// reaches the removal threshold, and warn is dropped in the cooldown.
	Actions []Action
	// Points to deduct: the sum of the matched rules' Points.
	Points int
	// Remove the member from the group.
	Remove bool
	// Violations recorded in the removal window, this message's included.
	Violations int
	// WarnText is the warning to post when Actions holds warn.
	WarnText string
	// WarnSuppressed is set when a warning was due but the member was warned
	// less than Warning.CooldownSeconds ago.
	WarnSuppressed bool
	// Keyword is the first keyword found and Host the first disallowed link
	// host ("" for a link card without URL), for the moderation log.
	Keyword string
	Host    string
}

const numRules = 5

const (
	iLinks = iota
	iQRCodes
	iKeywords
	iFlood
	iRepeat
)

type ruleView struct {
	name    RuleName
	actions []Action
	points  int
	label   string
}

func (r Rules) views() [numRules]ruleView {
	v := [numRules]ruleView{
		{name: RuleLinks}, {name: RuleQRCodes}, {name: RuleKeywords}, {name: RuleFlood}, {name: RuleRepeat},
	}
	if x := r.Links; x != nil {
		v[iLinks].actions, v[iLinks].points, v[iLinks].label = x.Actions, x.Points, x.Label
	}
	if x := r.QRCodes; x != nil {
		v[iQRCodes].actions, v[iQRCodes].points, v[iQRCodes].label = x.Actions, x.Points, x.Label
	}
	if x := r.Keywords; x != nil {
		v[iKeywords].actions, v[iKeywords].points, v[iKeywords].label = x.Actions, x.Points, x.Label
	}
	if x := r.Flood; x != nil {
		v[iFlood].actions, v[iFlood].points, v[iFlood].label = x.Actions, x.Points, x.Label
	}
	if x := r.Repeat; x != nil {
		v[iRepeat].actions, v[iRepeat].points, v[iRepeat].label = x.Actions, x.Points, x.Label
	}
	for i := range v {
		if v[i].label == "" {
			v[i].label = defaultLabels[i]
		}
	}
	return v
}

// defaultViolationDays keeps violations for the log when removal is off.
const defaultViolationDays = 7

// textBuf is the stack space for a message's text; longer texts allocate.
const textBuf = 192

// Decide applies rules r to message m that a member with role posted at now,
// given the member's activity a, and returns the decision and the activity to
// save in a's place (Version incremented). It is pure: equal arguments give
// equal results, and a is not modified. Times are taken at millisecond
// precision; a message at the same millisecond as an earlier one counts as
// well. Rules should have passed Validate; out-of-range limits are clamped
// rather than trusted.
func Decide(r Rules, role Role, a Activity, m Message, now time.Time) (Decision, Activity) {
	ms := now.UnixMilli()
	d := Decision{Exempt: role.Exempt()}
	next := Activity{
		LastActiveAt: max(a.LastActiveAt, ms),
		LastWarnedAt: a.LastWarnedAt,
		Version:      a.Version + 1,
	}

	var (
		foldedBuf, skelBuf [textBuf]rune
		joinedBuf          [textBuf]bool
		wordBuf            [maxWordRunes]rune
		matched            [numRules]bool
	)
	t := newText(m.Text, foldedBuf[:0], skelBuf[:0], joinedBuf[:0])

	if f := r.Flood; f != nil && f.Enabled && f.MaxMessages > 0 && f.WindowSeconds > 0 {
		limit := min(f.MaxMessages, MaxTimes)
		since := ms - int64(f.WindowSeconds)*1000
		times := make([]int64, 0, len(a.Times)+1)
		for _, at := range a.Times {
			if at > since {
				times = append(times, at)
			}
		}
		matched[iFlood] = len(times)+1 > limit
		times = append(times, ms)
		slices.Sort(times)
		next.Times = times[max(0, len(times)-limit):]
	}

	if p := r.Repeat; p != nil && p.Enabled && p.MaxRepeats > 0 && p.WindowSeconds > 0 {
		since := ms - int64(p.WindowSeconds)*1000
		texts := make([]TextSeen, 0, len(a.Texts)+1)
		same := 0
		for _, s := range a.Texts {
			if s.At > since {
				texts = append(texts, s)
				if t.hasText && s.Hash == t.hash {
					same++
				}
			}
		}
		if t.hasText {
			matched[iRepeat] = same+1 > min(p.MaxRepeats, MaxTexts)
			texts = append(texts, TextSeen{Hash: t.hash, At: ms})
			slices.SortStableFunc(texts, func(x, y TextSeen) int { return cmp.Compare(x.At, y.At) })
		}
		if texts = texts[max(0, len(texts)-MaxTexts):]; len(texts) > 0 {
			next.Texts = texts
		}
	}

	if !d.Exempt {
		if l := r.Links; l != nil && l.Enabled {
			matched[iLinks] = linkViolation(l, m, &t, &d)
		}
		if q := r.QRCodes; q != nil && q.Enabled {
			matched[iQRCodes] = m.Kind == QRCode || m.Kind == MiniProgram || t.hasQR(wordBuf[:0])
		}
		if k := r.Keywords; k != nil && k.Enabled {
			for _, w := range k.Words {
				if t.containsWord(w, wordBuf[:0]) {
					matched[iKeywords], d.Keyword = true, w
					break
				}
			}
		}
	} else {
		matched = [numRules]bool{}
	}

	views := r.views()
	var acts [len(actionOrder)]bool
	var recordRule RuleName
	for i, v := range views {
		if !matched[i] {
			continue
		}
		d.Matched = append(d.Matched, v.name)
		for _, act := range v.actions {
			for j, o := range actionOrder {
				if act == o {
					acts[j] = true
				}
			}
			switch act {
			case DeductPoints:
				d.Points += max(0, min(v.points, maxPoints))
			case Record:
				if recordRule == "" {
					recordRule = v.name
				}
			}
		}
	}

	rm := r.Removal
	removal := rm != nil && rm.Enabled && rm.AfterViolations > 0 && rm.WindowDays > 0
	days := defaultViolationDays
	if removal {
		days = min(rm.WindowDays, maxWindowDays)
	}
	since := ms - int64(days)*24*int64(time.Hour/time.Millisecond)
	var violations []Violation
	for _, v := range a.Violations {
		if v.At > since {
			violations = append(violations, v)
		}
	}
	if recordRule != "" {
		violations = append(violations, Violation{Rule: recordRule, At: ms})
		slices.SortStableFunc(violations, func(x, y Violation) int { return cmp.Compare(x.At, y.At) })
		violations = violations[max(0, len(violations)-MaxViolations):]
		if removal && len(violations) >= min(rm.AfterViolations, MaxViolations) {
			acts[3] = true
		}
	}
	if len(violations) > 0 {
		next.Violations = violations
	}
	d.Violations = len(violations)
	d.Remove = acts[3]

	if acts[0] {
		var cooldown int64
		if w := r.Warning; w != nil {
			cooldown = int64(w.CooldownSeconds) * 1000
		}
		if !d.Remove && a.LastWarnedAt > 0 && max(ms-a.LastWarnedAt, a.LastWarnedAt-ms) < cooldown {
			acts[0], d.WarnSuppressed = false, true
		} else {
			d.WarnText = warnText(r.Warning, views, matched, m.SenderName, d.Violations, d.Remove)
			next.LastWarnedAt = max(a.LastWarnedAt, ms)
		}
	}
	for j, on := range acts {
		if on {
			d.Actions = append(d.Actions, actionOrder[j])
		}
	}
	return d, next
}

// linkViolation reports whether m carries a link to a host outside the
// allow-list, noting the first such host in d.
func linkViolation(l *LinkRule, m Message, t *text, d *Decision) bool {
	if m.Kind == LinkCard {
		var buf [textBuf]rune
		card := newText(m.URL, buf[:0], nil, nil)
		host, _ := card.nextHost(0)
		if host == nil {
			return true // a card whose target cannot be checked
		}
		for i := 0; host != nil; host, i = card.nextHost(i) {
			if !allowedHost(host, l.AllowDomains) {
				d.Host = string(host)
				return true
			}
		}
	}
	for host, i := t.nextHost(0); host != nil; host, i = t.nextHost(i) {
		if !allowedHost(host, l.AllowDomains) {
			d.Host = string(host)
			return true
		}
	}
	return false
}

func allowedHost(host []rune, domains []string) bool {
	for _, dom := range domains {
		if hostAllowed(host, dom) {
			return true
		}
	}
	return false
}

// warnText fills the warning template; the sender's name, chosen by the sender,
// goes through displayname.Clean as the robot speaks in the brand's voice.
func warnText(w *Warning, views [numRules]ruleView, matched [numRules]bool, name string, count int, removed bool) string {
	name = displayname.Clean(name)
	tmpl := DefaultTemplate
	if removed {
		tmpl = DefaultRemovalTemplate
	}
	if w != nil {
		if removed && w.RemovalTemplate != "" {
			tmpl = w.RemovalTemplate
		} else if !removed && w.Template != "" {
			tmpl = w.Template
		}
	}
	var b strings.Builder
	b.Grow(len(tmpl) + len(name) + 64)
	for len(tmpl) > 0 {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			break
		}
		b.WriteString(tmpl[:i])
		tmpl = tmpl[i:]
		switch {
		case strings.HasPrefix(tmpl, "{name}"):
			b.WriteString(name)
			tmpl = tmpl[len("{name}"):]
		case strings.HasPrefix(tmpl, "{rule}"):
			sep := ""
			for j, v := range views {
				if matched[j] {
					b.WriteString(sep)
					b.WriteString(v.label)
					sep = "、"
				}
			}
			tmpl = tmpl[len("{rule}"):]
		case strings.HasPrefix(tmpl, "{count}"):
			b.WriteString(strconv.Itoa(count))
			tmpl = tmpl[len("{count}"):]
		default:
			b.WriteByte('{')
			tmpl = tmpl[1:]
		}
	}
	return b.String()
}
