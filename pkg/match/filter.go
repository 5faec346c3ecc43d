package match

import (
	"fmt"
	"slices"
	"strings"
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

// GeoRadius renders a _geoRadius filter in metres.
func GeoRadius(lat, lon float64, miles int) string {
	return fmt.Sprintf("_geoRadius(%.6f, %.6f, %d)", lat, lon, int(float64(miles)*1609.344))
}
