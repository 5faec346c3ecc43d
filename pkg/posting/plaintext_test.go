package posting

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPlainText(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain text keeps lines", "Requirements:\r\n- RHIT\n\n\n\nBenefits", "Requirements:\n- RHIT\n\nBenefits"},
		{"plain text collapses spaces", "  RHIT   or\tRHIA  ", "RHIT or RHIA"},
		{"paragraphs", "<p>One.</p><p>Two.</p>", "One.\n\nTwo."},
		{"list items are lines", "<p>Needs:</p><ul><li>RHIT</li><li>CCS <b>or</b> CIC</li></ul>", "Needs:\n\n- RHIT\n- CCS or CIC"},
		{"br", "a<br>b<BR/>c", "a\nb\nc"},
		{"paragraphs inside list items", "<ul><li><p>RHIT</p></li><li><p><b>CCS</b></p></li></ul><p>End</p>", "- RHIT\n- CCS\n\nEnd"},
		{"empty list item", "<ul><li></li><li>CCS</li></ul>", "- CCS"},
		{"source newlines are spaces", "<p>RHIT\n   required</p>", "RHIT required"},
		{"entities", "<p>AT&amp;T &lt;3 caf&eacute; &#8226; x&nbsp;y &#x2013; z</p>", "AT&T <3 café - x y - z"},
		{"script and style dropped", "<style>p{color:red}</style><p>Keep</p><script>alert('<p>no</p>')</script><SCRIPT>x</SCRIPT>", "Keep"},
		{"comments dropped", "a<!-- RHIT required -->b", "ab"},
		{"unterminated comment drops the rest", "a<!-- b", "a"},
		{"attributes with >", `<a href="x>y" title='>'>link</a> text`, "link text"},
		{"unterminated tag", "keep <p class=", "keep"},
		{"less-than that is not a tag", "salary < $20 and 3<4", "salary < $20 and 3<4"},
		{"table cells", "<table><tr><th>Area</th><th>Need</th></tr><tr><td>Cert</td><td>CPC</td></tr></table>", "Area | Need\nCert | CPC"},
		{"cdata", "<p><![CDATA[RHIT & CCS]]></p>", "RHIT & CCS"},
		{"doctype and head", "<!DOCTYPE html><html><head><title>T</title></head><body>B</body></html>", "B"},
		{"typographic punctuation", "CCS\u2013P \u201cpreferred\u201d \u2022 RHIT\u2019s", "CCS-P \"preferred\" - RHIT's"},
		{"invisible and bidi characters", "RH\u200bIT \u202eevil\u202c\u00ad", "RHIT evil"},
		{"control characters", "a\x00b\x07c", "a b c"},
		{"invalid UTF-8", "a\xffb", "a\ufffdb"},
		{"empty after tags", "<p> </p><br>", ""},
		{"decoded markup is defused", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", "< script>alert(1)< /script>"},
		{"markup built from pieces is defused", "0<<A>A", "0< A"},
		{"plain text entities", "Coder &amp; Abstractor &lt;b&gt;", "Coder & Abstractor < b>"},
	}
	for _, c := range cases {
		if got := PlainText(c.in); got != c.want {
			t.Errorf("%s: PlainText(%q)\n got %q\nwant %q", c.name, c.in, got, c.want)
		}
	}
}

func TestPlainLine(t *testing.T) {
	for in, want := range map[string]string{
		"  Coder <b>III</b>\n- Inpatient ": "Coder III - Inpatient",
		"Coder &amp; Abstractor":           "Coder & Abstractor",
		"<ul><li>a</li><li>b</li></ul>":    "a b",
	} {
		if got := plainLine(in); got != want {
			t.Errorf("plainLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPlainTextIsSafe checks the properties the rest of the system relies
// on, over the labelled postings: valid UTF-8, no markup left, no control
// characters but newlines, no blank line runs, and idempotence.
func TestPlainTextIsSafe(t *testing.T) {
	for _, lp := range loadLabelled(t) {
		var raw struct {
			Description string `json:"description"`
		}
		if err := json.Unmarshal(lp.Posting, &raw); err != nil {
			t.Fatal(err)
		}
		out := PlainText(raw.Description)
		checkPlainText(t, lp.name, out)
		if again := PlainText(out); again != out {
			t.Errorf("%s: PlainText is not idempotent", lp.name)
		}
	}
}

func checkPlainText(t *testing.T, name, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("%s: invalid UTF-8", name)
	}
	if looksLikeHTML(out) {
		t.Errorf("%s: %q looks like HTML", name, out)
	}
	if strings.Contains(out, "\n\n\n") || strings.HasPrefix(out, "\n") || strings.HasSuffix(out, "\n") || strings.HasSuffix(out, " ") {
		t.Errorf("%s: untidy whitespace in %q", name, out)
	}
	for _, r := range out {
		if r < ' ' && r != '\n' || r >= 0x7f && r < 0xa0 || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			t.Errorf("%s: control character %U", name, r)
		}
	}
}
