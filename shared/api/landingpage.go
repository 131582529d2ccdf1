package api

// The landing page's writer: landingHTML's markers filled with the view, each
// value escaped for where it goes, as html/template escaped it (the output is
// byte for byte the template's; TestLandingPageMatchesTemplate).

import "strings"

// render is the whole page for v.
func (v landingView) render() string {
	var p pageWriter
	rest := landingHTML
	for {
		before, after, ok := strings.Cut(rest, "{{")
		p.WriteString(before)
		if !ok {
			return p.String()
		}
		name, tail, _ := strings.Cut(after, "}}")
		switch name {
		case "lang":
			p.text(v.T.Lang)
		case "title":
			p.text(v.title())
		case "main":
			v.writeMain(&p)
		}
		rest = tail
	}
}

// title is the group's name, else the message's heading, else the page's title.
func (v landingView) title() string {
	switch {
	case v.Group != "":
		return v.Group
	case v.Heading != "":
		return v.Heading
	}
	return v.T.Title
}

// writeMain writes the card: the group with its QR image, expiry and join link,
// or the message.
func (v landingView) writeMain(p *pageWriter) {
	if v.Group == "" {
		p.WriteString("\n  <div class=\"card message\" id=\"")
		p.text(v.Status)
		p.WriteString("\">\n    <h1>")
		p.text(v.Heading)
		p.WriteString("</h1>\n    <p>")
		p.text(v.Body)
		p.WriteString("</p>\n  </div>\n")
		return
	}
	p.WriteString("\n  <div class=\"card\">\n    <h1 id=\"group-name\">")
	p.text(v.Group)
	p.WriteString("</h1>\n    ")
	if v.ImageURL != "" {
		p.WriteString(`<p class="hint">`)
		p.text(v.T.Hint)
		p.WriteString("</p>\n    <img id=\"qr\" src=\"")
		p.url(v.ImageURL)
		p.WriteString(`" alt="`)
		p.text(v.T.QRAlt)
		p.WriteString("\" width=\"280\" height=\"280\">\n    ")
	} else {
		p.WriteString(`<p class="hint">`)
		p.text(v.T.NoImageBody)
		p.WriteString("</p>")
	}
	p.WriteString("\n    ")
	if v.Expires != "" {
		p.WriteString(`<p class="expires">`)
		p.text(v.T.ValidUntil)
		p.WriteString(" ")
		p.text(v.Expires)
		p.WriteString("</p>")
	}
	p.WriteString("\n    ")
	if v.JoinURL != "" {
		p.WriteString(`<a id="join" class="join" href="`)
		p.url(v.JoinURL)
		p.WriteString(`" rel="noopener noreferrer">`)
		p.text(v.T.Open)
		p.WriteString("</a>")
	}
	p.WriteString("\n  </div>\n")
}

// pageWriter writes HTML with values escaped for their context.
type pageWriter struct{ strings.Builder }

// htmlEscapes are the replacements of text, RCDATA (title) and quoted attribute
// values: html/template's, which also escape + and the quotes.
var htmlEscapes = [...]string{0: "\uFFFD", '"': "&#34;", '&': "&amp;", '\'': "&#39;", '+': "&#43;", '<': "&lt;", '>': "&gt;"}

// text writes s escaped for HTML text or a quoted attribute value.
func (p *pageWriter) text(s string) {
	written := 0
	for i := 0; i < len(s); i++ {
		if int(s[i]) < len(htmlEscapes) && htmlEscapes[s[i]] != "" {
			p.WriteString(s[written:i])
			p.WriteString(htmlEscapes[s[i]])
			written = i + 1
		}
	}
	p.WriteString(s[written:])
}

// url writes s as a URL attribute's whole value: a scheme other than http, https
// or mailto is refused (#ZgotmplZ, as html/template writes it), bytes a URL may
// not hold are percent-encoded (valid %XX escapes kept), and the result is
// escaped for the attribute.
func (p *pageWriter) url(s string) {
	if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") &&
		!strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "mailto") {
		p.WriteString("#ZgotmplZ")
		return
	}
	var b strings.Builder
	written := 0
	for i := 0; i < len(s); i++ {
		if urlByteKept(s, i) {
			continue
		}
		b.WriteString(s[written:i])
		b.WriteString("%" + hexByte(s[i]))
		written = i + 1
	}
	b.WriteString(s[written:])
	p.text(b.String())
}

// urlByteKept reports whether s[i] stays as it is in a normalised URL: RFC 3986's
// unreserved and reserved characters (not ' ( ), which could end an attribute or
// CSS url()), and % starting a valid escape.
func urlByteKept(s string, i int) bool {
	c := s[i]
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '%':
		return i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2])
	}
	return strings.IndexByte("!#$&*+,/:;=?@[]-._~", c) >= 0
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// hexByte is c in two lower-case hex digits.
func hexByte(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}
