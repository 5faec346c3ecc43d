package gateway

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/contract/gatewayapi"
	"github.com/clerkpath/clerkpath/services/gateway/web"
)

// route is one entry of the API: its pattern, its authorization rule, and
// its handler.
type route struct {
	pattern string
	access  access
	handler http.Handler
}

var (
	seekers    = []auth.Role{auth.RoleSeeker}
	counselors = []auth.Role{auth.RoleCounselor}
	employers  = []auth.Role{auth.RoleEmployer}
	// subscribers are the roles with events of their own (notifications).
	subscribers = []auth.Role{auth.RoleSeeker, auth.RoleCounselor, auth.RoleEmployer}
)

// routeTable is the whole HTTP surface on one screen. The authorization
// test walks every entry with every role, and the OpenAPI test checks that
// the document lists exactly these patterns.
func (s *server) routeTable(reg *prometheus.Registry) []route {
	public := access{public: true}
	probe := access{public: true, unlimited: true}
	return []route{
		{"GET /healthz", probe, handleHealthz()},
		{"GET /readyz", probe, s.handleReadyz()},
		{"GET /metrics", probe, promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})},
		{"GET /openapi.json", public, handleOpenAPI()},

		{"POST /v1/postings", access{roles: employers}, s.handleSubmitPosting()},
		{"POST /v1/postings:bulk", access{roles: employers}, s.handleBulkPostings()},
		{"GET /v1/postings/search", public, s.handleSearchPostings()},
		{"GET /v1/postings/{id}", public, s.handleGetPosting()},
		{"GET /v1/postings/{id}/candidates", access{roles: employers, posting: "id"}, s.handleCandidates()},
		// Employers manage their postings (issue 13); ingest checks the owner.
		{"PATCH /v1/postings/{id}", access{roles: employers}, s.handlePatchPosting()},
		{"POST /v1/postings/{id}/close", access{roles: employers}, s.handleClosePosting()},
		{"POST /v1/postings/{id}/reopen", access{roles: employers}, s.handleReopenPosting()},
		{"GET /v1/employers/{org}/postings", access{roles: employers, org: "org"}, s.handleEmployerPostings()},
		{"GET /v1/market", access{roles: allRoles}, s.handleMarket()},

		{"PUT /v1/seekers/{id}", access{roles: seekers, seeker: "id", rel: relSelf}, s.handlePutSeeker()},
		{"PATCH /v1/seekers/{id}", access{roles: seekers, seeker: "id", rel: relSelf}, s.handlePatchSeeker()},
		{"GET /v1/seekers/{id}", access{roles: []auth.Role{auth.RoleSeeker, auth.RoleCounselor}, seeker: "id", rel: relSelf | relCaseload, audit: gatewayapi.ActionProfile}, s.handleGetSeeker()},
		{"DELETE /v1/seekers/{id}", access{roles: seekers, seeker: "id", rel: relSelf}, s.handleDeleteSeeker()},
		{"GET /v1/seekers/{id}/export", access{roles: seekers, seeker: "id", rel: relSelf}, s.handleExportSeeker()},
		{"PUT /v1/seekers/{id}/contact", access{roles: seekers, seeker: "id", rel: relSelf}, s.handlePutContact()},
		{"GET /v1/seekers/{id}/contact", access{roles: allRoles, seeker: "id", rel: relSelf | relCaseload | relConsented, audit: gatewayapi.ActionContact}, s.handleGetContact()},
		{"PUT /v1/seekers/{id}/consents/{org}", access{roles: seekers, seeker: "id", rel: relSelf}, s.handleConsent(true)},
		{"DELETE /v1/seekers/{id}/consents/{org}", access{roles: seekers, seeker: "id", rel: relSelf}, s.handleConsent(false)},
		{"PUT /v1/seekers/{id}/counselors/{counselor}", access{roles: seekers, seeker: "id", rel: relSelf}, s.handleCounselorLink(true)},
		{"DELETE /v1/seekers/{id}/counselors/{counselor}", access{roles: []auth.Role{auth.RoleSeeker, auth.RoleCounselor}, seeker: "id", rel: relSelf | relCaseload, counselor: "counselor", audit: gatewayapi.ActionRelations}, s.handleCounselorLink(false)},
		{"GET /v1/seekers/{id}/matches", access{roles: []auth.Role{auth.RoleSeeker, auth.RoleCounselor}, seeker: "id", rel: relSelf | relCaseload, audit: gatewayapi.ActionMatches}, s.handleMatches()},
		{"POST /v1/seekers/{id}/notes", access{roles: counselors, seeker: "id", rel: relCaseload}, s.handleAddNote()},
		{"GET /v1/seekers/{id}/notes", access{roles: []auth.Role{auth.RoleSeeker, auth.RoleCounselor}, seeker: "id", rel: relSelf | relCaseload, audit: gatewayapi.ActionNotes}, s.handleNotes()},
		{"GET /v1/seekers/{id}/access-log", access{roles: seekers, seeker: "id", rel: relSelf}, s.handleAccessLog()},

		// Credentials and pathways (issue 3)
		{"GET /v1/credentials", public, s.handleCredentialCatalog()},
		{"GET /v1/credentials/{code}", public, s.handleCredential()},
		{"POST /v1/pathways/plan", public, s.handlePathwayPlan()},
		{"GET /v1/pathways/ctdl", public, s.handlePathwayCTDL()},
		{"GET /v1/seekers/{id}/plan", access{roles: []auth.Role{auth.RoleSeeker, auth.RoleCounselor}, seeker: "id", rel: relSelf | relCaseload, audit: gatewayapi.ActionPlan}, s.handleSeekerPlan()},
		{"GET /v1/seekers/{id}/credentials", access{roles: []auth.Role{auth.RoleSeeker, auth.RoleCounselor}, seeker: "id", rel: relSelf | relCaseload, audit: gatewayapi.ActionCredentials}, s.handleSeekerCredentials()},
		{"POST /v1/seekers/{id}/credentials", access{roles: seekers, seeker: "id", rel: relSelf}, s.handleEarnCredential()},
		{"POST /v1/seekers/{id}/ceus", access{roles: seekers, seeker: "id", rel: relSelf}, s.handleLogCEU()},
		{"GET /v1/counselors/{counselor}/caseload", access{roles: counselors, counselor: "counselor"}, s.handleCaseload()},

		// Notifications (issue 13): webhooks are the caller's own (a seeker's
		// events, a counselor's caseload's, an employer organisation's).
		{"POST /v1/webhooks", access{roles: subscribers}, s.handleCreateWebhook()},
		{"GET /v1/webhooks", access{roles: subscribers}, s.handleListWebhooks()},
		{"DELETE /v1/webhooks/{id}", access{roles: subscribers}, s.handleWebhook(s.deleteWebhook)},
		{"GET /v1/webhooks/{id}/deliveries", access{roles: subscribers}, s.handleWebhook(s.webhookDeliveries)},
		{"GET /v1/seekers/{id}/events", access{roles: seekers, seeker: "id", rel: relSelf, audit: "notifications"}, s.handleEvents("seeker", "id")},
		{"GET /v1/counselors/{counselor}/events", access{roles: counselors, counselor: "counselor"}, s.handleEvents("counselor", "counselor")},

		{"PUT /v1/employers/{org}", access{roles: employers, org: "org"}, s.handlePutEmployer()},
		{"GET /v1/employers/{org}", access{roles: employers, org: "org"}, s.handleGetEmployer()},
	}
}

// maxBody is the request body limit of the route.
func (rt route) maxBody() int64 {
	if strings.HasSuffix(rt.pattern, ":bulk") {
		return MaxBulkBody
	}
	return MaxJSONBody
}

func addRoutes(mux *http.ServeMux, s *server, reg *prometheus.Registry) {
	for _, rt := range s.routeTable(reg) {
		mux.Handle(rt.pattern, s.guard(rt))
	}
	// The web console: static files that call the API above (docs/console.md).
	mux.Handle("GET "+web.Prefix, web.Handler())
	mux.Handle("GET /{$}", web.RedirectToConsole())
}

// Patterns lists every route pattern of the API, in table order. Tests use
// it to prove that every route has an authorization expectation and an
// OpenAPI entry.
func Patterns() []string {
	s := &server{}
	var out []string
	for _, rt := range s.routeTable(prometheus.NewRegistry()) {
		out = append(out, rt.pattern)
	}
	return out
}
