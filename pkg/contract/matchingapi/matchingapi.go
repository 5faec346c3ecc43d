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
	Caseload = rpc.Endpoint[CaseloadRequest, CaseloadView]{Name: "caseload", Subject: "svc.matching.caseload",
		Doc: "Each client's best matches, near misses and plan progress, and the exams that would open the most postings."}
	Market = rpc.Endpoint[MarketRequest, MarketDemand]{Name: "market", Subject: "svc.matching.market",
		Doc: "Demand for each credential near a place: open postings naming it and their median pay."}
)

// Events of the matching service.
var (
	MatchesFound = events.Topic[Found]{Subject: events.MatchesFound, Stream: events.StreamMatches, Sealed: true,
		Doc: "Postings newly in a seeker's match list, coalesced per seeker (sealed with the seeker's key)."}
)

// Endpoints lists every endpoint this package declares.
func Endpoints() []rpc.Spec {
	return []rpc.Spec{Search.Spec(), Posting.Spec(), Matches.Spec(), MatchList.Spec(), Candidates.Spec(), Caseload.Spec(), Market.Spec()}
}

// Topics lists every event topic this package declares.
func Topics() []events.TopicSpec {
	return []events.TopicSpec{MatchesFound.Spec()}
}
