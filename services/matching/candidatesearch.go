package matching

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/strictjson"
	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// candidateSearch is the Meilisearch search of a forward match's (or a
// caseload's) candidates: the freshest limit postings passing filter, with
// only the attributes scoring and the trust signals read
// (candidateAttributes). ForwardSearches sends the same, so the bench's
// raw baseline asks Meilisearch for exactly what matching asks.
func candidateSearch(filter string, limit int) meilisearch.SearchRequest {
	return meilisearch.SearchRequest{
		Filter: filter, Limit: int64(limit), Sort: []string{"date_posted_ts:desc"},
		AttributesToRetrieve: candidateAttributes,
	}
}

// notScored are the posting fields no forward match reads: its text, which
// is most of a document. Every other field of posting.Posting is retrieved,
// so a field the scorer starts to read is there without a change here.
var notScored = []string{"description"}

// candidateAttributes are the JSON names of posting.Posting's fields (those
// of embedded structs included) but notScored, and of postingindex.Member's.
var candidateAttributes = func() []string {
	names := jsonNames(reflect.TypeFor[posting.Posting]())
	names = slices.DeleteFunc(names, func(n string) bool { return slices.Contains(notScored, n) })
	for _, n := range jsonNames(reflect.TypeFor[postingindex.Member]()) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}()

// jsonNames lists the JSON object keys encoding/json uses for struct type t,
// promoting the fields of untagged embedded structs.
func jsonNames(t reflect.Type) []string {
	var out []string
	for _, f := range strictjson.Fields(t) {
		out = append(out, f.Name)
	}
	return out
}

// candidateHit is one hit of candidateSearch: the posting and its cluster
// fields (postingindex.Member's but its id, which is the posting's) decoded
// in one pass. TestCandidateHitCarriesEveryMemberField fails when Member
// gains a field this does not.
type candidateHit struct {
	posting.Posting
	Cluster    string `json:"cluster_id"`
	EmployerID string `json:"employer_id"`
	Posted     int64  `json:"date_posted_ts"`
	Owner      string `json:"cluster_owner"`
	FirstSeen  int64  `json:"cluster_first_seen_ts"`
	Hidden     bool   `json:"cluster_hidden"`
	Size       int    `json:"cluster_size"`
	Reposts    int    `json:"cluster_reposts"`
}

func (h *candidateHit) member() postingindex.Member {
	return postingindex.Member{ID: h.ID, Cluster: h.Cluster, EmployerID: h.EmployerID, Posted: h.Posted, Owner: h.Owner,
		FirstSeen: h.FirstSeen, Hidden: h.Hidden, Size: h.Size, Reposts: h.Reposts}
}

// decodeCandidates reads the hits of a Meilisearch search answer, each once
// (meilisearch-go's Search decodes every hit into a map, and DecodeInto
// encodes and decodes it again, twice for a posting and its cluster
// fields). FuzzDecodeCandidates holds it to that path's answers.
func decodeCandidates(body []byte) ([]candidateHit, error) {
	var res struct {
		Hits []candidateHit `json:"hits"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, fmt.Errorf("decode posting hits: %w", err)
	}
	return res.Hits, nil
}
