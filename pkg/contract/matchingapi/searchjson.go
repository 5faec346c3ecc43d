package matchingapi

import (
	"encoding/json"
	"strconv"

	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// AppendJSON appends r's JSON, the bytes json.Marshal(r) gives, without
// json.Marshal's reflection and key sorting over every hit: rpc sends the
// search reply so (rpc.JSONAppender). It is not a json.MarshalJSON, so the
// contract's schema still describes the fields.
func (r SearchResponse) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"hits":`...)
	b, err := rpc.AppendJSONObjects(b, r.Hits)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"estimated_total":`...)
	b = strconv.AppendInt(b, r.EstimatedTotal, 10)
	b = append(b, `,"limit":`...)
	b = strconv.AppendInt(b, int64(r.Limit), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, int64(r.Offset), 10)
	facets, err := json.Marshal(r.Facets)
	if err != nil {
		return nil, err
	}
	b = append(append(b, `,"facets":`...), facets...)
	if r.NextCursor != "" {
		cursor, err := json.Marshal(r.NextCursor)
		if err != nil {
			return nil, err
		}
		b = append(append(b, `,"next_cursor":`...), cursor...)
	}
	return append(b, '}'), nil
}
