package matching

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/meili"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// Search limits.
const (
	MaxSearchLimit     = 100
	DefaultSearchLimit = 20
	MaxSearchOffset    = 1000
	MaxQueryLength     = 200
	MaxRadiusMiles     = 500
)

var (
	workModes       = []string{"remote", "hybrid", "onsite"}
	searchSorts     = []string{"relevance", "newest", "pay", "distance"}
	searchFacets    = []string{postingindex.FieldAny, "work_mode", "employment_type", "soc_code"}
	hiddenInResults = []string{"simhash", "fingerprint", postingindex.FieldClusterHidden, postingindex.FieldClusterOwner, postingindex.FieldClusterFirstSeen, postingindex.FieldClusterReposts, match.FieldLat, match.FieldLon}
)

// DistancePool is how many of a search's candidates a sort by distance
// orders: every page a cursor can reach (MaxSearchOffset +
// MaxSearchLimit). The index cannot sort by distance (it has no _geo
// index, match.GeoRadius), so matching asks for the candidates' sites
// alone, in relevance order, sorts them, and fetches the page's postings.
const DistancePool = MaxSearchOffset + MaxSearchLimit

func (s *Service) search(ctx context.Context, req matchingapi.SearchRequest) (matchingapi.SearchResponse, error) {
	q, err := s.searchQuery(&req)
	if err != nil {
		return matchingapi.SearchResponse{}, err
	}
	if req.Sort == "distance" {
		return s.searchByDistance(ctx, req, q)
	}
	raw, err := s.mc.Index(s.index).SearchRaw(ctx, q.Query, q)
	if err != nil {
		return matchingapi.SearchResponse{}, apierr.Wrap(err, apierr.Unavailable, "search is unavailable")
	}
	res, err := meili.DecodeSearchHits(*raw)
	if err != nil {
		return matchingapi.SearchResponse{}, apierr.Wrap(err, apierr.Unavailable, "search is unavailable")
	}
	return s.searchAnswer(req, res)
}

// searchAnswer is the reply to req (as searchQuery left it) from
// Meilisearch's answer res; its hits become the reply's, less those whose
// site is beyond the radius (the index's filter lets through the corners
// of match.GeoRadius's boxes). The next cursor counts the hits Meilisearch
// gave, so that pages neither repeat nor skip a posting; a page may then
// hold fewer than limit hits. The estimated total and the facet counts are
// Meilisearch's, corners included.
func (s *Service) searchAnswer(req matchingapi.SearchRequest, res *meili.SearchHits) (matchingapi.SearchResponse, error) {
	out := matchingapi.SearchResponse{EstimatedTotal: res.EstimatedTotalHits, Limit: req.Limit, Offset: req.Offset, Facets: map[string]map[string]int{}}
	given := len(res.Hits)
	if at, ok := searchCentre(req); ok {
		res.Hits = slices.DeleteFunc(res.Hits, func(h map[string]any) bool {
			d, site := hitDistance(h, at)
			return site && d > float64(req.RadiusMiles) && !isRemote(h)
		})
	}
	var err error
	if out.Hits, err = s.searchHits(res.Hits); err != nil {
		return matchingapi.SearchResponse{}, apierr.Wrap(err, apierr.Internal, "internal error")
	}
	facets := res.FacetDistribution
	if len(facets) == 0 {
		facets = nullJSON // absent: facets null, as encoding/json reads it
	}
	_ = json.Unmarshal(facets, &out.Facets) // counts that do not fit leave what fitted, as before
	if next := req.Offset + given; given == req.Limit && int64(next) < res.EstimatedTotalHits && next <= MaxSearchOffset {
		out.NextCursor = encodeCursor(next)
	}
	return out, nil
}

// searchByDistance answers a search sorted by distance: the sites of up
// to DistancePool candidates in relevance order (q's filter, facets
// counted), those beyond the radius dropped, ordered by distance (a
// posting without a site, remote work, after every site, in relevance
// order), then the page's postings fetched by id. When the pool held every
// candidate, the order is exact and the total is the count within the
// radius. When it did not, the nearest may be among those not read: the
// page then comes from the largest of the circles of half, a quarter, …
// the radius whose candidates the pool held, if that circle has the whole
// page (its nearest sites are the nearest of all); failing that, from the
// pool.
func (s *Service) searchByDistance(ctx context.Context, req matchingapi.SearchRequest, q *meilisearch.SearchRequest) (matchingapi.SearchResponse, error) {
	at, _ := searchCentre(req)
	cands, res, all, err := s.distanceCandidates(ctx, *q, at, req.RadiusMiles)
	if err != nil {
		return matchingapi.SearchResponse{}, err
	}
	total := res.EstimatedTotalHits
	if all {
		total = int64(len(cands))
	}
	need := req.Offset + req.Limit
	for r := req.RadiusMiles / 2; !all && r >= 1; r /= 2 {
		inner := req
		inner.RadiusMiles, inner.Cursor = r, ""
		iq, err := s.searchQuery(&inner)
		if err != nil {
			return matchingapi.SearchResponse{}, err
		}
		iq.Facets = nil // the reply's are the whole radius's
		near, _, complete, err := s.distanceCandidates(ctx, *iq, at, r)
		if err != nil {
			return matchingapi.SearchResponse{}, err
		}
		if !complete {
			continue
		}
		// Remote work beyond r is in near too; only sites within r are
		// certainly the nearest.
		near = slices.DeleteFunc(near, func(c distanceCandidate) bool { return c.dist > float64(r) })
		if len(near) >= need {
			cands = near
		}
		break
	}
	page := cands[min(req.Offset, len(cands)):min(need, len(cands))]
	ids := make([]string, len(page))
	for i, c := range page {
		ids[i] = c.id
	}
	hits := make([]map[string]any, 0, len(ids))
	if len(ids) > 0 {
		var docs meilisearch.DocumentsResult
		if err := s.mc.Index(s.index).GetDocuments(ctx, &meilisearch.DocumentsQuery{Ids: ids, Limit: int64(len(ids))}, &docs); err != nil {
			return matchingapi.SearchResponse{}, apierr.Wrap(err, apierr.Unavailable, "search is unavailable")
		}
		byID := make(map[string]map[string]any, len(docs.Results))
		for _, d := range docs.Results {
			var id string
			if err := json.Unmarshal(d["id"], &id); err != nil {
				continue
			}
			h := make(map[string]any, len(d)+5)
			for k, v := range d {
				h[k] = v
			}
			byID[id] = h
		}
		for _, id := range ids {
			if h, ok := byID[id]; ok { // gone since the pool was read: left out
				hits = append(hits, h)
			}
		}
	}
	out := matchingapi.SearchResponse{EstimatedTotal: total, Limit: req.Limit, Offset: req.Offset, Facets: map[string]map[string]int{}}
	if out.Hits, err = s.searchHits(hits); err != nil {
		return matchingapi.SearchResponse{}, apierr.Wrap(err, apierr.Internal, "internal error")
	}
	facets := res.FacetDistribution
	if len(facets) == 0 {
		facets = nullJSON
	}
	_ = json.Unmarshal(facets, &out.Facets)
	if need < len(cands) || !all && int64(need) < total {
		if need <= MaxSearchOffset {
			out.NextCursor = encodeCursor(need)
		}
	}
	return out, nil
}

// distanceCandidate is a search candidate and its distance in miles (+Inf:
// no site).
type distanceCandidate struct {
	id   string
	dist float64
}

// distanceCandidates reads the sites of up to DistancePool candidates of q
// in relevance order and returns them ordered by distance from at, sites
// beyond miles left out (remote work stays wherever it is), with q's
// answer (its facets and estimated total), and whether the pool held
// every candidate.
func (s *Service) distanceCandidates(ctx context.Context, q meilisearch.SearchRequest, at geo.Point, miles int) ([]distanceCandidate, *meili.SearchHits, bool, error) {
	pool := cmp.Or(s.distancePool, DistancePool)
	q.Offset, q.Limit, q.Sort = 0, int64(pool), nil
	q.AttributesToRetrieve = []string{"id", "work_mode", match.FieldLat, match.FieldLon}
	raw, err := s.mc.Index(s.index).SearchRaw(ctx, q.Query, &q)
	if err != nil {
		return nil, nil, false, apierr.Wrap(err, apierr.Unavailable, "search is unavailable")
	}
	res, err := meili.DecodeSearchHits(*raw)
	if err != nil {
		return nil, nil, false, apierr.Wrap(err, apierr.Unavailable, "search is unavailable")
	}
	cands := make([]distanceCandidate, 0, len(res.Hits))
	for _, h := range res.Hits {
		var id string
		if raw, ok := h["id"].(json.RawMessage); !ok || json.Unmarshal(raw, &id) != nil {
			return nil, nil, false, apierr.New(apierr.Unavailable, "search is unavailable: a hit without an id")
		}
		d, site := hitDistance(h, at)
		switch {
		case !site:
			d = math.Inf(1)
		case d > float64(miles) && !isRemote(h):
			continue
		}
		cands = append(cands, distanceCandidate{id, d})
	}
	slices.SortStableFunc(cands, func(a, b distanceCandidate) int { return cmp.Compare(a.dist, b.dist) })
	return cands, res, len(res.Hits) < pool, nil
}

// searchCentre is where req (as searchQuery left it) looks, if anywhere.
func searchCentre(req matchingapi.SearchRequest) (geo.Point, bool) {
	if req.Lat == nil || req.Lon == nil {
		return geo.Point{}, false
	}
	return geo.Point{Lat: *req.Lat, Lon: *req.Lon}, true
}

// hitDistance is the distance in miles from at to a hit's site, if it has
// one (match.FieldLat, FieldLon in the hit).
func hitDistance(h map[string]any, at geo.Point) (float64, bool) {
	lat, _ := h[match.FieldLat].(json.RawMessage)
	lon, _ := h[match.FieldLon].(json.RawMessage)
	return siteDistance(lat, lon, at)
}

// siteDistance is the distance in miles from at to the site of an indexed
// posting whose match.FieldLat and FieldLon are lat and lon (JSON), if it
// has one.
func siteDistance(lat, lon json.RawMessage, at geo.Point) (float64, bool) {
	var p geo.Point
	if len(lat) == 0 || len(lon) == 0 || isNull(lat) || isNull(lon) || json.Unmarshal(lat, &p.Lat) != nil || json.Unmarshal(lon, &p.Lon) != nil {
		return 0, false
	}
	return geo.DistanceMiles(at, p), true
}

// isRemote is a hit of remote work, which a search near a place shows
// wherever its employer is.
func isRemote(h map[string]any) bool {
	raw, ok := h["work_mode"].(json.RawMessage)
	return ok && string(raw) == `"remote"`
}

// searchQuery checks a search (filling in the default limit and the
// cursor's offset) and builds the Meilisearch query: every field in error
// is named.
func (s *Service) searchQuery(req *matchingapi.SearchRequest) (*meilisearch.SearchRequest, error) {
	var fs apierr.Fields
	if req.Limit == 0 {
		req.Limit = DefaultSearchLimit
	}
	if req.Limit < 1 || req.Limit > MaxSearchLimit {
		fs.Add("limit", "must be between 1 and %d", MaxSearchLimit)
	}
	if req.Offset < 0 || req.Offset > MaxSearchOffset {
		fs.Add("offset", "must be between 0 and %d", MaxSearchOffset)
	}
	if req.Cursor != "" {
		if req.Offset != 0 {
			fs.Add("cursor", "give a cursor or an offset, not both")
		} else if off, err := decodeCursor(req.Cursor, MaxSearchOffset); err != nil {
			fs.Add("cursor", "use next_cursor from the previous page")
		} else {
			req.Offset = off
		}
	}
	if len(req.Q) > MaxQueryLength {
		fs.Add("q", "at most %d characters", MaxQueryLength)
	}
	at, filters := s.searchPlace(req, &fs)
	filters = append(filters, attributeFilters(req, &fs)...)
	sort := searchSort(req.Sort, at, &fs)
	if err := fs.Err(); err != nil {
		return nil, err
	}
	return &meilisearch.SearchRequest{Query: strings.TrimSpace(req.Q), Limit: int64(req.Limit), Offset: int64(req.Offset), Filter: strings.Join(filters, " AND "),
		Facets: searchFacets, Sort: sort}, nil
}

// PublicSearch is the Meilisearch request a public search of the text q
// (no other parameter) sends to the postings index, built as the service
// builds it: open and shown postings (a duplicate that another posting of
// its cluster stands for is hidden), 20 hits, the facets. clerkpath bench
// sends it raw to Meilisearch as the baseline of the public search, so
// that both sides ask Meilisearch the same question.
func PublicSearch(q string) (*meilisearch.SearchRequest, error) {
	return (&Service{}).searchQuery(&matchingapi.SearchRequest{Q: q})
}

// searchPlace is where a search looks (nil: anywhere) and the filters that
// keep open, shown postings there (or remote).
func (s *Service) searchPlace(req *matchingapi.SearchRequest, fs *apierr.Fields) (*geo.Point, []string) {
	filters := []string{`status = "open"`, postingindex.ShownFilter}
	var at *geo.Point
	switch {
	case req.Lat != nil && req.Lon != nil:
		p := geo.Point{Lat: *req.Lat, Lon: *req.Lon}
		if !p.Valid() {
			fs.Add("lat", "latitude -90..90 and longitude -180..180")
		}
		at = &p
	case req.PostalCode != "":
		if s.zcta == nil {
			fs.Add("postal_code", "ZIP code lookups are unavailable on this server; give lat and lon")
		} else if p, ok := s.zcta.Lookup(req.PostalCode); ok {
			at = &p
			req.Lat, req.Lon = &p.Lat, &p.Lon // where searchAnswer trims from
		} else {
			fs.Add("postal_code", "not a known US ZIP code")
		}
	}
	if req.RadiusMiles != 0 && (req.RadiusMiles < 1 || req.RadiusMiles > MaxRadiusMiles) {
		fs.Add("radius_miles", "must be between 1 and %d", MaxRadiusMiles)
	}
	if at != nil {
		if req.RadiusMiles == 0 {
			req.RadiusMiles = 25
		}
		filters = append(filters, "("+match.GeoRadius(at.Lat, at.Lon, req.RadiusMiles)+` OR work_mode = "remote")`)
	} else if req.RadiusMiles != 0 {
		fs.Add("radius_miles", "needs a postal_code, or lat and lon")
	}
	return at, filters
}

// attributeFilters are the filters of a search's attribute fields.
func attributeFilters(req *matchingapi.SearchRequest, fs *apierr.Fields) []string {
	var filters []string
	if req.WorkMode != "" {
		if !slices.Contains(workModes, req.WorkMode) {
			fs.Add("work_mode", "must be one of %s", strings.Join(workModes, ", "))
		}
		filters = append(filters, "work_mode = "+match.Quote(req.WorkMode))
	}
	if req.EmploymentType != "" {
		filters = append(filters, "employment_type = "+match.Quote(strings.ToUpper(req.EmploymentType)))
	}
	if req.SOCCode != "" {
		filters = append(filters, "soc_code = "+match.Quote(req.SOCCode))
	}
	if req.Credential != "" {
		filters = append(filters, postingindex.FieldAny+" = "+match.Quote(strings.ToUpper(req.Credential)))
	}
	if req.MinHourly < 0 || req.MinHourly > 500 {
		fs.Add("min_hourly", "must be between 0 and 500")
	} else if req.MinHourly > 0 {
		filters = append(filters, fmt.Sprintf("salary_hourly_max >= %g", req.MinHourly))
	}
	return filters
}

// searchSort is a search's sort order.
func searchSort(name string, at *geo.Point, fs *apierr.Fields) []string {
	var sort []string
	switch name {
	case "", "relevance":
	case "newest":
		sort = []string{"date_posted_ts:desc"}
	case "pay":
		sort = []string{"salary_hourly_max:desc"}
	case "distance": // in matching, searchByDistance: the index has no _geo
		if at == nil {
			fs.Add("sort", "distance needs a postal_code, or lat and lon")
		}
	default:
		fs.Add("sort", "must be one of %s", strings.Join(searchSorts, ", "))
	}
	return sort
}

// nullJSON is how encoding/json reads an absent facet distribution.
var nullJSON = json.RawMessage("null")

// hiddenInHits are the fields a hit never shows: those only filters and
// cluster settling use, and each route's filter fields (routes, in the
// posting, says them in full).
var hiddenInHits = func() map[string]bool {
	out := map[string]bool{}
	for _, k := range hiddenInResults {
		out[k] = true
	}
	for _, k := range postingindex.RouteFields()[1:] {
		out[k] = true
	}
	return out
}()

// searchHits turns hits (DecodeSearchHits', each value a json.RawMessage)
// into the hits the reply shows, in place: the cluster's trust signals
// added, fields only filters use and null fields left out. Each shown
// field's value is passed on as Meilisearch encoded it (so that it is not
// decoded here only to be encoded again), except id, which is a string
// for callers in this process; the trust signals are Go values. The
// reply's JSON is the same as if every value had been decoded.
func (s *Service) searchHits(hits []map[string]any) ([]map[string]any, error) {
	today := s.now()
	for _, h := range hits {
		m, err := searchMember(h)
		if err != nil {
			return nil, fmt.Errorf("decode search hit: %w", err)
		}
		for k, v := range h {
			if hiddenInHits[k] || isNull(v) {
				delete(h, k)
			}
		}
		if _, ok := h["id"]; ok {
			h["id"] = m.ID
		}
		t := trustSignals(m, today)
		h["age_days"], h["reposts"], h["cluster_size"], h["also_posted_by"] = t.AgeDays, t.Reposts, t.ClusterSize, t.AlsoPostedBy
		if t.FirstSeen != "" {
			h["first_seen"] = t.FirstSeen
		}
	}
	return hits, nil
}

// isNull is a hit's null value: a field the posting does not have, which
// the index holds as null so that an update clears it
// (postingindex.Doc), and which a hit leaves out as the posting does.
func isNull(v any) bool {
	raw, ok := v.(json.RawMessage)
	return ok && string(raw) == "null"
}

// searchMember decodes the fields of a hit that its trust signals come
// from, as meilisearch.Hit.DecodeInto does (a null or absent field is
// the zero value), reading only those fields.
func searchMember(h map[string]any) (postingindex.Member, error) {
	var m postingindex.Member
	for _, f := range []struct {
		key string
		to  any
	}{{"id", &m.ID}, {"cluster_id", &m.Cluster}, {"employer_id", &m.EmployerID}, {"date_posted_ts", &m.Posted},
		{postingindex.FieldClusterOwner, &m.Owner}, {postingindex.FieldClusterFirstSeen, &m.FirstSeen},
		{postingindex.FieldClusterHidden, &m.Hidden}, {postingindex.FieldClusterSize, &m.Size}, {postingindex.FieldClusterReposts, &m.Reposts}} {
		v, ok := h[f.key].(json.RawMessage)
		if !ok {
			continue
		}
		if err := json.Unmarshal(v, f.to); err != nil {
			return postingindex.Member{}, fmt.Errorf("field %q: %w", f.key, err)
		}
	}
	return m, nil
}
