package meili

import (
	"encoding/json"
	"strings"
	"testing"
)

// A raw answer is kept as Meilisearch sent it (without the whitespace
// around it, as json.Unmarshal keeps it), in memory of its own; any other
// target is decoded, and refused when it is not JSON, as by json.Unmarshal.
func TestUnmarshalKeepsRawAnswersAndDecodesTheRest(t *testing.T) {
	t.Parallel()
	body := []byte(" \n{\"hits\":[{\"id\":\"a\",\"title\":\"<b> & \\u2028\"}],\"estimatedTotalHits\":1}\r\n")
	var raw json.RawMessage
	if err := unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	var want json.RawMessage
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatal(err)
	}
	if string(raw) != string(want) {
		t.Fatalf("raw %q, want %q", raw, want)
	}
	copy(body, strings.Repeat("x", len(body)))
	if string(raw) != string(want) {
		t.Fatalf("raw shares the answer's buffer: %q", raw)
	}

	var res struct {
		Total int `json:"estimatedTotalHits"`
	}
	if err := unmarshal([]byte(`{"estimatedTotalHits":7}`), &res); err != nil || res.Total != 7 {
		t.Fatalf("struct: %+v, %v", res, err)
	}
	if err := unmarshal([]byte(`{"estimatedTotalHits":`), &res); err == nil {
		t.Fatal("a cut answer decoded into a struct without error")
	}
}

// What the raw path does not check, DecodeSearch does: a cut answer read
// raw is refused when decoded, not misread.
func TestARawAnswerIsCheckedWhenDecoded(t *testing.T) {
	t.Parallel()
	var raw json.RawMessage
	if err := unmarshal([]byte(`{"hits":[{"id":"a"}`), &raw); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeSearch(raw); err == nil {
		t.Fatal("DecodeSearch read a cut answer")
	}
}
