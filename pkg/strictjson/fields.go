package strictjson

import (
	"reflect"
	"slices"
	"strings"
)

// Field is a member of the JSON object encoding/json makes of a struct:
// its key, the struct field's type and index path, and when it is left
// out.
type Field struct {
	Name  string
	Type  reflect.Type
	Index []int
	// OmitEmpty and OmitZero are the tag's options: the member is left
	// out when the value is empty (false, 0, "", a nil pointer, an empty
	// slice or map) or zero.
	OmitEmpty, OmitZero bool
}

// Fields lists the members encoding/json makes of struct type t, the
// fields of untagged embedded structs (or pointers to them) promoted.
func Fields(t reflect.Type) []Field { return fields(t, nil) }

func fields(t reflect.Type, at []int) []Field {
	var out []Field
	for i := range t.NumField() {
		f := t.Field(i)
		ft := f.Type
		if f.Anonymous && ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if !f.IsExported() && !(f.Anonymous && ft.Kind() == reflect.Struct) {
			continue // as encoding/json: an unexported embedded struct's fields are promoted
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		idx := append(slices.Clone(at), i)
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			out = append(out, fields(ft, idx)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		jf := Field{Name: name, Type: f.Type, Index: idx}
		for o := range strings.SplitSeq(opts, ",") {
			jf.OmitEmpty = jf.OmitEmpty || o == "omitempty"
			jf.OmitZero = jf.OmitZero || o == "omitzero"
		}
		out = append(out, jf)
	}
	return out
}
