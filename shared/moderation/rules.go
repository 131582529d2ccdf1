package moderation

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tribehq/tribe/shared/problem"
)

// Limits Validate enforces. They bound the work per message and, through
// MaxTimes, MaxTexts and MaxViolations, the size of Activity.
const (
	MaxTimes         = 50    // most Flood.MaxMessages; Activity.Times never holds more
	MaxTexts         = 20    // Activity.Texts never holds more text hashes
	MaxViolations    = 20    // most Removal.AfterViolations; Activity.Violations never holds more
	maxRepeats       = 10    // most Repeat.MaxRepeats, well below MaxTexts
	maxWindowSeconds = 3600  // flood and repeat windows
	maxWindowDays    = 90    // removal window
	maxWords         = 200   // keywords per rule set
	maxWordRunes     = 32    // runes per keyword
	maxDomains       = 100   // allow-listed domains
	maxPoints        = 10000 // points one rule may deduct
	maxLabelRunes    = 64
	maxTemplateRunes = 500
)

// Rules is a tenant's or a group's moderation rules. A nil rule is unset: in a
// group it inherits the tenant's (see Merge); after merging it is off. Rules
// with Enabled false are off. An enabled rule without actions only reports its
// matches in the Decision (observe mode).
type Rules struct {
	Links    *LinkRule    `json:"links,omitempty" dynamo:"links,omitempty"`
	QRCodes  *QRCodeRule  `json:"qr_codes,omitempty" dynamo:"qr_codes,omitempty"`
	Keywords *KeywordRule `json:"keywords,omitempty" dynamo:"keywords,omitempty"`
	Flood    *FloodRule   `json:"flood,omitempty" dynamo:"flood,omitempty"`
	Repeat   *RepeatRule  `json:"repeat,omitempty" dynamo:"repeat,omitempty"`
	Removal  *Removal     `json:"removal,omitempty" dynamo:"removal,omitempty"`
	Warning  *Warning     `json:"warning,omitempty" dynamo:"warning,omitempty"`
}

// LinkRule flags web links in the text (http(s)://…, www.…, or a bare host
// with a common top-level domain such as t.cn/x or shop.example.com) and link
// cards. Hosts equal to or under an AllowDomains entry ("example.com" allows
// www.example.com) are not flagged; a link card without a known URL is.
type LinkRule struct {
	Enabled      bool     `json:"enabled" dynamo:"enabled"`
	AllowDomains []string `json:"allow_domains,omitempty" dynamo:"allow_domains,omitempty"`
	Actions      []Action `json:"actions,omitempty" dynamo:"actions,omitempty"`
	Points       int      `json:"points,omitempty" dynamo:"points,omitempty"` // with deduct_points
	Label        string   `json:"label,omitempty" dynamo:"label,omitempty"`   // {rule} in the warning
}

// QRCodeRule flags QR codes and mini-program cards: messages of Kind QRCode or
// MiniProgram, and texts carrying a WeChat or Alipay QR link
// (weixin.qq.com/r/, u.wechat.com, wxp://, qr.alipay.com) or a scan prompt
// (长按识别, 识别二维码, 扫码, 扫一扫). A plain Image is not flagged: the chat
// layer must recognise the code.
type QRCodeRule struct {
	Enabled bool     `json:"enabled" dynamo:"enabled"`
	Actions []Action `json:"actions,omitempty" dynamo:"actions,omitempty"`
	Points  int      `json:"points,omitempty" dynamo:"points,omitempty"`
	Label   string   `json:"label,omitempty" dynamo:"label,omitempty"`
}

// KeywordRule flags texts containing any of Words (ad words such as 加微信).
// Matching ignores case, full-width forms and everything but letters and
// digits, so "加 微 信", "加-微-信" and "ｗｅｉｘｉｎ" match 加微信 and weixin. A
// word that starts or ends with a Latin letter must not run on into another
// Latin letter: "vx" matches "v x" and "vx123" but not "devx" or "dev x".
type KeywordRule struct {
	Enabled bool     `json:"enabled" dynamo:"enabled"`
	Words   []string `json:"words,omitempty" dynamo:"words,omitempty"`
	Actions []Action `json:"actions,omitempty" dynamo:"actions,omitempty"`
	Points  int      `json:"points,omitempty" dynamo:"points,omitempty"`
	Label   string   `json:"label,omitempty" dynamo:"label,omitempty"`
}

// FloodRule flags a message when the member has posted more than MaxMessages
// messages, this one included, in the last WindowSeconds.
type FloodRule struct {
	Enabled       bool     `json:"enabled" dynamo:"enabled"`
	MaxMessages   int      `json:"max_messages" dynamo:"max_messages"`
	WindowSeconds int      `json:"window_seconds" dynamo:"window_seconds"`
	Actions       []Action `json:"actions,omitempty" dynamo:"actions,omitempty"`
	Points        int      `json:"points,omitempty" dynamo:"points,omitempty"`
	Label         string   `json:"label,omitempty" dynamo:"label,omitempty"`
}

// RepeatRule flags a message when the member has posted more than MaxRepeats
// identical texts, this one included, in the last WindowSeconds. Texts are
// identical when they are equal after ignoring case, full-width forms and
// white space. Messages without text are not counted.
type RepeatRule struct {
	Enabled       bool     `json:"enabled" dynamo:"enabled"`
	MaxRepeats    int      `json:"max_repeats" dynamo:"max_repeats"`
	WindowSeconds int      `json:"window_seconds" dynamo:"window_seconds"`
	Actions       []Action `json:"actions,omitempty" dynamo:"actions,omitempty"`
	Points        int      `json:"points,omitempty" dynamo:"points,omitempty"`
	Label         string   `json:"label,omitempty" dynamo:"label,omitempty"`
}

// Removal removes a member whose message brings their recorded violations in
// the last WindowDays to AfterViolations. Only rules with the record action
// record violations, one per message however many rules it broke.
type Removal struct {
	Enabled         bool `json:"enabled" dynamo:"enabled"`
	AfterViolations int  `json:"after_violations" dynamo:"after_violations"`
	WindowDays      int  `json:"window_days" dynamo:"window_days"`
}

// Warning shapes the text posted for the warn action. Templates may use
// {name} (the sender), {rule} (the broken rules' labels) and {count} (the
// member's recorded violations in the removal window). RemovalTemplate is used
// instead of Template when the decision removes the member. No warning is
// posted to a member warned less than CooldownSeconds ago, so a flood does
// not make the bot flood too; the other actions still apply.
type Warning struct {
	Template        string `json:"template,omitempty" dynamo:"template,omitempty"`
	RemovalTemplate string `json:"removal_template,omitempty" dynamo:"removal_template,omitempty"`
	CooldownSeconds int    `json:"cooldown_seconds,omitempty" dynamo:"cooldown_seconds,omitempty"`
}

// Default warning templates, used where Warning leaves them empty.
const (
	DefaultTemplate        = "@{name} 请遵守群规：{rule}。"
	DefaultRemovalTemplate = "{name} 多次违反群规（{rule}），已被移出本群。"
)

var defaultLabels = [numRules]string{
	"禁止发链接",
	"禁止发二维码和小程序",
	"禁止发广告",
	"禁止刷屏",
	"禁止重复发送相同内容",
}

// defaultWords are the starter ad keywords of Default.
var defaultWords = []string{
	"加微信", "加我微信", "加v", "加vx", "加薇", "vx号", "微信号",
	"代购", "兼职", "刷单", "日赚", "日结", "招代理", "免费领取",
}

// Default returns a starter set matching common 群规 (禁止广告、链接、二维码、
// 刷屏): links and QR codes warn and record; ad keywords (加微信, 代购, 兼职,
// 刷单 and the like) warn, record and deduct 10 points; more than 5 messages in 10 s warns; more than 3 identical
// messages in 60 s warns and records; 3 recorded violations in 7 days remove
// the member. Warnings to one member are at most one a minute.
func Default() Rules {
	return Rules{
		Links:    &LinkRule{Enabled: true, Actions: []Action{Warn, Record}},
		QRCodes:  &QRCodeRule{Enabled: true, Actions: []Action{Warn, Record}},
		Keywords: &KeywordRule{Enabled: true, Words: slices.Clone(defaultWords), Actions: []Action{Warn, Record, DeductPoints}, Points: 10},
		Flood:    &FloodRule{Enabled: true, MaxMessages: 5, WindowSeconds: 10, Actions: []Action{Warn}},
		Repeat:   &RepeatRule{Enabled: true, MaxRepeats: 3, WindowSeconds: 60, Actions: []Action{Warn, Record}},
		Removal:  &Removal{Enabled: true, AfterViolations: 3, WindowDays: 7},
		Warning:  &Warning{Template: DefaultTemplate, RemovalTemplate: DefaultRemovalTemplate, CooldownSeconds: 60},
	}
}

// Merge returns the rules in force in a group: each rule the group sets
// replaces the tenant's whole rule (a group's keyword list replaces the
// tenant's rather than adding to it); the rest come from the tenant. Either
// argument may be nil; rules neither sets are off. The result shares nothing
// with its arguments.
func Merge(tenant, group *Rules) Rules {
	var r Rules
	for _, src := range []*Rules{tenant, group} {
		if src == nil {
			continue
		}
		if src.Links != nil {
			l := *src.Links
			l.AllowDomains, l.Actions = slices.Clone(l.AllowDomains), slices.Clone(l.Actions)
			r.Links = &l
		}
		if src.QRCodes != nil {
			q := *src.QRCodes
			q.Actions = slices.Clone(q.Actions)
			r.QRCodes = &q
		}
		if src.Keywords != nil {
			k := *src.Keywords
			k.Words, k.Actions = slices.Clone(k.Words), slices.Clone(k.Actions)
			r.Keywords = &k
		}
		if src.Flood != nil {
			f := *src.Flood
			f.Actions = slices.Clone(f.Actions)
			r.Flood = &f
		}
		if src.Repeat != nil {
			p := *src.Repeat
			p.Actions = slices.Clone(p.Actions)
			r.Repeat = &p
		}
		if src.Removal != nil {
			v := *src.Removal
			r.Removal = &v
		}
		if src.Warning != nil {
			w := *src.Warning
			r.Warning = &w
		}
	}
	return r
}

// Validate checks the rules as an operator saved them. Every problem is
// reported, each a *problem.FieldError naming its field ("flood.max_messages"),
// in one error wrapping ErrInvalidRules and the problem.FieldErrors. Range
// checks apply to enabled rules only; action names are always checked.
func (r Rules) Validate() error {
	var v validator
	if l := r.Links; l != nil {
		v.actions("links", l.Actions, l.Points)
		v.label("links", l.Label)
		if len(l.AllowDomains) > maxDomains {
			v.add("links.allow_domains", "at most %d domains, got %d", maxDomains, len(l.AllowDomains))
		}
		for i, d := range l.AllowDomains {
			if !validDomain(d) {
				v.add(fmt.Sprintf("links.allow_domains[%d]", i), "%q is not a host name like example.com", d)
			}
		}
	}
	if q := r.QRCodes; q != nil {
		v.actions("qr_codes", q.Actions, q.Points)
		v.label("qr_codes", q.Label)
	}
	if k := r.Keywords; k != nil {
		v.actions("keywords", k.Actions, k.Points)
		v.label("keywords", k.Label)
		if k.Enabled && len(k.Words) == 0 {
			v.add("keywords.words", "at least one word when enabled")
		}
		if len(k.Words) > maxWords {
			v.add("keywords.words", "at most %d words, got %d", maxWords, len(k.Words))
		}
		var buf [maxWordRunes]rune
		for i, w := range k.Words {
			switch {
			case utf8.RuneCountInString(w) > maxWordRunes:
				v.add(fmt.Sprintf("keywords.words[%d]", i), "at most %d characters", maxWordRunes)
			case len(skeleton(w, buf[:0])) == 0:
				v.add(fmt.Sprintf("keywords.words[%d]", i), "%q has no letters or digits", w)
			}
		}
	}
	if f := r.Flood; f != nil {
		v.actions("flood", f.Actions, f.Points)
		v.label("flood", f.Label)
		if f.Enabled {
			v.between("flood.max_messages", f.MaxMessages, 1, MaxTimes)
			v.between("flood.window_seconds", f.WindowSeconds, 1, maxWindowSeconds)
		}
	}
	if p := r.Repeat; p != nil {
		v.actions("repeat", p.Actions, p.Points)
		v.label("repeat", p.Label)
		if p.Enabled {
			v.between("repeat.max_repeats", p.MaxRepeats, 1, maxRepeats)
			v.between("repeat.window_seconds", p.WindowSeconds, 1, maxWindowSeconds)
		}
	}
	if m := r.Removal; m != nil && m.Enabled {
		v.between("removal.after_violations", m.AfterViolations, 1, MaxViolations)
		v.between("removal.window_days", m.WindowDays, 1, maxWindowDays)
	}
	if w := r.Warning; w != nil {
		if n := utf8.RuneCountInString(w.Template); n > maxTemplateRunes {
			v.add("warning.template", "at most %d characters, got %d", maxTemplateRunes, n)
		}
		if n := utf8.RuneCountInString(w.RemovalTemplate); n > maxTemplateRunes {
			v.add("warning.removal_template", "at most %d characters, got %d", maxTemplateRunes, n)
		}
		v.between("warning.cooldown_seconds", w.CooldownSeconds, 0, 86400)
	}
	return v.err()
}

type validator struct{ problems problem.FieldErrors }

func (v *validator) add(field, format string, a ...any) {
	v.problems = append(v.problems, &problem.FieldError{Field: field, Reason: fmt.Sprintf(format, a...)})
}

func (v *validator) between(field string, n, lo, hi int) {
	if n < lo || n > hi {
		v.add(field, "must be between %d and %d, got %d", lo, hi, n)
	}
}

func (v *validator) label(rule, label string) {
	if n := utf8.RuneCountInString(label); n > maxLabelRunes {
		v.add(rule+".label", "at most %d characters, got %d", maxLabelRunes, n)
	}
}

func (v *validator) actions(rule string, actions []Action, points int) {
	seen := map[Action]bool{}
	for i, a := range actions {
		field := fmt.Sprintf("%s.actions[%d]", rule, i)
		switch {
		case !validAction(a):
			v.add(field, "unknown action %q (want warn, record, deduct_points or remove)", a)
		case seen[a]:
			v.add(field, "duplicate action %q", a)
		}
		seen[a] = true
	}
	switch {
	case seen[DeductPoints]:
		v.between(rule+".points", points, 1, maxPoints)
	case points != 0:
		v.add(rule+".points", "set without the deduct_points action")
	}
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidRules, v.problems)
}

// validDomain accepts lower- or upper-case ASCII host names with at least two
// labels, optionally written "*.example.com" or ".example.com".
func validDomain(d string) bool {
	d = strings.TrimPrefix(strings.TrimPrefix(d, "*."), ".")
	if len(d) == 0 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !isASCIIAlnum(fold(r)) && r != '-' || r >= utf8.RuneSelf {
				return false
			}
		}
	}
	return true
}
