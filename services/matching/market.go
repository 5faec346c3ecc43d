package matching

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/match"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// Market limits.
const (
	MaxMarketRadius = 500
	// MarketSample is how many postings pay medians are computed from
	// (Meilisearch facet stats give only minimum and maximum).
	MarketSample = 1000
)

// marketCache keeps computed markets until the postings index changes
// (postingindex.Index.Sync, which calls the cache's invalidate).
type marketCache struct {
	mu    sync.Mutex
	gen   uint64
	items map[string]marketEntry
}

type marketEntry struct {
	gen uint64
	m   matchingapi.MarketDemand
}

func newMarketCache() *marketCache { return &marketCache{items: map[string]marketEntry{}} }

func (c *marketCache) invalidate() {
	c.mu.Lock()
	c.gen++
	clear(c.items)
	c.mu.Unlock()
}

func (c *marketCache) get(key string) (matchingapi.MarketDemand, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	return e.m, c.gen, ok && e.gen == c.gen
}

func (c *marketCache) put(key string, gen uint64, m matchingapi.MarketDemand) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		c.items[key] = marketEntry{gen: gen, m: m}
	}
}

// marketDemand computes the demand near a place, from the cache while the
// index has not changed.
func (s *Service) marketDemand(ctx context.Context, req matchingapi.MarketRequest) (matchingapi.MarketDemand, error) {
	at, err := s.marketPlace(req)
	if err != nil {
		return matchingapi.MarketDemand{}, err
	}
	if err := s.postings.Sync(ctx); err != nil {
		return matchingapi.MarketDemand{}, apierr.Wrap(err, apierr.Unavailable, "market data is unavailable")
	}
	held := slices.Clone(req.Held)
	slices.Sort(held)
	key := fmt.Sprintf("%.4f,%.4f,%d,%v", at.Lat, at.Lon, req.RadiusMiles, held)
	if m, _, ok := s.market.get(key); ok {
		m.PostalCode = req.PostalCode
		return m, nil
	}
	_, gen, _ := s.market.get(key)
	filter := `status = "open" AND ` + postingindex.ShownFilter + " AND " + match.GeoRadius(at.Lat, at.Lon, req.RadiusMiles)
	res, err := s.mc.Index(s.index).Search(ctx, "", &meilisearch.SearchRequest{
		Filter: filter, Facets: []string{postingindex.FieldAny, postingindex.FieldOneWay}, Limit: MarketSample,
		AttributesToRetrieve: append([]string{"id", postingindex.FieldAny, "salary_hourly_min", "salary_hourly_max", postingindex.FieldOneWay, match.FieldLat, match.FieldLon}, postingindex.RouteFields()...),
	})
	if err != nil {
		return matchingapi.MarketDemand{}, apierr.Wrap(err, apierr.Unavailable, "market data is unavailable")
	}
	withinRadius(res, at, req.RadiusMiles)

	m := marketOf(req, res)
	s.market.put(key, gen, m)
	return m, nil
}

// marketPlace checks the request's radius and returns the place it asks
// about: its coordinates, else its ZIP code's centroid.
func (s *Service) marketPlace(req matchingapi.MarketRequest) (geo.Point, error) {
	var fs apierr.Fields
	if req.RadiusMiles < 1 || req.RadiusMiles > MaxMarketRadius {
		fs.Add("radius_miles", "must be between 1 and %d", MaxMarketRadius)
	}
	var at geo.Point
	switch {
	case req.Lat != nil && req.Lon != nil:
		at = geo.Point{Lat: *req.Lat, Lon: *req.Lon}
		if !at.Valid() {
			fs.Add("lat", "latitude -90..90 and longitude -180..180")
		}
	case req.PostalCode != "":
		p, ok := geo.Point{}, false
		if s.zcta != nil {
			p, ok = s.zcta.Lookup(req.PostalCode)
		}
		if !ok {
			fs.Add("postal_code", "not a known US ZIP code")
		}
		at = p
	default:
		fs.Add("postal_code", "give a postal_code, or lat and lon")
	}
	return at, fs.Err()
}

// withinRadius drops the hits of a market search beyond miles of at (the
// filter, match.GeoRadius, lets through the corners of its boxes). When
// the sample held every posting the filter let through, the counts are
// then taken from the hits, exact; otherwise Meilisearch's counts, corners
// included, stay (at most MarketSample hits are read).
func withinRadius(res *meilisearch.SearchResponse, at geo.Point, miles int) {
	all := len(res.Hits) < MarketSample
	res.Hits = slices.DeleteFunc(res.Hits, func(h meilisearch.Hit) bool {
		d, site := siteDistance(h[match.FieldLat], h[match.FieldLon], at)
		return !site || d > float64(miles)
	})
	if !all {
		return
	}
	dist := map[string]map[string]int{postingindex.FieldAny: {}, postingindex.FieldOneWay: {}}
	for _, h := range res.Hits {
		for field, counts := range dist {
			var codes []string
			if raw, ok := h[field]; ok && json.Unmarshal(raw, &codes) == nil {
				for _, c := range codes {
					counts[c]++
				}
			}
		}
	}
	b, err := json.Marshal(dist)
	if err != nil {
		return
	}
	res.EstimatedTotalHits = int64(len(res.Hits))
	res.FacetDistribution = b
}

// marketOf counts the postings of a market search per credential and
// takes the pay medians over its sampled hits: of all, of each credential's,
// and of those the request's held credentials open.
func marketOf(req matchingapi.MarketRequest, res *meilisearch.SearchResponse) matchingapi.MarketDemand {
	m := matchingapi.MarketDemand{PostalCode: req.PostalCode, RadiusMiles: req.RadiusMiles, Postings: int(res.EstimatedTotalHits), Credentials: map[string]matchingapi.CredentialPulse{}, SampledPostings: len(res.Hits)}
	var dist map[string]map[string]int
	if b, err := json.Marshal(res.FacetDistribution); err == nil {
		_ = json.Unmarshal(b, &dist)
	}
	for code, n := range dist[postingindex.FieldAny] {
		m.Credentials[code] = matchingapi.CredentialPulse{Postings: n, OneWayIn: dist[postingindex.FieldOneWay][code]}
	}
	pays := map[string][]float64{}
	var all, qualified []float64
	for _, h := range res.Hits {
		var doc struct {
			Any    []string `json:"credentials_any"`
			Min    float64  `json:"salary_hourly_min"`
			Max    float64  `json:"salary_hourly_max"`
			Routes int      `json:"route_count"`
		}
		b, _ := json.Marshal(h)
		if err := json.Unmarshal(b, &doc); err != nil {
			continue
		}
		pay := midpoint(doc.Min, doc.Max)
		if pay == 0 {
			continue
		}
		all = append(all, pay)
		for _, c := range doc.Any {
			pays[c] = append(pays[c], pay)
		}
		if req.Held != nil && credentialsOpen(h, doc.Routes, req.Held) {
			qualified = append(qualified, pay)
		}
	}
	for code, ps := range pays {
		c := m.Credentials[code]
		c.MedianHourly = median(ps)
		m.Credentials[code] = c
	}
	m.MedianHourly = median(all)
	m.QualifiedMedianHourly = median(qualified)
	return m
}

// credentialsOpen reports whether held satisfies every credential group of
// some route of an indexed posting (education and experience aside, as the
// market is asked about credentials only).
func credentialsOpen(hit meilisearch.Hit, routes int, held []string) bool {
	for i := range routes {
		var groups []string
		if raw, ok := hit[postingindex.RouteField(i, postingindex.RouteGroups)]; ok {
			_ = json.Unmarshal(raw, &groups)
		}
		if len(match.BlockingTokens(groups, held)) == 0 {
			return true
		}
	}
	return false
}

func midpoint(lo, hi float64) float64 {
	switch {
	case lo > 0 && hi > 0:
		return (lo + hi) / 2
	case hi > 0:
		return hi
	}
	return lo
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	ys := slices.Clone(xs)
	sort.Float64s(ys)
	n := len(ys)
	if n%2 == 1 {
		return round2(ys[n/2])
	}
	return round2((ys[n/2-1] + ys[n/2]) / 2)
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }
