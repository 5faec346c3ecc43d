package ingest

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestMergePatchFollowsRFC7396(t *testing.T) {
	// The examples of RFC 7396, appendix A, whose target is an object.
	for _, tc := range []struct{ doc, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	} {
		got, err := MergePatch([]byte(tc.doc), []byte(tc.patch))
		if err != nil {
			t.Fatalf("%s + %s: %v", tc.doc, tc.patch, err)
		}
		var g, w any
		_ = json.Unmarshal(got, &g)
		_ = json.Unmarshal([]byte(tc.want), &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s + %s = %s, want %s", tc.doc, tc.patch, got, tc.want)
		}
	}
	for _, bad := range []string{``, `[]`, `"x"`, `null`, `{"a":`, `{"a":1}x`} {
		if _, err := MergePatch([]byte(`{}`), []byte(bad)); err == nil {
			t.Errorf("patch %q accepted", bad)
		}
	}
}

// FuzzMergePatch: any patch either fails with an error or yields a JSON
// object, and applying the same patch twice changes nothing more
// (RFC 7396 patches are idempotent).
func FuzzMergePatch(f *testing.F) {
	f.Add([]byte(`{"title":"x","salary_min":null}`))
	f.Add([]byte(`{"a":{"b":{"c":null}}}`))
	f.Add([]byte(`[]`))
	doc := []byte(`{"title":"Clerk","description":"Filing.","salary_min":12}`)
	f.Fuzz(func(t *testing.T, patch []byte) {
		once, err := MergePatch(doc, patch)
		if err != nil {
			return
		}
		var obj map[string]any
		if err := json.Unmarshal(once, &obj); err != nil {
			t.Fatalf("result is not an object: %s", once)
		}
		twice, err := MergePatch(once, patch)
		if err != nil {
			t.Fatalf("second application failed: %v", err)
		}
		var a, b any
		_ = json.Unmarshal(once, &a)
		_ = json.Unmarshal(twice, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("not idempotent: %s then %s", once, twice)
		}
	})
}
