package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/clerkpath/clerkpath/cmd/clerkpath/apiclient"
	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/testenv"
	"github.com/clerkpath/clerkpath/services/gateway"
)

// The OpenAPI document (docs/openapi.json, a copy of
// services/gateway/openapi.json) is proven true here: it loads and
// validates as OpenAPI 3.1 with kin-openapi, the client generated from it
// (./apiclient) drives the real stack, and every request and answer of
// these tests is validated against it, with every object schema made
// closed so that an undocumented response field fails too.

const openAPIPath = "../../docs/openapi.json"

func TestAPIClientDocumentIsValidOpenAPI31(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromFile(openAPIPath)
	if err != nil {
		t.Fatalf("load %s: %v", openAPIPath, err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("%s is OpenAPI %s; want 3.1", openAPIPath, doc.OpenAPI)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("%s is not a valid OpenAPI document: %v", openAPIPath, err)
	}
	served := gateway.OpenAPIDocument()
	onDisk, err := os.ReadFile(openAPIPath)
	if err != nil || !bytes.Equal(served, onDisk) {
		t.Fatalf("%s differs from the document the gateway serves: run `make openapi`", openAPIPath)
	}
}

// invalidOnPurpose marks a request a test sends to see it refused: the
// checker does not hold it against the document.
type invalidOnPurpose struct{}

func deliberatelyInvalid(ctx context.Context) context.Context {
	return context.WithValue(ctx, invalidOnPurpose{}, true)
}

// conformance is an http.RoundTripper that validates every request and
// response against the document and records which operations answered.
type conformance struct {
	t        *testing.T
	doc      *openapi3.T
	routes   []documentedRoute
	next     http.RoundTripper
	mu       sync.Mutex
	answered map[string][]int // "METHOD /path" of the document → statuses
}

type documentedRoute struct {
	method, path string
	re           *regexp.Regexp
	params       int
}

var templateParam = regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)

func newConformance(t *testing.T) *conformance {
	t.Helper()
	raw, err := os.ReadFile(openAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	strict, err := closeObjectSchemas(raw)
	if err != nil {
		t.Fatalf("close the document's schemas: %v", err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(strict)
	if err != nil {
		t.Fatalf("load the closed document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the closed document does not validate: %v", err)
	}
	c := &conformance{t: t, doc: doc, next: http.DefaultTransport, answered: map[string][]int{}}
	for path, item := range doc.Paths.Map() {
		expr := "^"
		last := 0
		for _, m := range templateParam.FindAllStringSubmatchIndex(path, -1) {
			expr += regexp.QuoteMeta(path[last:m[0]]) + "(?P<" + path[m[2]:m[3]] + ">[^/]+)"
			last = m[1]
		}
		expr += regexp.QuoteMeta(path[last:]) + "$"
		for method := range item.Operations() {
			c.routes = append(c.routes, documentedRoute{method: method, path: path, re: regexp.MustCompile(expr), params: strings.Count(path, "{")})
		}
	}
	return c
}

// closeObjectSchemas flattens allOf compositions and adds
// "additionalProperties": false to every object schema that lists its
// properties and says nothing about others.
func closeObjectSchemas(raw []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	schemas, _ := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var flatten func(s map[string]any) map[string]any
	flatten = func(s map[string]any) map[string]any {
		if ref, ok := s["$ref"].(string); ok {
			return flatten(schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any))
		}
		parts, ok := s["allOf"].([]any)
		if !ok {
			return s
		}
		out := map[string]any{"type": "object", "properties": map[string]any{}}
		var required []any
		for _, p := range parts {
			part := flatten(p.(map[string]any))
			for k, v := range part["properties"].(map[string]any) {
				out["properties"].(map[string]any)[k] = v
			}
			if r, ok := part["required"].([]any); ok {
				required = append(required, r...)
			}
		}
		if required != nil {
			out["required"] = required
		}
		return out
	}
	for name, s := range schemas {
		schemas[name] = flatten(s.(map[string]any))
	}
	var closeAll func(v any)
	closeAll = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["properties"].(map[string]any); ok {
				if _, set := v["additionalProperties"]; !set {
					v["additionalProperties"] = false
				}
			}
			for _, x := range v {
				closeAll(x)
			}
		case []any:
			for _, x := range v {
				closeAll(x)
			}
		}
	}
	closeAll(schemas)
	return json.Marshal(doc)
}

// route finds the documented operation of a request; literal segments win
// over parameters, as in http.ServeMux.
func (c *conformance) route(req *http.Request) (*routers.Route, map[string]string) {
	var best *documentedRoute
	var params map[string]string
	for i, r := range c.routes {
		m := r.re.FindStringSubmatch(req.URL.Path)
		if r.method != req.Method || m == nil || (best != nil && best.params <= r.params) {
			continue
		}
		best, params = &c.routes[i], map[string]string{}
		for j, name := range r.re.SubexpNames() {
			if name != "" {
				params[name] = m[j]
			}
		}
	}
	if best == nil {
		return nil, nil
	}
	item := c.doc.Paths.Value(best.path)
	return &routers.Route{Spec: c.doc, Path: best.path, PathItem: item, Method: best.method, Operation: item.GetOperation(best.method)}, params
}

func (c *conformance) RoundTrip(req *http.Request) (*http.Response, error) {
	route, params := c.route(req)
	if route == nil {
		c.t.Errorf("%s %s is not in the OpenAPI document", req.Method, req.URL.Path)
		return c.next.RoundTrip(req)
	}
	name := req.Method + " " + route.Path
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: req.Clone(req.Context()), PathParams: params, Route: route, Options: opts}
	in.Request.Body = io.NopCloser(bytes.NewReader(body))
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil && req.Context().Value(invalidOnPurpose{}) == nil {
		c.t.Errorf("%s: the request does not match the document: %v", name, err)
	}
	res, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resBody, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(resBody)), Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		c.t.Errorf("%s answered %d with what the document does not describe: %v\n%.2000s", name, res.StatusCode, err, resBody)
	}
	c.mu.Lock()
	c.answered[name] = append(c.answered[name], res.StatusCode)
	c.mu.Unlock()
	return res, nil
}

// client returns a generated client acting with tok ("" for anonymous),
// its traffic checked against the document.
func (c *conformance) client(t *testing.T, base, tok string) *apiclient.ClientWithResponses {
	t.Helper()
	cl, err := apiclient.NewClientWithResponses(base,
		apiclient.WithHTTPClient(&http.Client{Transport: c, Timeout: 30 * time.Second}),
		apiclient.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func ptr[T any](v T) *T { return &v }

// status fails the test unless the generated client got the status.
func status(t *testing.T, what string, res interface{ StatusCode() int }, body []byte, err error, want int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if res.StatusCode() != want {
		t.Fatalf("%s: %d, want %d: %s", what, res.StatusCode(), want, body)
	}
}

// A seeker, an employer and an anonymous visitor use the generated client
// against the real stack.
func TestAPIClientJourney(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	check := newConformance(t)
	ctx := context.Background()
	x := randomSuffix()
	seekerID, org := "s-"+x, "o-"+x
	seeker := check.client(t, s.base, s.token(t, "seeker", seekerID, ""))
	employer := check.client(t, s.base, s.token(t, "employer", "e-"+x, org))
	anonymous := check.client(t, s.base, "")

	// The seeker saves a profile; the ETag is its version.
	profile := apiclient.SeekerProfileInput{
		Education:       &[]apiclient.Education{{Level: apiclient.EducationLevelHighSchool, Status: apiclient.EducationStatusCompleted}},
		Experience:      &[]apiclient.Experience{{Area: apiclient.ExperienceAreaRecords, Months: 6}},
		Location:        &apiclient.SeekerLocation{PostalCode: ptr("10001")},
		RadiusMiles:     ptr(15),
		OpenToEmployers: ptr(true),
	}
	put, err := seeker.PutSeekerWithResponse(ctx, seekerID, nil, profile)
	status(t, "PUT profile", put, put.Body, err, http.StatusOK)
	etag := put.HTTPResponse.Header.Get("ETag")
	if put.JSON200.Id != seekerID || etag != fmt.Sprintf("%q", fmt.Sprint(put.JSON200.Version)) {
		t.Fatalf("PUT profile: id %q version %d ETag %q", put.JSON200.Id, put.JSON200.Version, etag)
	}
	got, err := seeker.GetSeekerWithResponse(ctx, seekerID)
	status(t, "GET profile", got, got.Body, err, http.StatusOK)
	if got.HTTPResponse.Header.Get("ETag") != etag || got.JSON200.RadiusMiles != 15 || got.JSON200.RemotePreference != apiclient.SeekerProfileRemotePreferenceAny {
		t.Fatalf("GET profile: ETag %q (want %q), %+v", got.HTTPResponse.Header.Get("ETag"), etag, *got.JSON200)
	}

	// A write based on the ETag last read wins once; the stale one is 412.
	put, err = seeker.PutSeekerWithResponse(ctx, seekerID, &apiclient.PutSeekerParams{IfMatch: &etag}, profile)
	status(t, "PUT with the current ETag", put, put.Body, err, http.StatusOK)
	stale, err := seeker.PutSeekerWithResponse(ctx, seekerID, &apiclient.PutSeekerParams{IfMatch: &etag}, profile)
	status(t, "PUT with a stale ETag", stale, stale.Body, err, http.StatusPreconditionFailed)
	if p := stale.ApplicationproblemJSON412; p == nil || p.Code != apiclient.ProblemCodePreconditionFail || p.Status != 412 {
		t.Fatalf("412 problem: %+v", p)
	}

	// Bad input comes back as a problem document naming the fields.
	bad, err := seeker.PutSeekerWithResponse(deliberatelyInvalid(ctx), seekerID, nil, apiclient.SeekerProfileInput{
		Experience: &[]apiclient.Experience{{Area: "juggling", Months: -1}},
	})
	status(t, "PUT a bad profile", bad, bad.Body, err, http.StatusBadRequest)
	p := bad.ApplicationproblemJSON400
	if p == nil || p.Code != apiclient.ProblemCodeInvalid || p.Errors == nil ||
		!slices.ContainsFunc(*p.Errors, func(f apiclient.FieldError) bool { return f.Field == "experience[0].area" }) ||
		!slices.ContainsFunc(*p.Errors, func(f apiclient.FieldError) bool { return f.Field == "experience[0].months" }) {
		t.Fatalf("400 problem: %s", bad.Body)
	}

	// Without a token: 401 with WWW-Authenticate.
	anon, err := anonymous.GetSeekerWithResponse(ctx, seekerID)
	status(t, "GET a profile anonymously", anon, anon.Body, err, http.StatusUnauthorized)
	if anon.ApplicationproblemJSON401 == nil || anon.ApplicationproblemJSON401.Code != apiclient.ProblemCodeUnauthenticated ||
		anon.HTTPResponse.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("401: %s %v", anon.Body, anon.HTTPResponse.Header)
	}

	// Contact details and the seeker's own plan.
	contact, err := seeker.PutContactWithResponse(ctx, seekerID, apiclient.ContactInput{DisplayName: "Journey Seeker"})
	status(t, "PUT contact", contact, contact.Body, err, http.StatusOK)
	plan, err := seeker.GetSeekerPlanWithResponse(ctx, seekerID, nil)
	status(t, "GET plan", plan, plan.Body, err, http.StatusOK)
	if plan.JSON200 == nil || plan.JSON200.SeekerId != seekerID {
		t.Fatalf("plan: %s", plan.Body)
	}

	// The employer names its organisation and posts a job; a retry with
	// the same Idempotency-Key is answered from the stored response.
	emp, err := employer.PutEmployerWithResponse(ctx, org, apiclient.EmployerInput{Name: "Lakeside Clinic"})
	status(t, "PUT employer", emp, emp.Body, err, http.StatusOK)
	posting := apiclient.PostingInput{
		Title: "Medical Records Clerk", Employer: "Lakeside Clinic", PostalCode: ptr("10001"), DatePosted: ptr("2026-11-20"),
		Description: "Scan and index charts. High school diploma required.",
	}
	key := "journey-" + x
	sub, err := employer.SubmitPostingWithResponse(ctx, &apiclient.SubmitPostingParams{IdempotencyKey: &key}, posting)
	status(t, "POST posting", sub, sub.Body, err, http.StatusCreated)
	if len(sub.JSON201.Accepted) != 1 || sub.JSON201.Accepted[0].Status != apiclient.SubmitOutcomeStatusPosted {
		t.Fatalf("POST posting: %s", sub.Body)
	}
	id := sub.JSON201.Accepted[0].Id
	retry, err := employer.SubmitPostingWithResponse(ctx, &apiclient.SubmitPostingParams{IdempotencyKey: &key}, posting)
	status(t, "POST posting again", retry, retry.Body, err, http.StatusCreated)
	if retry.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(retry.Body, sub.Body) {
		t.Fatalf("retry was not replayed: %v %s", retry.HTTPResponse.Header, retry.Body)
	}
	posting.Title = "Something else"
	reused, err := employer.SubmitPostingWithResponse(ctx, &apiclient.SubmitPostingParams{IdempotencyKey: &key}, posting)
	status(t, "POST another posting with the same key", reused, reused.Body, err, http.StatusUnprocessableEntity)
	if reused.ApplicationproblemJSON422 == nil || reused.ApplicationproblemJSON422.Code != apiclient.ProblemCodeUnprocessable {
		t.Fatalf("422: %s", reused.Body)
	}

	// Anyone finds it in the public search, and reads it.
	testenv.Eventually(t, 10*time.Second, func() error {
		res, err := anonymous.SearchPostingsWithResponse(ctx, &apiclient.SearchPostingsParams{Q: ptr("records clerk"), Zip: ptr("10001"), RadiusMiles: ptr(25)})
		if err != nil || res.JSON200 == nil {
			return fmt.Errorf("search: %v %s", err, res.Body)
		}
		for _, h := range res.JSON200.Hits {
			if h.Id == id {
				return nil
			}
		}
		return fmt.Errorf("posting %s not among %d hits", id, len(res.JSON200.Hits))
	})
	one, err := anonymous.GetPostingWithResponse(ctx, id)
	status(t, "GET posting", one, one.Body, err, http.StatusOK)
	if one.JSON200.Title != "Medical Records Clerk" || one.JSON200.EmployerId != org {
		t.Fatalf("GET posting: %s", one.Body)
	}

	// The employer sees the opted-in seeker as a candidate, without
	// contact details; the seeker sees the posting among their matches.
	testenv.Eventually(t, 10*time.Second, func() error {
		res, err := employer.ListCandidatesWithResponse(ctx, id, nil)
		if err != nil || res.JSON200 == nil {
			return fmt.Errorf("candidates: %v %s", err, res.Body)
		}
		if !slices.ContainsFunc(res.JSON200.Candidates, func(c apiclient.Candidate) bool { return c.SeekerId == seekerID }) {
			return fmt.Errorf("seeker %s not among candidates %s", seekerID, res.Body)
		}
		return nil
	})
	// That read is in the seeker's access log: one "candidate" record per
	// seeker shown, naming the employer and its organisation.
	accessLog, err := seeker.GetAccessLogWithResponse(ctx, seekerID, nil)
	status(t, "access log after the candidate list", accessLog, accessLog.Body, err, http.StatusOK)
	if !slices.ContainsFunc(accessLog.JSON200.Entries, func(e apiclient.AccessRecord) bool {
		return e.Action == apiclient.AccessRecordActionCandidate && e.Role == apiclient.AccessRecordRoleEmployer && e.Org != nil && *e.Org == org
	}) {
		t.Fatalf("the employer's candidate read is not in the access log: %s", accessLog.Body)
	}
	matches, err := seeker.ListMatchesWithResponse(ctx, seekerID, &apiclient.ListMatchesParams{Limit: ptr(5)})
	status(t, "GET matches", matches, matches.Body, err, http.StatusOK)
	if !slices.ContainsFunc(matches.JSON200.Matches, func(m apiclient.MatchResult) bool { return m.PostingId == id }) {
		t.Fatalf("matches: %s", matches.Body)
	}

	// The document describes itself.
	self, err := anonymous.GetOpenAPIDocumentWithResponse(ctx)
	status(t, "GET /openapi.json", self, self.Body, err, http.StatusOK)
	if !bytes.Equal(self.Body, gateway.OpenAPIDocument()) {
		t.Fatal("GET /openapi.json does not serve the document")
	}
}

// Every route of the table, called as an admin with a body that passes
// validation, answers 2xx with exactly what the document describes.
func TestEveryRouteAnswersAsDocumented(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	check := newConformance(t)
	client := &http.Client{Transport: check, Timeout: 30 * time.Second}
	shared := newWorld(t, s, true)
	for _, pattern := range gateway.Patterns() {
		w := shared
		if strings.HasPrefix(pattern, "DELETE ") {
			// destructive: a world of its own (postings only if it takes one)
			w = newWorld(t, s, strings.Contains(pattern, "/v1/postings/"))
		}
		method, path := w.path(pattern, true)
		path = w.asAdmin(path, true)
		var body io.Reader
		if b, ok := bodies[pattern]; ok {
			body = strings.NewReader(b)
		}
		req, err := http.NewRequest(method, s.base+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
			if method == "PATCH" {
				req.Header.Set("Content-Type", "application/merge-patch+json")
			}
		}
		req.Header.Set(w.tokens["admin"][0], w.tokens["admin"][1])
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", pattern, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 300 {
			t.Errorf("%s as admin: %d %s", pattern, res.StatusCode, b)
		}
	}
	for _, pattern := range gateway.Patterns() {
		if len(check.answered[pattern]) == 0 {
			t.Errorf("%s was not checked against the document", pattern)
		}
	}
}

func date(s string) openapi_types.Date {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return openapi_types.Date{Time: d}
}

// A counselor follows a consenting seeker, and the pathway engine answers
// anonymous callers: the richer shapes of the document (near misses and
// their closers, caseload views, target plans, apprentice status, renewal
// cycles, CTDL, the paginated access log) checked against real answers.
func TestAPIClientCounselorAndPathways(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	check := newConformance(t)
	ctx := context.Background()
	x := randomSuffix()
	seekerID, counselorID, org := "s-"+x, "c-"+x, "o-"+x
	seeker := check.client(t, s.base, s.token(t, "seeker", seekerID, ""))
	counselor := check.client(t, s.base, s.token(t, "counselor", counselorID, ""))
	employer := check.client(t, s.base, s.token(t, "employer", "e-"+x, org))
	anonymous := check.client(t, s.base, "")

	put, err := seeker.PutSeekerWithResponse(ctx, seekerID, nil, apiclient.SeekerProfileInput{
		Education:       &[]apiclient.Education{{Level: apiclient.EducationLevelHighSchool, Status: apiclient.EducationStatusCompleted}},
		Experience:      &[]apiclient.Experience{{Area: apiclient.ExperienceAreaRecords, Months: 6}},
		Location:        &apiclient.SeekerLocation{PostalCode: ptr("10001")},
		OpenToEmployers: ptr(true),
		Target:          ptr("RHIT"),
	})
	status(t, "PUT profile", put, put.Body, err, http.StatusOK)
	link, err := seeker.LinkCounselorWithResponse(ctx, seekerID, counselorID)
	status(t, "link counselor", link, link.Body, err, http.StatusOK)
	if !slices.Contains(link.JSON200.Counselors, counselorID) {
		t.Fatalf("link: %s", link.Body)
	}
	earned, err := seeker.RecordCredentialWithResponse(ctx, seekerID, nil, apiclient.CredentialRecordInput{Code: "CCA", EarnedOn: date("2024-05-01")})
	status(t, "record a credential", earned, earned.Body, err, http.StatusCreated)
	ceu, err := seeker.LogCEUWithResponse(ctx, seekerID, nil, apiclient.CEURecordInput{Code: "CCA", Hours: 5, On: date("2025-01-10")})
	status(t, "log CEUs", ceu, ceu.Body, err, http.StatusCreated)
	if len(ceu.JSON201.Credentials) != 1 || len(ceu.JSON201.Ceus) != 1 {
		t.Fatalf("records: %s", ceu.Body)
	}

	// One bulk upload: a clerk job the seeker qualifies for, a technician
	// job that needs RHIT (a near miss), and a record without a title.
	bulk, err := employer.SubmitPostingsBulkWithResponse(deliberatelyInvalid(ctx), nil, apiclient.SubmitPostingsBulkJSONRequestBody{
		{Title: "Medical Records Clerk", Employer: "Lakeside Clinic", PostalCode: ptr("10001"), DatePosted: ptr("2026-11-20"),
			Description: "Scan and index charts. High school diploma required."},
		{Title: "Health Information Technician", Employer: "Lakeside Clinic", PostalCode: ptr("10001"), DatePosted: ptr("2026-11-20"),
			Description: "Abstract and release records. RHIT required. Six months of medical records experience required."},
		{Employer: "Lakeside Clinic", Description: "No title."},
	})
	status(t, "bulk upload", bulk, bulk.Body, err, http.StatusOK)
	if len(bulk.JSON200.Accepted) != 2 || len(bulk.JSON200.Rejected) != 1 || bulk.JSON200.Rejected[0].Index != 2 {
		t.Fatalf("bulk: %s", bulk.Body)
	}
	technician := bulk.JSON200.Accepted[1].Id

	// The counselor sees the near miss and the step that closes it.
	testenv.Eventually(t, 15*time.Second, func() error {
		res, err := counselor.ListMatchesWithResponse(ctx, seekerID, nil)
		if err != nil || res.JSON200 == nil {
			return fmt.Errorf("matches: %v %s", err, res.Body)
		}
		for _, nm := range res.JSON200.NearMisses {
			if nm.PostingId == technician && len(nm.Closers) > 0 {
				return nil
			}
		}
		return fmt.Errorf("posting %s is not a near miss with closers: %s", technician, res.Body)
	})
	caseload, err := counselor.GetCaseloadWithResponse(ctx, counselorID)
	status(t, "caseload", caseload, caseload.Body, err, http.StatusOK)
	if v := caseload.JSON200.View; len(v.Clients) != 1 || !v.Clients[0].Known || v.Clients[0].Progress == nil {
		t.Fatalf("caseload: %s", caseload.Body)
	}
	plan, err := counselor.GetSeekerPlanWithResponse(ctx, seekerID, nil)
	status(t, "the seeker's plan, read by the counselor", plan, plan.Body, err, http.StatusOK)
	if plan.JSON200.Plan == nil || plan.JSON200.Plan.Target != "RHIT" {
		t.Fatalf("plan: %s", plan.Body)
	}
	market, err := seeker.GetMarketWithResponse(ctx, &apiclient.GetMarketParams{Zip: ptr("10001")})
	status(t, "market", market, market.Body, err, http.StatusOK)
	if market.JSON200.Postings != 2 {
		t.Fatalf("market: %s", market.Body)
	}

	// The counselor's reads are in the seeker's access log, one page at a time.
	first, err := seeker.GetAccessLogWithResponse(ctx, seekerID, &apiclient.GetAccessLogParams{Limit: ptr(1)})
	status(t, "access log", first, first.Body, err, http.StatusOK)
	if len(first.JSON200.Entries) != 1 || first.JSON200.Entries[0].Actor != counselorID || first.JSON200.NextCursor == nil {
		t.Fatalf("access log, first page: %s", first.Body)
	}
	next, err := seeker.GetAccessLogWithResponse(ctx, seekerID, &apiclient.GetAccessLogParams{Cursor: first.JSON200.NextCursor, Limit: ptr(100)})
	status(t, "access log, next page", next, next.Body, err, http.StatusOK)
	if len(next.JSON200.Entries) == 0 {
		t.Fatalf("access log, next page: %s", next.Body)
	}
	export, err := seeker.ExportSeekerWithResponse(ctx, seekerID)
	status(t, "export", export, export.Body, err, http.StatusOK)
	if e := export.JSON200; len(e.AccessLog) != 1+len(next.JSON200.Entries) || e.Credentials == nil || len(e.Credentials.Credentials) != 1 || e.MatchList == nil {
		t.Fatalf("export: %s", export.Body)
	}

	// Either side ends the link; then the counselor sees nothing.
	unlink, err := counselor.UnlinkCounselorWithResponse(ctx, seekerID, counselorID)
	status(t, "unlink", unlink, unlink.Body, err, http.StatusOK)
	gone, err := counselor.GetSeekerWithResponse(ctx, seekerID)
	status(t, "GET after unlinking", gone, gone.Body, err, http.StatusNotFound)
	if gone.ApplicationproblemJSON404 == nil || gone.ApplicationproblemJSON404.Code != apiclient.ProblemCodeNotFound {
		t.Fatalf("404: %s", gone.Body)
	}

	// Anyone may plan from a state of their own: an apprentice coder
	// aiming for CCS (docs/examples/coder-cpc-a.json).
	state := apiclient.PathwayState{
		Education:   &[]apiclient.PathwayEducation{{Level: apiclient.PathwayEducationLevelHighSchool, Status: apiclient.PathwayEducationStatusCompleted}},
		Credentials: &[]apiclient.HeldCredential{{Code: "CPC", EarnedOn: ptr(date("2025-03-15")), Apprentice: ptr(true)}},
		Experience: &[]apiclient.PathwayExperience{
			{Area: apiclient.PathwayExperienceAreaCoding, Months: 8}, {Area: apiclient.PathwayExperienceAreaBilling, Months: 12}},
		Trainings: &[]string{"aapc_80_hour_course"},
		Ceus:      &[]apiclient.CEU{{Code: "CPC", Hours: 12, On: date("2025-11-02")}},
		Target:    ptr("CCS"),
		Optimize:  ptr(apiclient.PathwayStateOptimizeCost),
	}
	pp, err := anonymous.PlanPathwayWithResponse(ctx, nil, state)
	status(t, "plan a state", pp, pp.Body, err, http.StatusOK)
	if pp.JSON200.Plan == nil || pp.JSON200.Apprentice == nil || len(*pp.JSON200.Apprentice) != 1 || len(pp.JSON200.Recertification) == 0 {
		t.Fatalf("plan: %s", pp.Body)
	}
	ctdl, err := anonymous.PlanPathwayWithResponse(ctx, &apiclient.PlanPathwayParams{Format: ptr(apiclient.PlanPathwayParamsFormatCtdl)}, state)
	status(t, "plan as CTDL", ctdl, ctdl.Body, err, http.StatusOK)
	if ctdl.ApplicationldJSON200 == nil || len(ctdl.ApplicationldJSON200.Graph) == 0 {
		t.Fatalf("CTDL plan: %s", ctdl.Body)
	}
	cred, err := anonymous.GetCredentialWithResponse(ctx, "rhit")
	status(t, "one credential", cred, cred.Body, err, http.StatusOK)
	if cred.JSON200.Code != "RHIT" {
		t.Fatalf("credential: %s", cred.Body)
	}

	// Deletion: 204, then the profile is gone.
	del, err := seeker.DeleteSeekerWithResponse(ctx, seekerID)
	status(t, "delete", del, del.Body, err, http.StatusNoContent)
	after, err := seeker.GetSeekerWithResponse(ctx, seekerID)
	status(t, "GET after deleting", after, after.Body, err, http.StatusNotFound)
}

// Over the limit: 429 with Retry-After, as documented.
func TestAPIClientRateLimited(t *testing.T) {
	t.Parallel()
	s := startStack(t, func(c *config.Config) { c.RateLimitAnon = 2 })
	anonymous := newConformance(t).client(t, s.base, "")
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		res, err := anonymous.ListCredentialsWithResponse(ctx)
		status(t, "catalog", res, res.Body, err, http.StatusOK)
	}
	res, err := anonymous.ListCredentialsWithResponse(ctx)
	status(t, "catalog over the limit", res, res.Body, err, http.StatusTooManyRequests)
	if p := res.ApplicationproblemJSON429; p == nil || p.Code != apiclient.ProblemCodeRateLimited ||
		res.Headers429 == nil || res.Headers429.RetryAfter == nil || *res.Headers429.RetryAfter < 1 {
		t.Fatalf("429: %s %v", res.Body, res.HTTPResponse.Header)
	}
}
