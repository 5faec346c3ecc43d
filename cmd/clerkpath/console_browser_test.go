//go:build browser

// The web console (services/gateway/web) in a real browser against the real
// stack: Debian's chromium, headless, driven with chromedp. Run with
// `make test-browser` (deployments/local/install.sh installs chromium and
// axe-core). CLERKPATH_SCREENSHOTS=dir writes a PNG of each page there
// (the README's are made with CLERKPATH_SCREENSHOTS=../../docs/screenshots).

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser is one headless chromium for a test, with a fresh profile.
type browser struct {
	ctx  context.Context // the browser's first tab
	base string
	axe  string
}

// chromiumFlags keep the browser off the network except for the page it
// is sent to: the machine's closed network refuses background connections.
var chromiumFlags = []string{"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync"}

func startBrowser(t *testing.T, base string) *browser {
	t.Helper()
	exe := os.Getenv("CHROMIUM_BIN")
	if exe == "" {
		exe = "/usr/bin/chromium"
	}
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("chromium not found at %s (deployments/local/install.sh installs it; CHROMIUM_BIN overrides): %v", exe, err)
	}
	axe, err := os.ReadFile(filepath.Join("..", "..", ".tools", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core (deployments/local/install.sh installs it): %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(exe), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900)}
	for _, f := range chromiumFlags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{ctx: ctx, base: base, axe: string(axe)}
}

// tab opens a new tab (its own sessionStorage, so its own sign-in) and
// fails the test on any error the page logs (a script error, a refused
// request, a Content-Security-Policy violation), except the expected
// answers in allowed.
func (b *browser) tab(t *testing.T, allowed ...string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("new tab: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
				continue
			}
			ok := false
			for _, a := range allowed {
				ok = ok || strings.Contains(m.Text+" "+m.URL, a)
			}
			if !ok {
				t.Errorf("page logged %s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line)
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return ctx
}

func (b *browser) signIn(t *testing.T, ctx context.Context, token, landing string) {
	t.Helper()
	do(t, ctx, "sign in",
		chromedp.Navigate(b.base+"/"),
		chromedp.WaitVisible("#token"),
		chromedp.SetValue("#token", token),
		chromedp.Click(`form button[type="submit"]`),
		chromedp.WaitVisible(landing))
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// text reads an element's text in one script, so a live redraw between
// finding the node and reading it cannot fail the read.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[*string](fmt.Sprintf(`document.querySelector(%q)?.innerText ?? null`, sel)))
	if err != nil || s == nil {
		t.Fatalf("text of %s: %v (no such element?)", sel, err)
	}
	return *s
}

// waitText waits until the element's text contains want.
func waitText(t *testing.T, ctx context.Context, sel, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q)?.innerText ?? ""`, sel)))
		if err == nil && strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not show %q within %s; it shows %q (%v)", sel, want, within, got, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// clickNow finds and clicks an element in one script.
func clickNow(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).click()`, sel))
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// accessible runs axe-core's WCAG 2.1 A and AA rules on the page as it is
// now and fails on any serious or critical violation.
func (b *browser) accessible(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](b.axe)); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](
		`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}).then(r => r.violations)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", page, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatalf("axe result: %v", err)
	}
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			for _, n := range v.Nodes {
				t.Errorf("%s: %s (%s) at %v: %s", page, v.ID, v.Impact, n.Target, n.HTML)
			}
		} else {
			t.Logf("%s: %s (%s): %s, %d nodes", page, v.ID, v.Impact, v.Help, len(v.Nodes))
		}
	}
}

// screenshot writes the page to $CLERKPATH_SCREENSHOTS/name.png when set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("CLERKPATH_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A counselor signs in, sees the caseload, sorts and filters it, opens a
// client and adds a note; a new match arrives on the caseload page while
// it is open, after an employer posts a job.
func TestConsoleCounselor(t *testing.T) {
	s := startStack(t)
	w := seedConsole(t, s)
	b := startBrowser(t, s.base)

	sign := b.tab(t)
	do(t, sign, "open the console", chromedp.Navigate(b.base+"/"), chromedp.WaitVisible("#token"))
	// Keyboard: the first Tab lands on the skip link, shown on screen.
	do(t, sign, "tab", chromedp.KeyEvent("\t"))
	if skip, err := chromedp.Run(sign, chromedp.Evaluate[string](`(e => e.className + " " + (e.getBoundingClientRect().left >= 0))(document.activeElement)`)); err != nil || skip != "skip true" {
		t.Errorf("after one Tab the focus is on %q (%v), want the visible skip link", skip, err)
	}
	b.accessible(t, sign, "sign-in")
	screenshot(t, sign, "sign-in")
	do(t, sign, "paste something that is not a token", chromedp.SetValue("#token", "not a token"), chromedp.Click(`form button[type="submit"]`))
	waitText(t, sign, "#token-error", "not a console token", 5*time.Second)

	// Until the gateway has the counselor's event stream, the page asks
	// for it, gets a 404 and polls instead.
	ctx := b.tab(t, "/events")
	b.signIn(t, ctx, w.counselorTok, "#caseload tbody tr")
	waitText(t, ctx, "#caseload tbody", "ana", 10*time.Second)
	table := text(t, ctx, "#caseload tbody")
	for _, want := range []string{"ana", "ben", "RHIT: planned", "Medical Records Clerk", "Health Information Technician", "Eligible after RHIT", "holds CCA"} {
		if !strings.Contains(table, want) {
			t.Errorf("caseload lacks %q:\n%s", want, table)
		}
	}
	waitText(t, ctx, "#best-unlock", "CCA would open 1 posting for ana", 5*time.Second)
	b.accessible(t, ctx, "caseload")
	screenshot(t, ctx, "counselor-caseload")

	// Sorting by near misses, most first, puts ana (2) above ben (1);
	// the header says how the table is sorted.
	// The caseload redraws itself on each live update, so its controls are
	// clicked in one script (a mouse click could aim at a node just replaced).
	do(t, ctx, "sort by near misses", clickNow(`button.sort[data-key="near"]`), clickNow(`button.sort[data-key="near"]`))
	if first := text(t, ctx, "#caseload tbody tr:first-child th"); first != "ana" {
		t.Errorf("sorted by near misses, descending: first row %q, want ana", first)
	}
	if sort, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('button.sort[data-key="near"]').closest("th").getAttribute("aria-sort")`)); err != nil || sort != "descending" {
		t.Errorf("aria-sort %q %v, want descending", sort, err)
	}
	do(t, ctx, "filter", chromedp.SendKeys("#filter", "ben"))
	waitText(t, ctx, "#caseload tbody", "ben", 5*time.Second)
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#caseload tbody tr").length`)); n != 1 {
		t.Errorf("filtered by ben: %d rows, want 1", n)
	}
	do(t, ctx, "clear the filter", chromedp.Evaluate[chromedp.Void](`(f => { f.value = ""; f.dispatchEvent(new Event("input")); })(document.querySelector("#filter"))`))
	waitText(t, ctx, "#caseload tbody", "ana", 5*time.Second)

	// Live: an employer posts a job ana qualifies for.
	code, _, body := s.do(t, "POST", "/v1/postings", "application/json", `{"title": "Scanning Clerk", "employer": "Mercy Health",
	  "postal_code": "10001", "date_posted": "`+time.Now().UTC().Format(time.DateOnly)+`",
	  "description": "High school diploma required. Scanning and indexing of paper charts."}`, bearer(w.employerTok)...)
	if code != http.StatusCreated {
		t.Fatalf("post a job: %d %s", code, body)
	}
	waitText(t, ctx, "#changes", "New match for ana: Scanning Clerk", 45*time.Second)
	t.Logf("the new match came with %q", text(t, ctx, "#live-state")) // the event stream, or polling

	// The client's page: plan timeline, matches explained, notes.
	do(t, ctx, "open ana", clickNow(`#caseload a[href="#/clients/ana"]`), chromedp.WaitVisible("#plan-steps"))
	page := text(t, ctx, "main")
	for _, want := range []string{"Client ana", "Associate degree in HIT/HIM", "20–36 months", "Pass the RHIT exam", "Medical Records Clerk", "How they match", "What closes it", "Wants day shifts"} {
		if !strings.Contains(page, want) {
			t.Errorf("client page lacks %q", want)
		}
	}
	do(t, ctx, "open how they match", chromedp.Click("#matches details summary"))
	waitText(t, ctx, "#matches", "within your 15-mile radius", 5*time.Second)
	do(t, ctx, "add a note", chromedp.SendKeys("#note-text", "Called about the CCA exam."), chromedp.Click(`#note-text ~ button[type="submit"]`))
	waitText(t, ctx, "#notes", "Called about the CCA exam.", 10*time.Second)
	b.accessible(t, ctx, "client")
	screenshot(t, ctx, "counselor-client")

	// On a phone (its own tab: touch emulation stays with a tab) the
	// caseload table becomes one labelled block per client.
	phone := b.tab(t, "/events")
	do(t, phone, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.signIn(t, phone, w.counselorTok, "#caseload tbody tr")
	if display, _ := chromedp.Run(phone, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#caseload tbody td")).display`)); display != "block" {
		t.Errorf("on a phone the caseload cells are %q, want block", display)
	}
	b.accessible(t, phone, "caseload on a phone")
	screenshot(t, phone, "counselor-caseload-phone")
}

// A seeker saves a profile with mistakes, sees each error beside its
// field, fixes them, and reads matches, plan and privacy pages.
func TestConsoleSeeker(t *testing.T) {
	s := startStack(t)
	w := seedConsole(t, s)
	b := startBrowser(t, s.base)
	// The rejected save is a 400 the browser logs as a failed request.
	ctx := b.tab(t, "400 (Bad Request)")
	b.signIn(t, ctx, w.anaTok, "#profile-form")
	do(t, ctx, "make mistakes",
		chromedp.WaitVisible("#exp-0-months"),
		chromedp.SetValue("#exp-0-months", "-1"),
		chromedp.SetValue("#postal_code", "1000"),
		chromedp.Click(`#profile-form > button[type="submit"]`),
		chromedp.WaitVisible(".error-summary"))
	waitText(t, ctx, "#exp-0-months-error", "must be between 0 and 720", 5*time.Second)
	waitText(t, ctx, "#postal_code-error", "ZIP", 5*time.Second)
	attrs, err := chromedp.Run(ctx, chromedp.Attributes("#exp-0-months"))
	if err != nil || attrs["aria-invalid"] != "true" || !strings.Contains(attrs["aria-describedby"], "exp-0-months-error") {
		t.Errorf("the months field is not marked invalid and described by its error: %v %v", attrs, err)
	}
	if active, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.className`)); active != "error-summary" {
		t.Errorf("focus is on %q, want the error summary", active)
	}
	b.accessible(t, ctx, "profile with errors")
	screenshot(t, ctx, "seeker-profile-errors")

	do(t, ctx, "fix them",
		chromedp.SetValue("#exp-0-months", "14"),
		chromedp.SetValue("#postal_code", "10001"),
		chromedp.Click(`#profile-form > button[type="submit"]`))
	waitText(t, ctx, "#saved", "Saved", 10*time.Second)
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("[aria-invalid]").length`)); n != 0 {
		t.Errorf("%d fields still marked invalid after a good save", n)
	}
	// The save kept what the form does not show.
	code, _, body := s.do(t, "GET", "/v1/seekers/ana", "", "", bearer(w.anaTok)...)
	if p := decode[struct {
		Skills []string `json:"skills"`
		Target string   `json:"target"`
	}](t, body); code != 200 || len(p.Skills) != 1 || p.Target != "RHIT" {
		t.Errorf("profile after the save: %d %s", code, body)
	}

	do(t, ctx, "matches", chromedp.Navigate(b.base+"/app/#/matches"), chromedp.WaitVisible("#matches"))
	waitText(t, ctx, "#near-misses", "Eligible after RHIT", 5*time.Second)
	b.accessible(t, ctx, "matches")
	screenshot(t, ctx, "seeker-matches")
	do(t, ctx, "plan", chromedp.Navigate(b.base+"/app/#/plan"), chromedp.WaitVisible("#plan-steps"))
	b.accessible(t, ctx, "plan")
	screenshot(t, ctx, "seeker-plan")
	do(t, ctx, "privacy", chromedp.Navigate(b.base+"/app/#/privacy"), chromedp.WaitVisible("#export"))
	waitText(t, ctx, "main", "carl", 5*time.Second)
	b.accessible(t, ctx, "privacy")
	screenshot(t, ctx, "seeker-privacy")
}

// An employer uploads a CSV with one bad row: the good rows are stored,
// the bad one is shown with its error beside it; the organisation's list
// shows them open; one closed as on hold and reopened, one closed as filled
// (no reopen); then the candidates of a posting, without contact details.
func TestConsoleEmployer(t *testing.T) {
	s := startStack(t)
	w := seedConsole(t, s)
	b := startBrowser(t, s.base)
	// A 404: the contact details of a candidate who did not share them;
	// a 400: a close without a reason.
	ctx := b.tab(t, "404 (Not Found)", "400 (Bad Request)")
	b.signIn(t, ctx, w.employerTok, "#upload-form")

	today := time.Now().UTC().Format(time.DateOnly)
	csv := filepath.Join(t.TempDir(), "jobs.csv")
	content := "Job Title,Details,Company,Posted,Zip\n" +
		"Records Clerk,High school diploma required. Scanning and indexing.,Mercy Health," + today + ",10002\n" +
		",Coder wanted but no title,Mercy Health," + today + ",10002\n" +
		"ROI Specialist,Release of information. High school diploma required.,Mercy Health," + today + ",10001\n"
	if err := os.WriteFile(csv, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "upload",
		chromedp.SetUploadFiles("#file", []string{csv}),
		chromedp.SetValue("#columns", "Job Title:title,Details:description,Company:employer,Posted:date_posted,Zip:postal_code"),
		chromedp.Click(`#upload-form button[type="submit"]`),
		chromedp.WaitVisible("#results"))
	waitText(t, ctx, "#upload-results", "2 accepted, 1 refused", 10*time.Second)
	bad := text(t, ctx, "#record-1")
	for _, want := range []string{"3", "Coder wanted but no title", "title", "required"} {
		if !strings.Contains(bad, want) {
			t.Errorf("the refused row lacks %q: %s", want, bad)
		}
	}
	if cls, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#record-1").className`)); cls != "rejected" {
		t.Errorf("row 2 class %q, want rejected", cls)
	}
	for _, id := range []string{"#record-0", "#record-2"} {
		if row := text(t, ctx, id); !strings.Contains(row, "posted") {
			t.Errorf("%s: %s, want posted", id, row)
		}
	}
	// The organisation's list (GET /v1/employers/{org}/postings) shows the
	// uploaded postings, open.
	waitText(t, ctx, "#postings", "ROI Specialist", 10*time.Second)
	waitText(t, ctx, "#postings", "Records Clerk", 10*time.Second)
	b.accessible(t, ctx, "upload")
	screenshot(t, ctx, "employer-upload")
	idOf := func(row string) string {
		t.Helper()
		id, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector("%s a").textContent`, row)))
		if err != nil || id == "" {
			t.Fatalf("the id of %s: %q %v", row, id, err)
		}
		return id
	}
	clerkID, roiID := idOf("#record-0"), idOf("#record-2")
	status := func(id string) string { return fmt.Sprintf(`#postings [data-status-of=%q]`, id) }
	for _, id := range []string{clerkID, roiID} {
		waitText(t, ctx, status(id), "open", 5*time.Second)
		if got := text(t, ctx, status(id)); got != "open" {
			t.Errorf("posting %s uploaded: status %q, want open", id, got)
		}
	}

	// An open posting shows how many opted-in candidates it has
	// (candidate_count), not only a link to them.
	cands, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector('#postings a[href="#/postings/%s/candidates"]').textContent`, roiID)))
	if err != nil || !regexp.MustCompile(`^\d+ candidates? for ROI Specialist$`).MatchString(cands) {
		t.Errorf("the candidates cell of an open posting: %q %v, want its count", cands, err)
	}

	// No reason is chosen beforehand: closing without one gets the API's
	// field error and leaves the posting open.
	do(t, ctx, "close without a reason", clickNow(fmt.Sprintf(`#postings button[data-close=%q]`, roiID)))
	waitText(t, ctx, "#postings-message", "reason:", 10*time.Second)
	t.Logf("closed without a reason: %q", text(t, ctx, "#postings-message"))
	if got := text(t, ctx, status(roiID)); got != "open" {
		t.Errorf("closed without a reason: status %q, want open", got)
	}

	// Closed as on hold, it shows closed with its reason; reopened, open.
	closeAs := func(id, reason string) {
		t.Helper()
		do(t, ctx, "close "+id+" as "+reason,
			chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector('#postings select[data-reason-of=%q]').value = %q`, id, reason)),
			clickNow(fmt.Sprintf(`#postings button[data-close=%q]`, id)))
	}
	closeAs(roiID, "on_hold")
	waitText(t, ctx, status(roiID), "closed: on hold", 10*time.Second)
	waitText(t, ctx, "#postings-message", "ROI Specialist closed.", 5*time.Second)
	do(t, ctx, "reopen", clickNow(fmt.Sprintf(`#postings button[data-reopen=%q]`, roiID)))
	waitText(t, ctx, "#postings-message", "ROI Specialist reopened.", 10*time.Second)
	if got := text(t, ctx, status(roiID)); got != "open" {
		t.Errorf("reopened: status %q, want open", got)
	}

	// Closed as filled, it offers no reopen: a new opening is a new posting
	// (and the API refuses to reopen it, 409).
	closeAs(clerkID, "filled")
	waitText(t, ctx, status(clerkID), "closed: filled", 10*time.Second)
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll('#postings button[data-reopen=%q]').length`, clerkID))); n != 0 {
		t.Errorf("a filled posting has %d reopen buttons, want none", n)
	}
	waitText(t, ctx, fmt.Sprintf(`#postings [data-no-reopen=%q]`, clerkID), "post a new opening", 5*time.Second)
	if code, _, body := s.do(t, "POST", "/v1/postings/"+clerkID+"/reopen", "", "", bearer(w.employerTok)...); code != http.StatusConflict {
		t.Errorf("reopen a filled posting over the API: %d %s, want 409", code, body)
	}
	b.accessible(t, ctx, "postings")
	screenshot(t, ctx, "employer-postings")

	do(t, ctx, "candidates", chromedp.Navigate(b.base+"/app/#/postings/"+w.clerkPosting+"/candidates"), chromedp.WaitVisible("#candidates"))
	waitText(t, ctx, "#candidates tbody", "ana", 5*time.Second)
	if page := text(t, ctx, "main"); strings.Contains(page, "ana@example.org") {
		t.Errorf("contact details shown without consent:\n%s", page)
	}
	do(t, ctx, "ask for ana's contact details", chromedp.Click(`#candidates tbody button`))
	waitText(t, ctx, "#candidates tbody", "Not shared with mercy", 5*time.Second)
	b.accessible(t, ctx, "candidates")
	screenshot(t, ctx, "employer-candidates")
}
