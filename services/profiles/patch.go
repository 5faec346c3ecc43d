package profiles

import (
	"bytes"
	"encoding/json"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/strictjson"
)

// mergeSeeker applies patch, a JSON Merge Patch (RFC 7396), to doc, a
// seeker's stored attributes, and decodes the result as strictly as a PUT
// body: a field the profile does not have, or a value of the wrong type, is
// a field error naming it. The result is neither normalised nor validated.
func mergeSeeker(doc, patch []byte) (profile.Seeker, error) {
	var sk profile.Seeker
	if err := checkMergePatch(patch); err != nil {
		return sk, err
	}
	merged, err := jsonpatch.MergePatch(doc, patch)
	if err != nil {
		return sk, apierr.InvalidFields(apierr.FieldError{Field: "body", Message: "not a JSON merge patch: " + err.Error()})
	}
	if err := strictjson.Decode(merged, &sk); err != nil {
		return sk, err
	}
	return sk, nil
}

// checkMergePatch accepts a well-formed JSON object of bounded depth; a
// merge patch that is not an object would replace the whole profile.
func checkMergePatch(patch []byte) error {
	var fields map[string]json.RawMessage
	if err := strictjson.DecodeLenient(patch, &fields); err != nil {
		return err
	}
	if fields == nil || !bytes.HasPrefix(bytes.TrimSpace(patch), []byte("{")) {
		return apierr.InvalidFields(apierr.FieldError{Field: "body", Message: `want a JSON object naming the fields to change, like {"skills":["ICD-10-CM"]}; null removes a field`})
	}
	return nil
}
