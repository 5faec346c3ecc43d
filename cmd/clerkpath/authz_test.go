package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/testenv"
	"github.com/clerkpath/clerkpath/services/gateway"
)

// world is a set of related objects: a seeker linked to a counselor and
// consenting to an employer organisation, plus unrelated ("foreign") ones.
type world struct {
	seeker, counselor, org, employer, admin string // own ids
	seeker2, counselor2, org2               string // foreign ids
	posting, posting2                       string // own and foreign postings
	webhook, webhook2                       string // the own and the foreign seeker's webhooks
	tokens                                  map[string][]string
}

func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newWorld makes a world; withPostings also posts the own and the foreign
// posting and waits until both are indexed (seconds), which only routes on
// /v1/postings/{id} need.
func newWorld(t *testing.T, s *stack, withPostings bool) *world {
	t.Helper()
	x := randomSuffix()
	w := &world{
		seeker: "s-" + x, counselor: "c-" + x, org: "o-" + x, employer: "e-" + x, admin: "a-" + x,
		seeker2: "s2-" + x, counselor2: "c2-" + x, org2: "o2-" + x,
	}
	w.tokens = map[string][]string{
		"seeker":    bearer(s.token(t, "seeker", w.seeker, "")),
		"counselor": bearer(s.token(t, "counselor", w.counselor, "")),
		"employer":  bearer(s.token(t, "employer", w.employer, w.org)),
		"admin":     bearer(s.token(t, "admin", w.admin, "")),
		"anonymous": nil,
	}
	must := func(method, path, body string, tok []string) {
		t.Helper()
		code, _, b := s.do(t, method, path, "application/json", body, tok...)
		if code >= 300 {
			t.Fatalf("fixture %s %s: %d %s", method, path, code, b)
		}
	}
	must("PUT", "/v1/seekers/"+w.seeker, `{"open_to_employers":true}`, w.tokens["seeker"])
	must("PUT", "/v1/seekers/"+w.seeker+"/contact", `{"display_name":"Own Seeker","email":"own@example.org"}`, w.tokens["seeker"])
	must("PUT", "/v1/seekers/"+w.seeker+"/counselors/"+w.counselor, "", w.tokens["seeker"])
	must("PUT", "/v1/seekers/"+w.seeker+"/consents/"+w.org, "", w.tokens["seeker"])
	must("PUT", "/v1/employers/"+w.org, `{"name":"Own Org"}`, w.tokens["employer"])
	foreign := bearer(s.token(t, "seeker", w.seeker2, ""))
	must("PUT", "/v1/seekers/"+w.seeker2, `{}`, foreign)
	must("PUT", "/v1/seekers/"+w.seeker2+"/contact", `{"display_name":"Foreign Seeker"}`, foreign)
	foreignEmployer := bearer(s.token(t, "employer", "e2-"+x, w.org2))
	must("PUT", "/v1/employers/"+w.org2, `{"name":"Foreign Org"}`, foreignEmployer)
	post := func(tok []string) string {
		code, _, b := s.do(t, "POST", "/v1/postings", "application/json", `{"title":"Coder `+x+`","description":"Code charts.","employer":"Org","postal_code":"10001","date_posted":"2026-11-20"}`, tok...)
		if code != http.StatusCreated {
			t.Fatalf("fixture posting: %d %s", code, b)
		}
		var out struct {
			Accepted []struct{ ID string } `json:"accepted"`
		}
		if err := json.Unmarshal(b, &out); err != nil || len(out.Accepted) != 1 {
			t.Fatalf("fixture posting: %s", b)
		}
		id := out.Accepted[0].ID
		testenv.Eventually(t, 10*time.Second, func() error {
			if code, _, _ := s.do(t, "GET", "/v1/postings/"+id, "", ""); code != 200 {
				return fmt.Errorf("posting %s not indexed yet (%d)", id, code)
			}
			return nil
		})
		return id
	}
	if withPostings {
		w.posting, w.posting2 = post(w.tokens["employer"]), post(foreignEmployer)
	}
	hook := func(tok []string) string {
		code, _, b := s.do(t, "POST", "/v1/webhooks", "application/json", `{"url":"https://receiver.invalid/hook"}`, tok...)
		if code != http.StatusCreated {
			t.Fatalf("fixture webhook: %d %s", code, b)
		}
		return decode[struct{ ID string }](t, b).ID
	}
	w.webhook, w.webhook2 = hook(w.tokens["seeker"]), hook(foreign)
	return w
}

// path fills a pattern's parameters with own or foreign ids.
func (w *world) path(pattern string, own bool) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	pick := func(a, b string) string {
		if own {
			return a
		}
		return b
	}
	id := pick(w.seeker, w.seeker2)
	if strings.HasPrefix(path, "/v1/postings/") {
		id = pick(w.posting, w.posting2)
	}
	if strings.HasPrefix(path, "/v1/webhooks/") {
		id = pick(w.webhook, w.webhook2)
	}
	r := strings.NewReplacer("{id}", id, "{counselor}", pick(w.counselor, w.counselor2), "{org}", pick(w.org, w.org2))
	path = r.Replace(path)
	path = strings.ReplaceAll(path, "{code}", "RHIT") // a catalog credential code
	switch path {
	case "/v1/postings", "/v1/postings:bulk":
		path += "?org=" + w.org // admins name the organisation they post for
	case "/v1/market":
		path += "?zip=10001"
	}
	return method, path
}

// asAdmin adds what an admin names that an owner does not: whose webhooks.
func (w *world) asAdmin(path string, own bool) string {
	if strings.HasPrefix(path, "/v1/webhooks") {
		if own {
			return path + "?seeker=" + w.seeker
		}
		return path + "?seeker=" + w.seeker2
	}
	return path
}

// bodies for routes that need one to get past validation.
var bodies = map[string]string{
	"POST /v1/seekers/{id}/notes":  `{"text":"Discussed the RHIT exam.","target":"RHIT"}`,
	"PATCH /v1/postings/{id}":      `{"salary_min":20,"salary_max":25,"salary_unit":"HOUR"}`,
	"POST /v1/postings/{id}/close": `{"reason":"on_hold"}`,
	"POST /v1/postings:bulk":       `[{"title":"Coder","description":"Code charts.","employer":"Org","postal_code":"10001","date_posted":"2026-11-20"}]`,
	"POST /v1/postings":            `{"title":"Coder","description":"Code charts.","employer":"Org","postal_code":"10001","date_posted":"2026-11-20"}`,
	"PUT /v1/seekers/{id}":         `{}`,
	"PATCH /v1/seekers/{id}":       `{}`,
	"PUT /v1/seekers/{id}/contact": `{"display_name":"Someone"}`,
	"PUT /v1/employers/{org}":      `{"name":"Org"}`,
	"POST /v1/webhooks":            `{"url":"https://receiver.invalid/hook"}`,

	// Credentials and pathways (issue 3). The route table lists the
	// credential route before the CEU route, so the CEUs count toward a
	// credential the seeker already holds.
	"POST /v1/pathways/plan":            `{"education":[{"level":"high_school","status":"completed"}]}`,
	"POST /v1/seekers/{id}/credentials": `{"code":"CCA","earned_on":"2024-05-01"}`,
	"POST /v1/seekers/{id}/ceus":        `{"code":"CCA","hours":5,"on":"2025-01-10"}`,
}

// expect says, per route, which roles may call it: "all" on own and
// foreign objects, "own" only on their own, "" never. Anonymous callers
// are listed too. A route missing here fails the test.
var expect = map[string]map[string]string{
	"GET /healthz":                     {"anonymous": "all", "seeker": "all", "counselor": "all", "employer": "all", "admin": "all"},
	"GET /readyz":                      {"anonymous": "all", "seeker": "all", "counselor": "all", "employer": "all", "admin": "all"},
	"GET /metrics":                     {"anonymous": "all", "seeker": "all", "counselor": "all", "employer": "all", "admin": "all"},
	"GET /openapi.json":                {"anonymous": "all", "seeker": "all", "counselor": "all", "employer": "all", "admin": "all"},
	"POST /v1/postings":                {"employer": "all", "admin": "all"},
	"GET /v1/postings/search":          {"anonymous": "all", "seeker": "all", "counselor": "all", "employer": "all", "admin": "all"},
	"POST /v1/postings:bulk":           {"employer": "all", "admin": "all"},
	"GET /v1/postings/{id}":            {"anonymous": "all", "seeker": "all", "counselor": "all", "employer": "all", "admin": "all"},
	"GET /v1/postings/{id}/candidates": {"employer": "own", "admin": "all"},
	// Employers manage their own postings (issue 13). In table order: the
	// patch, then the close (on hold), then the reopen, on the shared world.
	"PATCH /v1/postings/{id}":          {"employer": "own", "admin": "all"},
	"POST /v1/postings/{id}/close":     {"employer": "own", "admin": "all"},
	"POST /v1/postings/{id}/reopen":    {"employer": "own", "admin": "all"},
	"GET /v1/employers/{org}/postings": {"employer": "own", "admin": "all"},
	"GET /v1/market":                   {"seeker": "all", "counselor": "all", "employer": "all", "admin": "all"},
	"GET /v1/seekers/{id}/matches":     {"seeker": "own", "counselor": "own", "admin": "all"},

	"PUT /v1/seekers/{id}":                           {"seeker": "own", "admin": "all"},
	"PATCH /v1/seekers/{id}":                         {"seeker": "own", "admin": "all"},
	"GET /v1/seekers/{id}":                           {"seeker": "own", "counselor": "own", "admin": "all"},
	"DELETE /v1/seekers/{id}":                        {"seeker": "own", "admin": "all"},
	"GET /v1/seekers/{id}/export":                    {"seeker": "own", "admin": "all"},
	"PUT /v1/seekers/{id}/contact":                   {"seeker": "own", "admin": "all"},
	"GET /v1/seekers/{id}/contact":                   {"seeker": "own", "counselor": "own", "employer": "own", "admin": "all"},
	"PUT /v1/seekers/{id}/consents/{org}":            {"seeker": "own", "admin": "all"},
	"DELETE /v1/seekers/{id}/consents/{org}":         {"seeker": "own", "admin": "all"},
	"PUT /v1/seekers/{id}/counselors/{counselor}":    {"seeker": "own", "admin": "all"},
	"DELETE /v1/seekers/{id}/counselors/{counselor}": {"seeker": "own", "counselor": "own", "admin": "all"},
	"POST /v1/seekers/{id}/notes":                    {"counselor": "own", "admin": "all"},
	"GET /v1/seekers/{id}/notes":                     {"seeker": "own", "counselor": "own", "admin": "all"},
	"GET /v1/seekers/{id}/access-log":                {"seeker": "own", "admin": "all"},
	"GET /v1/counselors/{counselor}/caseload":        {"counselor": "own", "admin": "all"},
	"GET /v1/counselors/{counselor}/events":          {"counselor": "own", "admin": "all"},
	"GET /v1/seekers/{id}/events":                    {"seeker": "own", "admin": "all"},
	// Webhooks are the caller's own: no foreign ones to reach, and another
	// owner's webhook id is not found.
	"POST /v1/webhooks":                {"seeker": "all", "counselor": "all", "employer": "all", "admin": "all"},
	"GET /v1/webhooks":                 {"seeker": "all", "counselor": "all", "employer": "all", "admin": "all"},
	"DELETE /v1/webhooks/{id}":         {"seeker": "own", "admin": "all"},
	"GET /v1/webhooks/{id}/deliveries": {"seeker": "own", "admin": "all"},
	"PUT /v1/employers/{org}":          {"employer": "own", "admin": "all"},
	"GET /v1/employers/{org}":          {"employer": "own", "admin": "all"},

	// Credentials and pathways (issue 3)
	"GET /v1/credentials":               {"anonymous": "all", "seeker": "all", "counselor": "all", "employer": "all", "admin": "all"},
	"GET /v1/credentials/{code}":        {"anonymous": "all", "seeker": "all", "counselor": "all", "employer": "all", "admin": "all"},
	"POST /v1/pathways/plan":            {"anonymous": "all", "seeker": "all", "counselor": "all", "employer": "all", "admin": "all"},
	"GET /v1/pathways/ctdl":             {"anonymous": "all", "seeker": "all", "counselor": "all", "employer": "all", "admin": "all"},
	"GET /v1/seekers/{id}/plan":         {"seeker": "own", "counselor": "own", "admin": "all"},
	"GET /v1/seekers/{id}/credentials":  {"seeker": "own", "counselor": "own", "admin": "all"},
	"POST /v1/seekers/{id}/credentials": {"seeker": "own", "admin": "all"},
	"POST /v1/seekers/{id}/ceus":        {"seeker": "own", "admin": "all"},
}

// TestEveryRouteEveryRoleOwnAndForeign walks the whole route table with
// every role, on its own objects and on foreign ones, and checks that
// exactly the expected calls get through.
func TestEveryRouteEveryRoleOwnAndForeign(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	shared := newWorld(t, s, true)
	roles := []string{"anonymous", "seeker", "counselor", "employer", "admin"}
	for _, pattern := range gateway.Patterns() {
		rules, ok := expect[pattern]
		if !ok {
			t.Errorf("route %q has no authorization expectation: add it to expect", pattern)
			continue
		}
		for _, role := range roles {
			for _, own := range []bool{true, false} {
				w := shared
				method, _, _ := strings.Cut(pattern, " ")
				if method == "DELETE" {
					// Destructive: a world of its own, with postings
					// only if the route takes one (40 worlds waiting for
					// their postings to be indexed were most of the test).
					w = newWorld(t, s, strings.Contains(pattern, "/v1/postings/"))
				}
				m, path := w.path(pattern, own)
				if role == "admin" {
					path = w.asAdmin(path, own)
				}
				want := rules[role] == "all" || (rules[role] == "own" && own)
				ctype := "application/json"
				if m == "PATCH" {
					ctype = "application/merge-patch+json"
				}
				code, _, body := s.do(t, m, path, ctype, bodies[pattern], w.tokens[role]...)
				denied := code == http.StatusUnauthorized || code == http.StatusForbidden ||
					(code == http.StatusNotFound && strings.Contains(string(body), `"code":"not_found"`))
				name := fmt.Sprintf("%s as %s on %s", pattern, role, map[bool]string{true: "own", false: "foreign"}[own])
				switch {
				case want && (denied || code >= 400):
					t.Errorf("%s: want allowed, got %d %s", name, code, body)
				case !want && !denied:
					t.Errorf("%s: want denied, got %d %s", name, code, body)
				}
				if role == "anonymous" && !want && code != http.StatusUnauthorized {
					t.Errorf("%s: anonymous callers get 401, got %d", name, code)
				}
			}
		}
	}
	for pattern := range expect {
		found := false
		for _, p := range gateway.Patterns() {
			found = found || p == pattern
		}
		if !found {
			t.Errorf("expectation for %q, which is not a route", pattern)
		}
	}
}
