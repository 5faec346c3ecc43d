package matchingapi

import (
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// SearchRequest is a public posting search.
type SearchRequest struct {
	Q              string   `json:"q"`
	Limit          int      `json:"limit,omitempty"`
	Offset         int      `json:"offset,omitempty"`
	PostalCode     string   `json:"postal_code,omitempty"`
	Lat            *float64 `json:"lat,omitempty"`
	Lon            *float64 `json:"lon,omitempty"`
	RadiusMiles    int      `json:"radius_miles,omitempty"`
	WorkMode       string   `json:"work_mode,omitempty"`
	EmploymentType string   `json:"employment_type,omitempty"`
	SOCCode        string   `json:"soc_code,omitempty"`
	Credential     string   `json:"credential,omitempty"`
	MinHourly      float64  `json:"min_hourly,omitempty"`
	Sort           string   `json:"sort,omitempty"` // relevance, newest, pay, distance
	Cursor         string   `json:"cursor,omitempty"`
}

// SearchResponse lists postings (one per duplicate cluster) with facet
// counts. A hit is the indexed posting without the fields only filters use.
type SearchResponse struct {
	Hits           []map[string]any          `json:"hits"`
	EstimatedTotal int64                     `json:"estimated_total"`
	Limit          int                       `json:"limit"`
	Offset         int                       `json:"offset"`
	Facets         map[string]map[string]int `json:"facets"`
	NextCursor     string                    `json:"next_cursor,omitempty"`
}

// PostingRequest asks for one indexed posting.
type PostingRequest struct {
	ID string `json:"id"`
}

// IndexedPosting is a posting as the index holds it: the normalised
// posting, the organisation that owns it and its duplicate cluster.
type IndexedPosting struct {
	posting.Posting
	EmployerID string `json:"employer_id"`
	ClusterID  string `json:"cluster_id,omitempty"`
	Trust
}

// Trust is what tells a seeker how much to trust a posting: its age, how
// often the same employer re-posted it, and its duplicate cluster — how many
// open postings are the same job (the one shown included) and when the
// cluster was first seen.
type Trust struct {
	AgeDays      int    `json:"age_days"`
	Reposts      int    `json:"reposts"`
	ClusterSize  int    `json:"cluster_size"`
	AlsoPostedBy int    `json:"also_posted_by"`
	FirstSeen    string `json:"first_seen,omitempty"` // YYYY-MM-DD
}

// MatchesRequest asks for a seeker's matches.
type MatchesRequest struct {
	SeekerID   string `json:"seeker_id"`
	Limit      int    `json:"limit,omitempty"`
	NearMisses *bool  `json:"near_misses,omitempty"`
	// RadiusMiles overrides the profile's commute radius for this query.
	RadiusMiles int `json:"radius_miles,omitempty"`
}

// MatchesResponse is a seeker's matches and near misses, each explained.
// A duplicate cluster (the same job posted by the employer and by agencies)
// is one match: its representative, with the cluster's trust signals.
type MatchesResponse struct {
	SeekerID     string        `json:"seeker_id"`
	Matches      []MatchResult `json:"matches"`
	NearMisses   []NearMiss    `json:"near_misses"`
	LocationNote string        `json:"location_note,omitempty"`
}

// MatchResult is a match with the posting's trust signals; its summary
// says them in words too.
type MatchResult struct {
	match.Result
	Trust
}

// NearMiss is a posting blocked by one or two missing requirements, each
// linked to the pathway step that closes it.
type NearMiss struct {
	match.Result
	Closers []Closer `json:"closers"`
}

// Closer is how to close one gap.
type Closer struct {
	Gap       string   `json:"gap"`
	Code      string   `json:"code,omitempty"` // the credential or education step to take
	Text      string   `json:"text"`
	MonthsMin *int     `json:"months_min,omitempty"`
	MonthsMax *int     `json:"months_max,omitempty"`
	CostMin   *float64 `json:"cost_min,omitempty"`
	CostMax   *float64 `json:"cost_max,omitempty"`
	Status    string   `json:"status,omitempty"` // the pathway plan's status for that target
}

// MatchListRequest asks for a seeker's stored match list.
type MatchListRequest struct {
	SeekerID string `json:"seeker_id"`
}

// StoredList is a seeker's stored match list, best first.
type StoredList struct {
	SeekerID string      `json:"seeker_id"`
	Postings []ListEntry `json:"postings"`
}

// ListEntry is one posting in a seeker's stored match list.
type ListEntry struct {
	PostingID string  `json:"posting_id"`
	Score     float64 `json:"score"`
}

// CandidatesRequest asks for the candidates of a posting.
type CandidatesRequest struct {
	PostingID string `json:"posting_id"`
	Limit     int    `json:"limit,omitempty"`
	Cursor    string `json:"cursor,omitempty"`
}

// CandidateList is one page of a posting's candidates.
type CandidateList struct {
	PostingID  string      `json:"posting_id"`
	Candidates []Candidate `json:"candidates"`
	Total      int         `json:"total"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// Candidate is a seeker who qualifies for a posting, as an employer sees
// them: matching attributes and the explanation, never contact details.
type Candidate struct {
	SeekerID         string            `json:"seeker_id"`
	Score            float64           `json:"score"`
	Components       []match.Component `json:"components"`
	Met              []string          `json:"met"`
	DistanceMiles    *float64          `json:"distance_miles,omitempty"`
	Credentials      []string          `json:"credentials"`
	ExperienceMonths int               `json:"experience_months"`
	Skills           []string          `json:"skills"`
	CodeSets         []string          `json:"code_sets"`
	EHRSystems       []string          `json:"ehr_systems"`
}

// CandidateCountsRequest names postings (at most MaxCandidateCounts).
type CandidateCountsRequest struct {
	PostingIDs []string `json:"posting_ids"`
}

// MaxCandidateCounts bounds a CandidateCountsRequest.
const MaxCandidateCounts = 200

// CandidateCounts is, for each posting asked about, the number of its
// candidates: seekers open to employers who qualify for it, the Total of
// its Candidates list, counted from matching's seekers index when asked.
// A posting not in the index (closed, or not indexed yet) is 0.
type CandidateCounts struct {
	Counts map[string]int `json:"counts"`
}

// CaseloadRequest lists a counselor's clients.
type CaseloadRequest struct {
	Seekers []string `json:"seekers"`
}

// ClientView is one client of a caseload.
type ClientView struct {
	SeekerID     string        `json:"seeker_id"`
	Known        bool          `json:"known"`
	BestMatches  []MatchResult `json:"best_matches"`
	NearMisses   []NearMiss    `json:"near_misses"`
	Progress     *Progress     `json:"progress,omitempty"`
	LocationNote string        `json:"location_note,omitempty"`
}

// Progress is a client's pathway position.
type Progress struct {
	Held         []string `json:"held"`
	EligibleNow  []string `json:"eligible_now"`
	NextStep     string   `json:"next_step,omitempty"`
	Target       string   `json:"target,omitempty"`
	TargetStatus string   `json:"target_status,omitempty"`
}

// Unlock is one exam that clients may sit now, and the postings passing it
// would open for them.
type Unlock struct {
	// Credential is the exam (CPC, never CPC-A: an apprentice status is
	// what passing CPC gives, not an exam of its own).
	Credential string `json:"credential"`
	// Postings counts the postings it opens, summed over Clients.
	Postings int            `json:"postings"`
	Seekers  []string       `json:"seekers"`
	Clients  []UnlockClient `json:"clients"`
}

// UnlockClient is what one exam would do for one client.
type UnlockClient struct {
	SeekerID string `json:"seeker_id"`
	// Earns is what passing gives this client: the credential, or its
	// apprentice status (CPC-A) without the issuer's experience.
	Earns    string `json:"earns"`
	Postings int    `json:"postings"`
}

// CaseloadView is a counselor's whole caseload.
type CaseloadView struct {
	Clients []ClientView `json:"clients"`
	// BestUnlock is the single exam, taken next, that would open the most
	// postings across the caseload; Unlocks ranks them all.
	BestUnlock *Unlock  `json:"best_unlock,omitempty"`
	Unlocks    []Unlock `json:"unlocks"`
}

// MarketRequest asks for demand near a place.
type MarketRequest struct {
	PostalCode  string   `json:"postal_code,omitempty"`
	Lat         *float64 `json:"lat,omitempty"`
	Lon         *float64 `json:"lon,omitempty"`
	RadiusMiles int      `json:"radius_miles"`
	// Held, when given, yields the median pay of postings a holder of these
	// credentials already qualifies for (the pathway engine's baseline).
	Held []string `json:"held,omitempty"`
}

// MarketDemand is the demand for each credential near a place: how many
// open postings require or prefer it and what they pay. Its shape feeds
// pathway.Demand.
type MarketDemand struct {
	PostalCode            string                     `json:"postal_code,omitempty"`
	RadiusMiles           int                        `json:"radius_miles"`
	Postings              int                        `json:"postings"`
	Credentials           map[string]CredentialPulse `json:"credentials"`
	QualifiedMedianHourly float64                    `json:"qualified_median_hourly,omitempty"`
	MedianHourly          float64                    `json:"median_hourly,omitempty"`
	SampledPostings       int                        `json:"sampled_postings"`
}

// CredentialPulse is one credential's demand. Postings counts every
// posting that names it: required, one way in among several, preferred or
// or-eligible. A credential that is one way in opens the posting on its own,
// so it is demand; OneWayIn says how many of those postings name it only as
// one way in among several, not as a requirement.
type CredentialPulse struct {
	Postings     int     `json:"postings"`
	OneWayIn     int     `json:"one_way_in,omitempty"`
	MedianHourly float64 `json:"median_hourly,omitempty"`
}

// Found is the body of a matches.found event (sealed with the seeker's key:
// which jobs match whom is personal data).
type Found struct {
	SeekerID string   `json:"seeker_id"`
	Postings []string `json:"postings"`
	// WasNearMiss lists the postings among Postings that were near misses
	// of the seeker before (at the seeker's last list refresh): a near miss
	// that became a match.
	WasNearMiss []FormerNearMiss `json:"was_near_miss,omitempty"`
}

// FoundBatch is the body of a matches.found.batch event: the announcements
// of one flush chunk of matching's outbox, in the order of their ids. Each
// is sealed with its own seeker's key, so deleting one seeker (shredding
// their key) leaves the others' entries readable and theirs unreadable.
type FoundBatch struct {
	Announcements []SealedFound `json:"announcements"`
}

// SealedFound is one announcement in a FoundBatch: a Found sealed with the
// seeker's key, and its announcement id ("found:<token>", a random token
// fixed in matching's outbox before the first publish). A retried flush may
// bundle an announcement again, with other ones: consumers handle each id
// once, wherever it comes.
type SealedFound struct {
	ID     string       `json:"id"`
	Sealed shred.Sealed `json:"sealed"`
}

// FormerNearMiss is a posting that was a near miss of the seeker and is
// now a match. Missing names the steps (credential or education codes) the
// near miss was missing, the ones the seeker closed, when known: empty
// when the gap had no step (experience) or the posting changed instead.
type FormerNearMiss struct {
	PostingID string   `json:"posting_id"`
	Missing   []string `json:"missing,omitempty"`
}
