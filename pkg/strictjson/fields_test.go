package strictjson

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

type inner struct {
	B int    `json:"b,omitempty"`
	C string `json:"c"`
}

type outer struct {
	A string `json:"a,omitzero"`
	inner
	*Ptr
	D      []int `json:",omitempty"`
	Hidden int   `json:"-"`
	lower  int
	Named  inner `json:"named"`
}

type Ptr struct {
	P float64 `json:"p"`
}

// Fields names the members json.Marshal writes, in its order, with their
// options.
func TestFieldsAreTheMembersMarshalWrites(t *testing.T) {
	got := Fields(reflect.TypeFor[outer]())
	var names []string
	for _, f := range got {
		names = append(names, f.Name)
	}
	b, _ := json.Marshal(outer{A: "x", inner: inner{B: 1}, Ptr: &Ptr{P: 2}, D: []int{1}, lower: 3})
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, n := range names {
		if _, ok := m[n]; !ok {
			t.Errorf("%s is not a member of %s", n, b)
		}
	}
	if len(m) != len(names) || !slices.Equal(names, []string{"a", "b", "c", "p", "D", "named"}) {
		t.Errorf("fields %v, marshal wrote %s", names, b)
	}
	if !got[0].OmitZero || got[0].OmitEmpty || !got[1].OmitEmpty || got[2].OmitEmpty || !got[4].OmitEmpty {
		t.Errorf("options wrong: %+v", got)
	}
	if !slices.Equal(got[1].Index, []int{1, 0}) || got[3].Type.Kind() != reflect.Float64 {
		t.Errorf("index %v, type %v", got[1].Index, got[3].Type)
	}
}
