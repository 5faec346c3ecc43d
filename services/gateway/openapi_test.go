package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clerkpath/clerkpath/pkg/auth"
)

// The OpenAPI document is written by hand; these tests keep it true to the
// route table. Its schemas are checked against real responses by the
// end-to-end tests in cmd/clerkpath (apiclient_test.go), which also
// validate it with an OpenAPI 3.1 library.

// openAPI is the part of the document the tests read.
type openAPI struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Parameters map[string]openAPIParameter `json:"parameters"`
		Responses  map[string]struct {
			Headers map[string]json.RawMessage `json:"headers"`
		} `json:"responses"`
	} `json:"components"`
}

type openAPIOperation struct {
	OperationID string                     `json:"operationId"`
	Security    *[]map[string][]string     `json:"security"`
	Roles       []string                   `json:"x-roles"`
	Parameters  []openAPIParameter         `json:"parameters"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

type openAPIParameter struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) openAPI {
	t.Helper()
	var doc openAPI
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Fatalf("openapi.json is OpenAPI %q; want 3.1.x", doc.OpenAPI)
	}
	return doc
}

// operations returns the document's operations by "METHOD /path".
func (doc openAPI) operations(t *testing.T) map[string]openAPIOperation {
	t.Helper()
	ops := map[string]openAPIOperation{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			if !slices.Contains(httpMethods, method) {
				continue
			}
			var op openAPIOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			ops[strings.ToUpper(method)+" "+path] = op
		}
	}
	return ops
}

// parameter resolves a parameter reference into components.
func (doc openAPI) parameter(t *testing.T, p openAPIParameter) openAPIParameter {
	t.Helper()
	if p.Ref == "" {
		return p
	}
	name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/")
	resolved, found := doc.Components.Parameters[name]
	if !ok || !found {
		t.Fatalf("parameter reference %q does not resolve", p.Ref)
	}
	return resolved
}

var wildcard = regexp.MustCompile(`\{([A-Za-z0-9_]+)(\.\.\.)?\}`)

// documentedAs turns a ServeMux pattern into the "METHOD /path" key of the
// document: "{name...}" wildcards become "{name}" and "{$}" goes. Literal
// characters such as the colon of "/v1/postings:bulk" stay as they are.
func documentedAs(pattern string) string {
	pattern = strings.ReplaceAll(pattern, "{$}", "")
	return wildcard.ReplaceAllString(pattern, "{$1}")
}

func routes() []route {
	return (&server{}).routeTable(prometheus.NewRegistry())
}

func TestOpenAPIDocumentListsExactlyTheRouteTable(t *testing.T) {
	ops := loadOpenAPI(t).operations(t)
	registered := map[string]bool{}
	for _, p := range Patterns() {
		key := documentedAs(p)
		registered[key] = true
		if _, ok := ops[key]; !ok {
			t.Errorf("route %q is not in services/gateway/openapi.json: document it under paths[%q].%s",
				p, strings.SplitN(key, " ", 2)[1], strings.ToLower(strings.SplitN(key, " ", 2)[0]))
		}
	}
	var stale []string
	for key := range ops {
		if !registered[key] {
			stale = append(stale, key)
		}
	}
	sort.Strings(stale)
	for _, key := range stale {
		t.Errorf("openapi.json documents %q, which is not in the route table", key)
	}
}

func TestOpenAPIPathParametersMatchTemplates(t *testing.T) {
	doc := loadOpenAPI(t)
	for key, op := range doc.operations(t) {
		var inTemplate, declared []string
		for _, m := range wildcard.FindAllStringSubmatch(key, -1) {
			inTemplate = append(inTemplate, m[1])
		}
		for _, p := range op.Parameters {
			if p = doc.parameter(t, p); p.In == "path" {
				declared = append(declared, p.Name)
			}
		}
		sort.Strings(inTemplate)
		sort.Strings(declared)
		if !slices.Equal(inTemplate, declared) {
			t.Errorf("%s: path parameters %v declared, template has %v", key, declared, inTemplate)
		}
	}
}

// The document's security and x-roles say what access.go enforces.
func TestOpenAPISecurityMatchesAccessRules(t *testing.T) {
	doc := loadOpenAPI(t)
	ops := doc.operations(t)
	for _, rt := range routes() {
		op, ok := ops[documentedAs(rt.pattern)]
		if !ok {
			continue // reported by TestOpenAPIDocumentListsExactlyTheRouteTable
		}
		if op.Security == nil {
			t.Errorf("%s: no per-operation security; want [] for public routes, [{bearerAuth: []}] otherwise", rt.pattern)
			continue
		}
		if rt.access.public {
			if len(*op.Security) != 0 || op.Roles != nil {
				t.Errorf("%s is public: want security: [] and no x-roles, got %v %v", rt.pattern, *op.Security, op.Roles)
			}
		} else {
			if len(*op.Security) != 1 || (*op.Security)[0]["bearerAuth"] == nil {
				t.Errorf("%s needs a token: want security [{bearerAuth: []}], got %v", rt.pattern, *op.Security)
			}
			want := []string{string(auth.RoleAdmin)}
			for _, r := range rt.access.roles {
				if r != auth.RoleAdmin {
					want = append(want, string(r))
				}
			}
			got := slices.Clone(op.Roles)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s: x-roles %v; access.go allows %v", rt.pattern, op.Roles, want)
			}
			if op.Responses["401"] == nil {
				t.Errorf("%s needs a token but documents no 401", rt.pattern)
			}
			// 403 comes from a role outside the rule, or from acting for
			// another counselor or organisation.
			restricted := len(want) < len(allRoles) || rt.access.counselor != "" || rt.access.org != ""
			if documented := op.Responses["403"] != nil; documented != restricted {
				t.Errorf("%s: 403 documented %v, but access.go can answer 403: %v", rt.pattern, documented, restricted)
			}
		}
		if !rt.access.unlimited && !refersTo(op.Responses["429"], "#/components/responses/TooManyRequests") {
			t.Errorf("%s is rate limited: want responses.429 to refer to #/components/responses/TooManyRequests", rt.pattern)
		}
		if rt.access.seeker != "" && op.Responses["404"] == nil {
			t.Errorf("%s answers 404 for seekers the caller may not see; document it", rt.pattern)
		}
	}
	for name, header := range map[string]string{"TooManyRequests": "Retry-After", "Unauthenticated": "WWW-Authenticate"} {
		if doc.Components.Responses[name].Headers[header] == nil {
			t.Errorf("components.responses.%s does not document the %s header", name, header)
		}
	}
}

// Every POST takes an Idempotency-Key and documents its two refusals.
func TestOpenAPIPostsTakeIdempotencyKey(t *testing.T) {
	doc := loadOpenAPI(t)
	for key, op := range doc.operations(t) {
		if !strings.HasPrefix(key, "POST ") {
			continue
		}
		found := false
		for _, p := range op.Parameters {
			if p = doc.parameter(t, p); p.In == "header" && p.Name == "Idempotency-Key" {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no Idempotency-Key header parameter", key)
		}
		for _, status := range []string{"409", "422"} {
			if op.Responses[status] == nil {
				t.Errorf("%s: Idempotency-Key answers %s, which is not documented", key, status)
			}
		}
	}
}

func TestOpenAPISeekerProfileUsesETags(t *testing.T) {
	doc := loadOpenAPI(t)
	ops := doc.operations(t)
	for _, key := range []string{"PUT /v1/seekers/{id}", "GET /v1/seekers/{id}"} {
		var ok struct {
			Headers map[string]json.RawMessage `json:"headers"`
		}
		if err := json.Unmarshal(ops[key].Responses["200"], &ok); err != nil || ok.Headers["ETag"] == nil {
			t.Errorf("%s: the 200 response does not document ETag", key)
		}
	}
	ifMatch := false
	for _, p := range ops["PUT /v1/seekers/{id}"].Parameters {
		if p = doc.parameter(t, p); p.In == "header" && p.Name == "If-Match" {
			ifMatch = true
		}
	}
	if !ifMatch || ops["PUT /v1/seekers/{id}"].Responses["412"] == nil {
		t.Error("PUT /v1/seekers/{id}: If-Match and its 412 are not documented")
	}
}

// Every local reference ("#/components/…") resolves, and every operation
// has a unique operationId: the generated client is named after them.
func TestOpenAPIReferencesResolve(t *testing.T) {
	var root any
	if err := json.Unmarshal(openAPIDocument, &root); err != nil {
		t.Fatal(err)
	}
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if ref, ok := x.(string); ok && k == "$ref" {
					if !resolves(root, ref) {
						t.Errorf("%s: $ref %q does not resolve", at, ref)
					}
					continue
				}
				walk(x, at+"/"+k)
			}
		case []any:
			for _, x := range v {
				walk(x, at)
			}
		}
	}
	walk(root, "#")
	seen := map[string]string{}
	for key, op := range loadOpenAPI(t).operations(t) {
		if op.OperationID == "" {
			t.Errorf("%s has no operationId", key)
		} else if other, dup := seen[op.OperationID]; dup {
			t.Errorf("operationId %q is used by %s and %s", op.OperationID, key, other)
		}
		seen[op.OperationID] = key
	}
}

// resolves reports whether a local JSON pointer reference names a value.
func resolves(root any, ref string) bool {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	v := root
	for _, tok := range strings.Split(ptr, "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[tok]; !ok {
			return false
		}
	}
	return true
}

func refersTo(raw json.RawMessage, ref string) bool {
	var r struct {
		Ref string `json:"$ref"`
	}
	return json.Unmarshal(raw, &r) == nil && r.Ref == ref
}

// docs/openapi.json is a copy for readers and the client generator; run
// `make openapi` (or go generate) after editing the source.
func TestOpenAPICopyInDocsIsIdentical(t *testing.T) {
	docs, err := os.ReadFile("../../docs/openapi.json")
	if err != nil {
		t.Fatalf("read the copy: %v (run `make openapi`)", err)
	}
	if !bytes.Equal(docs, openAPIDocument) {
		t.Fatal("docs/openapi.json differs from services/gateway/openapi.json: run `make openapi`")
	}
}

func TestOpenAPIServedAsJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	handleOpenAPI().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !bytes.Equal(rec.Body.Bytes(), openAPIDocument) || !json.Valid(rec.Body.Bytes()) {
		t.Fatal("GET /openapi.json does not serve the embedded document")
	}
}
