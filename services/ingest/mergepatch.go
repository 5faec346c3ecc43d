package ingest

import (
	"bytes"
	"encoding/json"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/strictjson"
)

// maxPatchDepth bounds the nesting of a merge patch.
const maxPatchDepth = 32

// MergePatch applies patch to doc as JSON Merge Patch (RFC 7396): an
// object patch merges member by member, null removes a member, anything
// else replaces the target. doc must be a JSON object (a stored posting);
// the patch must be an object too, since a posting cannot become a scalar.
func MergePatch(doc, patch []byte) ([]byte, error) {
	patch = bytes.TrimSpace(patch)
	if len(patch) == 0 || patch[0] != '{' {
		return nil, apierr.InvalidFields(apierr.FieldError{Field: "body", Message: "a JSON Merge Patch object (RFC 7396): the fields to change, null to remove one"})
	}
	if err := strictjson.CheckDepth(patch, maxPatchDepth); err != nil {
		return nil, err
	}
	var p any
	if err := json.Unmarshal(patch, &p); err != nil {
		return nil, strictjson.Explain(patch, err)
	}
	var d any
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, apierr.Wrap(err, apierr.Internal, "the stored posting cannot be read")
	}
	return json.Marshal(mergeValue(d, p))
}

func mergeValue(target, patch any) any {
	po, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	to, ok := target.(map[string]any)
	if !ok {
		to = map[string]any{}
	}
	for k, v := range po {
		if v == nil {
			delete(to, k)
			continue
		}
		to[k] = mergeValue(to[k], v)
	}
	return to
}
