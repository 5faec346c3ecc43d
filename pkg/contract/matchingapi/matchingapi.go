// Package matchingapi is the contract of the matching service: its request/reply
// endpoints and its events (see pkg/contract).
package matchingapi

import (
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Endpoints of the matching service.
var (
	Search = rpc.Endpoint[SearchRequest, SearchResponse]{Name: "search", Subject: "svc.matching.search",
		Doc: "The public posting search: text, filters, facets, a geo radius and sorting; one posting per duplicate cluster."}
	Posting = rpc.Endpoint[PostingRequest, IndexedPosting]{Name: "posting", Subject: "svc.matching.posting",
		Doc: "One indexed (open) posting by id."}
	Matches = rpc.Endpoint[MatchesRequest, MatchesResponse]{Name: "matches", Subject: "svc.matching.matches",
		Doc: "A seeker's matches, each explained, and near misses with the pathway steps that close them."}
	MatchList = rpc.Endpoint[MatchListRequest, StoredList]{Name: "match-list", Subject: "svc.matching.list",
		Doc: "A seeker's stored match list (posting ids and scores), as kept by reverse matching."}
	Candidates = rpc.Endpoint[CandidatesRequest, CandidateList]{Name: "candidates", Subject: "svc.matching.candidates",
		Doc: "Opted-in seekers who qualify for a posting, ranked and explained, without contact details."}
	CandidateCount = rpc.Endpoint[CandidateCountsRequest, CandidateCounts]{Name: "candidate-counts", Subject: "svc.matching.candidate-counts",
		Doc: "For each posting, how many seekers who opted in to be seen by employers hold it in their stored match list (no match is computed)."}
	Caseload = rpc.Endpoint[CaseloadRequest, CaseloadView]{Name: "caseload", Subject: "svc.matching.caseload",
		Doc: "Each client's best matches, near misses and plan progress, and the exams that would open the most postings."}
	Market = rpc.Endpoint[MarketRequest, MarketDemand]{Name: "market", Subject: "svc.matching.market",
		Doc: "Demand for each credential near a place: open postings naming it and their median pay."}
)

// Events of the matching service.
var (
	MatchesFound = events.Topic[Found]{Subject: events.MatchesFound, Stream: events.StreamMatches, Sealed: true,
		Doc: "Postings newly in a seeker's match list, coalesced per seeker (sealed with the seeker's key). No longer published (matches.found.batch replaces it); consumers still read the ones in the stream."}
	MatchesFoundBatch = events.Topic[FoundBatch]{Subject: events.MatchesFoundBatch, Stream: events.StreamMatches,
		Doc: "The announcements of one flush of matching's outbox, many seekers in one message: each entry is a Found sealed with its own seeker's key, under its own announcement id."}
)

// Endpoints lists every endpoint this package declares.
func Endpoints() []rpc.Spec {
	return []rpc.Spec{Search.Spec(), Posting.Spec(), Matches.Spec(), MatchList.Spec(), Candidates.Spec(), CandidateCount.Spec(), Caseload.Spec(), Market.Spec(), Ready.Spec()}
}

// Topics lists every event topic this package declares.
func Topics() []events.TopicSpec {
	return []events.TopicSpec{MatchesFound.Spec(), MatchesFoundBatch.Spec()}
}

// Ready is matching's readiness as the gateway's /readyz reports it: the
// postings index is matching's, so matching checks Meilisearch, and the
// gateway holds no Meilisearch client of its own.
var Ready = rpc.Endpoint[ReadyRequest, Readiness]{Name: "ready", Subject: "svc.matching.ready",
	Doc: "Whether matching can reach its postings index (Meilisearch), for the gateway's /readyz."}

// ReadyRequest asks for matching's readiness.
type ReadyRequest struct{}

// Readiness says whether each of matching's own dependencies answers.
type Readiness struct {
	// Meilisearch is "ok", or "down" with the reason in MeilisearchError.
	Meilisearch      string `json:"meilisearch"`
	MeilisearchError string `json:"meilisearch_error,omitempty"`
}
