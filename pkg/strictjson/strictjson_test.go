package strictjson

import (
	"strings"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

type sample struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	Items []int  `json:"items"`
}

func TestDecodeErrorsNameTheProblem(t *testing.T) {
	cases := []struct {
		name, body, field, contains string
	}{
		{"unknown field", `{"name":"a","colour":1}`, "colour", "unknown field"},
		{"wrong type", `{"count":"three"}`, "count", "whole number"},
		{"syntax", "{\n  \"name\": \"a\",,\n}", "body", "line 2, column"},
		{"trailing", `{"name":"a"} {"name":"b"}`, "body", "after the JSON document"},
		{"empty", `   `, "body", "empty body"},
		{"truncated", `{"name":"a"`, "body", "ends too early"},
		{"bad utf8", "{\"name\":\"\xff\"}", "body", "UTF-8"},
		{"deep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), "body", "nested deeper"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s sample
			err := Decode([]byte(tc.body), &s)
			e := apierr.As(err)
			if e.Code != apierr.Invalid || len(e.Fields) != 1 {
				t.Fatalf("got %v, want one invalid field", err)
			}
			if e.Fields[0].Field != tc.field || !strings.Contains(e.Fields[0].Message, tc.contains) {
				t.Fatalf("got %+v, want field %q containing %q", e.Fields[0], tc.field, tc.contains)
			}
		})
	}
}

func TestDecodeAcceptsGoodInput(t *testing.T) {
	var s sample
	if err := Decode([]byte(`{"name":"a \"[{\" b","count":3,"items":[1,2]}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.Name != `a "[{" b` || s.Count != 3 || len(s.Items) != 2 {
		t.Fatalf("decoded %+v", s)
	}
	if err := DecodeLenient([]byte(`{"name":"a","extra":{"x":1}}`), &s); err != nil {
		t.Fatalf("lenient: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"name":"a","count":1,"items":[1]}`, `[`, `{"a":`, `"x"`, "{\"name\":\"\\u00e9\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s sample
		err := Decode(data, &s)
		if err != nil && apierr.CodeOf(err) != apierr.Invalid {
			t.Fatalf("non-invalid error %v", err)
		}
	})
}
