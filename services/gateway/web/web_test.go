package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Result()
}

func TestConsoleIsServedWithAStrictPolicy(t *testing.T) {
	h := Handler()
	res := get(t, h, Prefix)
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %d %s", Prefix, res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !strings.Contains(string(body), `<script type="module" src="app.js">`) {
		t.Fatalf("index.html does not load app.js:\n%s", body)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("Content-Security-Policy allows something unsafe: %q", csp)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if res := get(t, h, Prefix+"no-such-file.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("a missing file: %d, want 404", res.StatusCode)
	}
	rec := httptest.NewRecorder()
	RedirectToConsole().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != Prefix {
		t.Errorf("GET /: %d to %q, want 302 to %s", rec.Code, rec.Header().Get("Location"), Prefix)
	}
}

var (
	importRE = regexp.MustCompile(`from "\./([^"]+)"`)
	scriptRE = regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`)
	// What the policy would block or what would parse API text as markup.
	forbiddenJS = []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", `setAttribute("style"`}
)

// Every file is served with its type, every module it imports exists, and
// nothing relies on inline script or style (the policy forbids them) or
// turns the API's text into markup.
func TestConsoleFilesAreWhole(t *testing.T) {
	h := Handler()
	types := map[string]string{".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
	err := fs.WalkDir(files, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := strings.TrimPrefix(path, "static/")
		url := Prefix + name
		if name == "index.html" {
			url = Prefix // the file server redirects index.html to the directory
		}
		res := get(t, h, url)
		body, _ := io.ReadAll(res.Body)
		ext := name[strings.LastIndex(name, "."):]
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), types[ext]) {
			t.Errorf("%s: %d %q", name, res.StatusCode, res.Header.Get("Content-Type"))
		}
		text := string(body)
		switch ext {
		case ".js":
			for _, m := range importRE.FindAllStringSubmatch(text, -1) {
				if _, err := fs.Stat(files, "static/"+m[1]); err != nil {
					t.Errorf("%s imports %s, which is not there", name, m[1])
				}
			}
			for _, bad := range forbiddenJS {
				if strings.Contains(text, bad) {
					t.Errorf("%s uses %s", name, bad)
				}
			}
		case ".html":
			for _, m := range scriptRE.FindAllStringSubmatch(text, -1) {
				if !strings.Contains(m[1], " src=") || strings.TrimSpace(m[2]) != "" {
					t.Errorf("%s has an inline script: %s", name, m[0])
				}
			}
			if regexp.MustCompile(`\s(style|on[a-z]+)=`).MatchString(text) || strings.Contains(text, "<style") {
				t.Errorf("%s has inline style or event handlers", name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
