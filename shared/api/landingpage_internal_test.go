package api

import (
	"html/template"
	"strings"
	"testing"
)

// landingTemplate is the page as the html/template it was: landingHTML with the
// template's actions where the markers are. The hand-written page must be byte
// for byte what it rendered, escaping included.
const landingTemplateMain = `
{{if .Group}}
  <div class="card">
    <h1 id="group-name">{{.Group}}</h1>
    {{if .ImageURL}}<p class="hint">{{.T.Hint}}</p>
    <img id="qr" src="{{.ImageURL}}" alt="{{.T.QRAlt}}" width="280" height="280">
    {{else}}<p class="hint">{{.T.NoImageBody}}</p>{{end}}
    {{if .Expires}}<p class="expires">{{.T.ValidUntil}} {{.Expires}}</p>{{end}}
    {{if .JoinURL}}<a id="join" class="join" href="{{.JoinURL}}" rel="noopener noreferrer">{{.T.Open}}</a>{{end}}
  </div>
{{else}}
  <div class="card message" id="{{.Status}}">
    <h1>{{.Heading}}</h1>
    <p>{{.Body}}</p>
  </div>
{{end}}`

func TestLandingPageMatchesTemplate(t *testing.T) {
	src := strings.NewReplacer("{{lang}}", "{{.T.Lang}}",
		"{{title}}", "{{if .Group}}{{.Group}}{{else if .Heading}}{{.Heading}}{{else}}{{.T.Title}}{{end}}",
		"\n{{main}}\n", landingTemplateMain+"\n").Replace(landingHTML)
	tmpl := template.Must(template.New("landing").Parse(src))
	nasty := `上海 <b>&"'+` + "\x00\xff %zz %4 %41 ('x') é"
	urls := []string{"", "https://example.com/l/x/groups/g/qr?v=3&a=b c", "javascript:alert(1)", "JavaScript:x",
		"mailto:a@b.c", "HTTP://X/%41%zz%4", "/relative/path:x", "weixin://x", "https://e.com/" + nasty, "data:image/png;base64,AAA"}
	var views []landingView
	for _, txt := range landingTexts {
		views = append(views, landingView{T: txt}, landingView{T: txt, Status: "busy", Heading: txt.BusyTitle, Body: txt.BusyBody},
			landingView{T: txt, Status: nasty, Heading: nasty, Body: nasty})
		for _, u := range urls {
			views = append(views, landingView{T: txt, Group: nasty, ImageURL: u, JoinURL: u},
				landingView{T: txt, Group: "群", ImageURL: u, Expires: "2026-01-02 15:04"},
				landingView{T: txt, Group: "群", JoinURL: u, Expires: nasty})
		}
	}
	for _, v := range views {
		var want strings.Builder
		if err := tmpl.Execute(&want, v); err != nil {
			t.Fatal(err)
		}
		if got := v.render(); got != want.String() {
			t.Errorf("%+v:\n got %q\nwant %q", v, got, want.String())
		}
	}
}
