package moderation

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tribehq/tribe/shared/problem"
)

func TestDefaultIsValid(t *testing.T) {
	t.Parallel()
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if err := (Rules{}).Validate(); err != nil {
		t.Fatalf("Rules{}.Validate() = %v", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(r *Rules)
		wants []string // each must appear in the error
	}{
		{name: "unknown action", edit: func(r *Rules) { r.Links.Actions = []Action{Warn, "ban"} },
			wants: []string{`links.actions[1]: unknown action "ban"`}},
		{name: "duplicate action", edit: func(r *Rules) { r.QRCodes.Actions = []Action{Warn, Warn} },
			wants: []string{`qr_codes.actions[1]: duplicate action "warn"`}},
		{name: "deduct without points", edit: func(r *Rules) { r.Keywords.Points = 0 },
			wants: []string{"keywords.points: must be between 1 and 10000, got 0"}},
		{name: "points without deduct", edit: func(r *Rules) { r.Flood.Points = 5 },
			wants: []string{"flood.points: set without the deduct_points action"}},
		{name: "too many points", edit: func(r *Rules) { r.Keywords.Points = 10001 },
			wants: []string{"keywords.points: must be between 1 and 10000, got 10001"}},
		{name: "flood max messages zero", edit: func(r *Rules) { r.Flood.MaxMessages = 0 },
			wants: []string{"flood.max_messages: must be between 1 and 50, got 0"}},
		{name: "flood max messages above the ring", edit: func(r *Rules) { r.Flood.MaxMessages = 51 },
			wants: []string{"flood.max_messages: must be between 1 and 50, got 51"}},
		{name: "flood window", edit: func(r *Rules) { r.Flood.WindowSeconds = 3601 },
			wants: []string{"flood.window_seconds: must be between 1 and 3600, got 3601"}},
		{name: "repeat limits", edit: func(r *Rules) { r.Repeat.MaxRepeats, r.Repeat.WindowSeconds = 11, -1 },
			wants: []string{"repeat.max_repeats: must be between 1 and 10, got 11", "repeat.window_seconds: must be between 1 and 3600, got -1"}},
		{name: "keywords enabled without words", edit: func(r *Rules) { r.Keywords.Words = nil },
			wants: []string{"keywords.words: at least one word when enabled"}},
		{name: "word without letters", edit: func(r *Rules) { r.Keywords.Words = []string{"代购", " !! "} },
			wants: []string{`keywords.words[1]: " !! " has no letters or digits`}},
		{name: "word too long", edit: func(r *Rules) { r.Keywords.Words = []string{strings.Repeat("广", 33)} },
			wants: []string{"keywords.words[0]: at most 32 characters"}},
		{name: "too many words", edit: func(r *Rules) { r.Keywords.Words = make([]string, 201); fillWords(r.Keywords.Words) },
			wants: []string{"keywords.words: at most 200 words, got 201"}},
		{name: "domain with scheme", edit: func(r *Rules) { r.Links.AllowDomains = []string{"example.com", "https://x.com"} },
			wants: []string{`links.allow_domains[1]: "https://x.com" is not a host name`}},
		{name: "domain without dot", edit: func(r *Rules) { r.Links.AllowDomains = []string{"localhost"} },
			wants: []string{`links.allow_domains[0]: "localhost" is not a host name`}},
		{name: "non-ascii domain", edit: func(r *Rules) { r.Links.AllowDomains = []string{"例子.com"} },
			wants: []string{`links.allow_domains[0]`}},
		{name: "removal threshold", edit: func(r *Rules) { r.Removal.AfterViolations = 0 },
			wants: []string{"removal.after_violations: must be between 1 and 20, got 0"}},
		{name: "removal window", edit: func(r *Rules) { r.Removal.WindowDays = 91 },
			wants: []string{"removal.window_days: must be between 1 and 90, got 91"}},
		{name: "template too long", edit: func(r *Rules) { r.Warning.Template = strings.Repeat("请", 501) },
			wants: []string{"warning.template: at most 500 characters, got 501"}},
		{name: "negative cooldown", edit: func(r *Rules) { r.Warning.CooldownSeconds = -1 },
			wants: []string{"warning.cooldown_seconds: must be between 0 and 86400, got -1"}},
		{name: "label too long", edit: func(r *Rules) { r.Repeat.Label = strings.Repeat("x", 65) },
			wants: []string{"repeat.label: at most 64 characters, got 65"}},
		{name: "every problem reported", edit: func(r *Rules) { r.Flood.MaxMessages, r.Removal.WindowDays = 0, 0 },
			wants: []string{"flood.max_messages", "; removal.window_days"}},
		{name: "disabled rules are not range checked", edit: func(r *Rules) {
			r.Flood.Enabled, r.Flood.MaxMessages = false, 0
			r.Removal.Enabled, r.Removal.AfterViolations = false, 0
			r.Keywords.Enabled, r.Keywords.Words = false, nil
		}},
		{name: "disabled rules still name their actions", edit: func(r *Rules) { r.Flood.Enabled, r.Flood.Actions = false, []Action{"kick"} },
			wants: []string{`flood.actions[0]: unknown action "kick"`}},
		{name: "allowed domain forms", edit: func(r *Rules) { r.Links.AllowDomains = []string{"*.Example.com", ".tribe.io", "a-b.co.uk"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Default()
			tt.edit(&r)
			err := r.Validate()
			if len(tt.wants) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidRules) {
				t.Fatalf("Validate() = %v, want ErrInvalidRules", err)
			}
			for _, want := range tt.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate() = %q, want it to contain %q", err, want)
				}
			}
			// The API names the first field from the typed errors, not the text.
			var fes problem.FieldErrors
			if !errors.As(err, &fes) || len(fes) == 0 || !strings.HasPrefix(tt.wants[0], fes[0].Field) {
				t.Errorf("Validate() field errors = %v, want the first to name the field of %q", fes, tt.wants[0])
			}
		})
	}
}

func fillWords(ws []string) {
	for i := range ws {
		ws[i] = "w" + strings.Repeat("x", i%30)
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	tenant := Default()
	group := Rules{
		Links:    &LinkRule{Enabled: false},
		Keywords: &KeywordRule{Enabled: true, Words: []string{"团购"}, Actions: []Action{Warn}},
		Removal:  &Removal{Enabled: true, AfterViolations: 5, WindowDays: 30},
	}
	tests := []struct {
		name   string
		tenant *Rules
		group  *Rules
		want   Rules
	}{
		{name: "neither", want: Rules{}},
		{name: "tenant only", tenant: &tenant, want: Default()},
		{name: "group only", group: &group, want: group},
		{name: "group overrides per rule", tenant: &tenant, group: &group, want: Rules{
			Links:    group.Links,
			QRCodes:  tenant.QRCodes,
			Keywords: group.Keywords,
			Flood:    tenant.Flood,
			Repeat:   tenant.Repeat,
			Removal:  group.Removal,
			Warning:  tenant.Warning,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Merge(tt.tenant, tt.group); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Merge() = %s, want %s", mustJSON(t, got), mustJSON(t, tt.want))
			}
		})
	}

	t.Run("result shares nothing", func(t *testing.T) {
		t.Parallel()
		tn, gr := Default(), Rules{Keywords: &KeywordRule{Enabled: true, Words: []string{"团购"}}}
		got := Merge(&tn, &gr)
		gr.Keywords.Words[0] = "changed"
		gr.Keywords.Enabled = false
		tn.Links.Actions[0] = Remove
		if got.Keywords.Words[0] != "团购" || !got.Keywords.Enabled || got.Links.Actions[0] != Warn {
			t.Errorf("Merge result changed with its arguments: %s", mustJSON(t, got))
		}
	})
}

func TestRulesJSON(t *testing.T) {
	t.Parallel()
	b := mustJSON(t, Default())
	for _, key := range []string{`"links"`, `"qr_codes"`, `"max_messages"`, `"window_seconds"`, `"max_repeats"`,
		`"after_violations"`, `"window_days"`, `"deduct_points"`, `"cooldown_seconds"`, `"removal_template"`} {
		if !strings.Contains(b, key) {
			t.Errorf("JSON %s lacks %s", b, key)
		}
	}
	var back Rules
	if err := json.Unmarshal([]byte(b), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, Default()) {
		t.Errorf("round trip = %s, want %s", mustJSON(t, back), b)
	}
	// dynamo tags carry the same names as json tags.
	for _, typ := range []reflect.Type{
		reflect.TypeFor[Rules](), reflect.TypeFor[LinkRule](), reflect.TypeFor[QRCodeRule](), reflect.TypeFor[KeywordRule](),
		reflect.TypeFor[FloodRule](), reflect.TypeFor[RepeatRule](), reflect.TypeFor[Removal](), reflect.TypeFor[Warning](),
		reflect.TypeFor[Activity](), reflect.TypeFor[TextSeen](), reflect.TypeFor[Violation](),
	} {
		for f := range typ.Fields() {
			if j, d := f.Tag.Get("json"), f.Tag.Get("dynamo"); j == "" || j != d {
				t.Errorf("%s.%s: json tag %q, dynamo tag %q", typ.Name(), f.Name, j, d)
			}
		}
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
