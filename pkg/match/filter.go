package match

import (
	"fmt"
	"slices"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/geo"
)

// GroupToken encodes a required-credential group (alternatives) as one
// string, the same whatever the order: ["CIC","CCS"] → "CCS|CIC". Postings
// are indexed with the tokens of their groups.
func GroupToken(group []string) string {
	return strings.Join(sorted(group), "|")
}

// BlockingTokens returns the tokens, among all tokens present in the index,
// of groups the seeker cannot satisfy (holds none of its codes). A posting
// is open to the seeker exactly when none of its tokens is blocking, so one
// filter — NOT credentials_required_groups IN [blocking…] — expresses "every
// required group satisfied" without enumerating postings.
func BlockingTokens(all []string, held []string) []string {
	var out []string
	for _, tok := range all {
		blocked := true
		for _, code := range strings.Split(tok, "|") {
			if slices.Contains(held, code) {
				blocked = false
				break
			}
		}
		if blocked {
			out = append(out, tok)
		}
	}
	slices.Sort(out)
	return out
}

// Quote returns s as a Meilisearch filter string literal.
func Quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// InList renders a Meilisearch IN list of quoted values.
func InList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = Quote(v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// The index fields of a posting's site, plain numbers: a radius is a
// filter of ranges on them (GeoRadius). Meilisearch's own _geo index was
// read and written whole by every indexing task, most of each task's cost
// (issue 14, docs/performance.md "Session 14").
const (
	FieldLat = "geo_lat"
	FieldLon = "geo_lng"
)

// GeoRadius renders a filter of the sites within miles of (lat, lon) and a
// little more: the ranges of latitude and longitude of geo.Cover's boxes.
// What it lets through beyond the radius (about 8 % more area, at most 30 %
// farther) the caller trims with geo.DistanceMiles, as match.Reachable
// does.
func GeoRadius(lat, lon float64, miles int) string {
	boxes := geo.Cover(geo.Point{Lat: lat, Lon: lon}, float64(miles), geo.CoverBands)
	parts := make([]string, len(boxes))
	for i, b := range boxes {
		parts[i] = fmt.Sprintf("(%s %.6f TO %.6f AND %s %.6f TO %.6f)", FieldLat, b.MinLat, b.MaxLat, FieldLon, b.MinLon, b.MaxLon)
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}
