package posting

import (
	"html"
	"strings"
	"unicode/utf8"
)

// PlainText reduces a job description, HTML or plain text, to safe plain
// text: tags are dropped (the contents of script, style and similar elements
// with them), entities decoded, each list item put on its own line starting
// with "- ", table cells separated by " | ", paragraphs separated by a blank
// line, whitespace collapsed, and control, zero-width and bidirectional
// override characters removed. Typographic dashes, quotes, bullets and
// spaces become their ASCII forms, so that search and extraction see one
// spelling of "CCS-P".
//
// It is a small hand-written tokenizer rather than an HTML parser: postings
// use a handful of formatting tags, and the output is text, never HTML, so
// malformed markup can only lose words, not inject anything.
//
// The output never contains a "<" directly followed by a letter, "/", "!" or
// "?": where decoding produced one ("&lt;script&gt;"), a space is put after
// the "<", so that no consumer can mistake the text for markup and running
// PlainText on its own output finds no tags to strip.
func PlainText(s string) string {
	var w textWriter
	w.b.Grow(len(s))
	if looksLikeHTML(s) {
		w.html(s)
	} else {
		w.text(unescape(s), true)
	}
	return defuseTags(w.b.String())
}

// plainLine is PlainText on one line, for titles and names.
func plainLine(s string) string {
	w := textWriter{oneLine: true}
	w.b.Grow(len(s))
	if looksLikeHTML(s) {
		w.html(s)
	} else {
		w.text(unescape(s), false)
	}
	return defuseTags(w.b.String())
}

// defuseTags puts a space after every "<" that would start a tag.
func defuseTags(s string) string {
	if !looksLikeHTML(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] == '<' && i+1 < len(s) && (s[i+1] == '/' || s[i+1] == '!' || s[i+1] == '?' || isASCIILetter(s[i+1])) {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func looksLikeHTML(s string) bool {
	for i := strings.IndexByte(s, '<'); i >= 0 && i+1 < len(s); {
		c := s[i+1]
		if c == '/' || c == '!' || c == '?' || isASCIILetter(c) {
			return true
		}
		j := strings.IndexByte(s[i+1:], '<')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

func unescape(s string) string {
	if strings.IndexByte(s, '&') < 0 {
		return s
	}
	return html.UnescapeString(s)
}

// textWriter writes text with collapsed whitespace: runs of spaces become
// one space, line breaks are capped at one blank line, and nothing leads or
// trails.
type textWriter struct {
	b       strings.Builder
	space   bool // whitespace is pending before the next character
	breaks  int  // line breaks pending before the next character, at most 2
	bullet  bool // a list item opened: "- " goes before the next character
	itemEnd bool // a list item closed, and nothing written since
	oneLine bool // line breaks become spaces
}

func (w *textWriter) lineBreak(n int) {
	if w.oneLine {
		w.space = true
		return
	}
	if w.bullet {
		return // "<li><p>RHIT</p>": the paragraph stays on the item's line
	}
	w.breaks = max(w.breaks, min(n, 2))
}

func (w *textWriter) writeRune(r rune) {
	w.separate()
	w.b.WriteRune(r)
}

// separate writes the whitespace (and list marker) pending before the next
// character.
func (w *textWriter) separate() {
	if w.b.Len() > 0 {
		switch {
		case w.breaks == 1:
			w.b.WriteByte('\n')
		case w.breaks > 1:
			w.b.WriteString("\n\n")
		case w.space:
			w.b.WriteByte(' ')
		}
	}
	if w.bullet {
		w.b.WriteString("- ")
		w.bullet = false
	}
	w.breaks, w.space, w.itemEnd = 0, false, false
}

// text writes s; with newlines set, its line breaks are kept (plain text),
// otherwise they are spaces (HTML source).
func (w *textWriter) text(s string, newlines bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c > ' ' && c < 0x7f {
			// A run of visible ASCII and single spaces, the bulk of any
			// posting, is written as is.
			j := i + 1
			for j < len(s) && (s[j] > ' ' && s[j] < 0x7f || s[j] == ' ' && j+1 < len(s) && s[j+1] > ' ' && s[j+1] < 0x7f) {
				j++
			}
			w.separate()
			w.b.WriteString(s[i:j])
			i = j
			continue
		}
		r, n := rune(c), 1
		if c >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		i += n
		if r == '\r' && i < len(s) && s[i] == '\n' {
			continue
		}
		switch f := foldRune(r); f {
		case -1:
		case '\n':
			if newlines && !w.oneLine {
				if w.b.Len() > 0 {
					w.breaks = min(w.breaks+1, 2)
				}
			} else {
				w.space = true
			}
		case ' ':
			w.space = true
		default:
			w.writeRune(f)
		}
	}
}

// html writes the text of an HTML fragment.
func (w *textWriter) html(s string) {
	row := 0 // cells written in the current table row
	for i := 0; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			w.text(unescape(s[i:]), false)
			return
		}
		w.text(unescape(s[i:i+lt]), false)
		i += lt
		rest := s[i:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			end := strings.Index(rest[4:], "-->")
			if end < 0 {
				return
			}
			i += 4 + end + 3
		case strings.HasPrefix(rest, "<![CDATA["):
			end := strings.Index(rest[9:], "]]>")
			if end < 0 {
				w.text(rest[9:], false)
				return
			}
			w.text(rest[9:9+end], false)
			i += 9 + end + 3
		case len(rest) > 1 && (rest[1] == '!' || rest[1] == '?'):
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				return
			}
			i += end + 1
		case len(rest) > 1 && (rest[1] == '/' || isASCIILetter(rest[1])):
			name, closing, n := parseTag(rest)
			i += n
			if skipsContent(name) && !closing {
				i += skipElement(s[i:], name)
				continue
			}
			w.tag(name, closing, &row)
		default:
			w.writeRune('<')
			i++
		}
	}
}

// tag turns block-level structure into line breaks and list markers.
func (w *textWriter) tag(name string, closing bool, row *int) {
	switch name {
	case "br", "div", "tr", "dt", "dd", "hr", "address", "nav", "aside", "main", "figure", "figcaption", "form", "fieldset", "caption":
		w.lineBreak(1)
		*row = 0
	case "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote", "pre", "section", "article", "header", "footer":
		w.lineBreak(2)
		*row = 0
	case "li":
		w.bullet = false
		if !closing && w.itemEnd && !w.oneLine {
			w.breaks = 1 // consecutive items are consecutive lines
		}
		w.lineBreak(1)
		w.bullet = !closing && !w.oneLine
		w.itemEnd = closing
	case "td", "th":
		if !closing {
			if *row > 0 {
				w.space = true
				w.writeRune('|')
				w.space = true
			}
			*row++
		}
	}
}

// parseTag reads the tag at the start of s ("<name attr='>'>", "</name>") and
// returns its lower-case name, whether it closes, and its length. Quoted
// attribute values may contain ">". An unterminated tag runs to the end.
func parseTag(s string) (name string, closing bool, n int) {
	i := 1
	if i < len(s) && s[i] == '/' {
		closing = true
		i++
	}
	start := i
	for i < len(s) && (isASCIILetter(s[i]) || (i > start && (s[i] >= '0' && s[i] <= '9' || s[i] == '-' || s[i] == ':'))) {
		i++
	}
	name = strings.ToLower(s[start:i])
	var quote byte
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return name, closing, i + 1
		}
	}
	return name, closing, len(s)
}

// skipsContent lists elements whose content is never description text.
func skipsContent(name string) bool {
	switch name {
	case "script", "style", "noscript", "template", "iframe", "object", "svg", "math", "head", "title", "textarea", "select":
		return true
	}
	return false
}

// skipElement returns the length of s up to and including the closing tag
// of name, matched case-insensitively; all of s when there is none.
func skipElement(s, name string) int {
	for i := 0; ; {
		j := strings.Index(s[i:], "</")
		if j < 0 {
			return len(s)
		}
		i += j
		if rest := s[i+2:]; len(rest) >= len(name) && strings.EqualFold(rest[:len(name)], name) &&
			(len(rest) == len(name) || !isASCIILetter(rest[len(name)])) {
			_, _, n := parseTag(s[i:])
			return i + n
		}
		i += 2
	}
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// foldRune maps a rune to the character the rest of the package sees: ASCII
// for typographic punctuation and spaces, ' ' for whitespace and control
// characters, '\n' for line breaks, and -1 for characters to drop (invisible
// ones, and those that can reorder or hide text: bidi overrides, zero-width
// joiners, soft hyphens). Invalid UTF-8 becomes U+FFFD.
func foldRune(r rune) rune {
	switch {
	case r == '\n', r == '\r', r == '\u2028', r == '\u2029', r == '\v', r == '\f', r == '\u0085':
		return '\n'
	case r < 0x20, r == '\u00a0', r == '\u1680', r >= '\u2000' && r <= '\u200a', r == '\u202f', r == '\u205f', r == '\u3000':
		return ' '
	case r >= 0x7f && r < 0xa0, r == '\u00ad', r >= '\u200b' && r <= '\u200f', r >= '\u202a' && r <= '\u202e',
		r >= '\u2060' && r <= '\u206f', r == '\ufeff':
		return -1
	case r >= '\u2010' && r <= '\u2015', r == '\u2212', r == '\ufe58', r == '\ufe63', r == '\uff0d':
		return '-'
	case r >= '\u2018' && r <= '\u201b', r == '\u2032':
		return '\''
	case r >= '\u201c' && r <= '\u201f', r == '\u2033':
		return '"'
	case r == '\u2022', r == '\u2023', r == '\u2043', r == '\u2219', r == '\u25aa', r == '\u25ab', r == '\u25cf',
		r == '\u25e6', r == '\u25a0', r == '\u25ba', r == '\u27a2', r == '\u00b7', r == '\u2027', r == '\u25b8':
		return '-'
	}
	return r
}

// foldText applies foldRune to s without collapsing anything, so that
// Extract sees the same characters whether or not the text came through
// PlainText. Text that needs no change is returned as is.
func foldText(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || (c < 0x20 && c != '\n') || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r == '\r' && i < len(s) && s[i] == '\n' {
			continue
		}
		if f := foldRune(r); f >= 0 {
			b.WriteRune(f)
		}
	}
	return b.String()
}
