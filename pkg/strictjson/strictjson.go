// Package strictjson decodes JSON request bodies strictly — unknown fields,
// trailing data, wrong types and syntax errors are rejected — and turns each
// failure into an apierr field error a client can act on (with line and
// column for syntax errors).
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

// MaxDepth bounds nesting so that hostile input cannot exhaust the stack.
const MaxDepth = 32

// Decode decodes data into v, rejecting unknown fields. A nil error means v
// holds the whole document.
func Decode(data []byte, v any) error {
	return decode(data, v, true)
}

// DecodeLenient is Decode without the unknown-field check, for documents
// that carry vocabulary we do not model (JSON-LD, for example).
func DecodeLenient(data []byte, v any) error {
	return decode(data, v, false)
}

func decode(data []byte, v any, strict bool) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return apierr.InvalidFields(apierr.FieldError{Field: "body", Message: "empty body; want a JSON document"})
	}
	if !utf8.Valid(data) {
		return apierr.InvalidFields(apierr.FieldError{Field: "body", Message: "not valid UTF-8"})
	}
	if err := CheckDepth(data, MaxDepth); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return Explain(data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		line, col := Position(data, dec.InputOffset())
		return apierr.InvalidFields(apierr.FieldError{Field: "body", Message: fmt.Sprintf("unexpected data after the JSON document at line %d, column %d", line, col)})
	}
	return nil
}

// Explain turns an encoding/json error into a field error.
func Explain(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := Position(data, syn.Offset)
		return apierr.InvalidFields(apierr.FieldError{Field: "body", Message: fmt.Sprintf("malformed JSON at line %d, column %d: %s", line, col, syn.Error())})
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return apierr.InvalidFields(apierr.FieldError{Field: field, Message: fmt.Sprintf("want %s, got JSON %s", typeName(typ.Type.String()), typ.Value)})
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return apierr.InvalidFields(apierr.FieldError{Field: "body", Message: "JSON ends too early"})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apierr.InvalidFields(apierr.FieldError{Field: name, Message: "unknown field"})
	default:
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return ae
		}
		return apierr.InvalidFields(apierr.FieldError{Field: "body", Message: err.Error()})
	}
}

func typeName(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "an array"
	case strings.HasPrefix(t, "map["), strings.Contains(t, "."):
		return "an object"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	}
	return t
}

// Position converts a byte offset into 1-based line and column.
func Position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	line, col = 1, 1
	for _, b := range data[:offset] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// CheckDepth rejects documents nested deeper than max, scanning bytes
// without allocating (strings are skipped, escapes honoured).
func CheckDepth(data []byte, max int) error {
	depth, inStr, esc := 0, false, false
	for i, b := range data {
		if inStr {
			switch {
			case esc:
				esc = false
			case b == '\\':
				esc = true
			case b == '"':
				inStr = false
			}
			continue
		}
		switch b {
		case '"':
			inStr = true
		case '{', '[':
			depth++
			if depth > max {
				line, col := Position(data, int64(i))
				return apierr.InvalidFields(apierr.FieldError{Field: "body", Message: fmt.Sprintf("JSON nested deeper than %d levels at line %d, column %d", max, line, col)})
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}
