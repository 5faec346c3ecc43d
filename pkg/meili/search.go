package meili

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/meilisearch/meilisearch-go"
)

// DecodeSearch reads the parts of a Meilisearch search answer a caller uses
// (hits, estimatedTotalHits, facetDistribution) from body, as
// json.Unmarshal into a meilisearch.SearchResponse would, without
// decoding through reflection: each hit's values are slices of body
// (json.RawMessage), found by walking the already-validated JSON once.
// It costs a fraction of the decoding meilisearch-go's Search does (the
// profile in docs/performance.md, "Search and mixed load: profile").
func DecodeSearch(body []byte) (*meilisearch.SearchResponse, error) {
	hits, total, facets, err := decodeAnswer[meilisearch.Hit](body, func(v []byte) json.RawMessage { return v })
	if err != nil {
		return nil, err
	}
	return &meilisearch.SearchResponse{Hits: hits, EstimatedTotalHits: total, FacetDistribution: facets}, nil
}

// SearchHits is a search answer as DecodeSearchHits reads it.
type SearchHits struct {
	// Hits are the hits, each field's value a json.RawMessage (a slice of
	// the answer), in maps of their own that the caller may change.
	Hits               []map[string]any
	EstimatedTotalHits int64
	FacetDistribution  json.RawMessage
}

// DecodeSearchHits reads a search answer as DecodeSearch does, with each
// hit in a map[string]any (its values json.RawMessage) instead of a
// meilisearch.Hit, for a caller that passes hits on as JSON (matching's
// search): it can change the hit's map in place, where a meilisearch.Hit
// had to be copied into a map[string]any, a tenth of matching's CPU per
// search answer (BenchmarkSearchAnswer in services/matching).
func DecodeSearchHits(body []byte) (*SearchHits, error) {
	hits, total, facets, err := decodeAnswer[map[string]any](body, func(v []byte) any { return json.RawMessage(v) })
	if err != nil {
		return nil, err
	}
	return &SearchHits{Hits: hits, EstimatedTotalHits: total, FacetDistribution: facets}, nil
}

// decodeAnswer reads a search answer's hits (each value made by val from
// its bytes), estimatedTotalHits and facetDistribution.
func decodeAnswer[H ~map[string]V, V any](body []byte, val func([]byte) V) (hits []H, total int64, facets json.RawMessage, err error) {
	if !json.Valid(body) {
		return nil, 0, nil, errors.New("meilisearch search answer: not valid JSON")
	}
	i := skipSpace(body, 0)
	_, err = eachMember(body, i, func(key string, v []byte) error {
		var err error
		switch key {
		case "hits":
			hits, err = decodeHits[H](v, val)
		case "estimatedTotalHits":
			err = json.Unmarshal(v, &total)
		case "facetDistribution":
			facets = json.RawMessage(v)
		}
		return err
	})
	if err != nil {
		return nil, 0, nil, fmt.Errorf("meilisearch search answer: %w", err)
	}
	return hits, total, facets, nil
}

// hitFields is room for a posting's fields in a hit (about 30 in the
// postings index), so that a hit's map is not grown field by field: the
// growing was 7% of matching's CPU per search answer (BenchmarkSearchAnswer).
const hitFields = 40

// decodeHits reads the array of hit objects v.
func decodeHits[H ~map[string]V, V any](v []byte, val func([]byte) V) ([]H, error) {
	if string(v) == "null" {
		return nil, nil
	}
	if v[0] != '[' {
		return nil, errors.New("hits is not an array")
	}
	hits := []H{}
	i := skipSpace(v, 1)
	for v[i] != ']' {
		if v[i] != '{' {
			return nil, errors.New("a hit is not an object")
		}
		h := make(H, hitFields)
		end, err := eachMember(v, i, func(key string, b []byte) error {
			h[key] = val(b)
			return nil
		})
		if err != nil {
			return nil, err
		}
		hits = append(hits, h)
		i = skipSpace(v, end)
		if v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return hits, nil
}

// eachMember calls fn with the key and the value (a slice of b) of each
// member of the object that starts at b[i], and returns the index just
// past the object. b must be valid JSON.
func eachMember(b []byte, i int, fn func(key string, v []byte) error) (int, error) {
	if b[i] != '{' {
		return 0, errors.New("not an object")
	}
	i = skipSpace(b, i+1)
	if b[i] == '}' {
		return i + 1, nil
	}
	for {
		kEnd := stringEnd(b, i)
		key, err := jsonKey(b[i:kEnd])
		if err != nil {
			return 0, err
		}
		i = skipSpace(b, skipSpace(b, kEnd)+1) // past the colon
		vEnd := valueEnd(b, i)
		if err := fn(key, b[i:vEnd]); err != nil {
			return 0, err
		}
		i = skipSpace(b, vEnd)
		if b[i] == '}' {
			return i + 1, nil
		}
		i = skipSpace(b, i+1) // past the comma
	}
}

// jsonKey is the quoted key q as a string; only a key with an escape is
// decoded.
func jsonKey(q []byte) (string, error) {
	for _, c := range q[1 : len(q)-1] {
		if c == '\\' {
			var s string
			err := json.Unmarshal(q, &s)
			return s, err
		}
	}
	return string(q[1 : len(q)-1]), nil
}

// valueEnd returns the index just past the JSON value that starts at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	default: // a number, true, false or null
		for i < len(b) && !isDelim(b[i]) {
			i++
		}
		return i
	}
}

// stringEnd returns the index just past the string that starts at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

func isDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}
