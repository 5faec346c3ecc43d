package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-io/nats.go/micro"
	"github.com/rs/zerolog"
)

// rawValues are valid JSON values as Meilisearch might send them: compact
// or not, with characters json.Marshal escapes, escaped quotes and
// backslashes (a string ending in one), nested objects and arrays.
var rawValues = []string{
	`"plain"`, `"Coder <ROI> & co"`, `"line\u2028sep"`, "\"line\u2028sep raw\"", `"caf\u00e9 – dash"`, "\"café\"",
	`"quote \" inside"`, `"ends in backslash \\"`, `"\\\" tricky"`, `12`, `-1.5e+3`, `true`, `null`,
	`{"lat":39.9,"lng":-83}`, `{ "lat" : 39.9 , "lng" : -83 }`, `["a", "b"]`, `["a","b",{"c":[1,2,{}]}]`,
	"[\n\t\"x\"\r\n]", `{"t":"a b c","u":"<>"}`, `""`, `{}`, `[]`,
}

// stringValues are Go strings json.Marshal quotes in every way it can.
var stringValues = []string{"", "plain", "2026-12-01", "a\"b", `a\b`, "<b>&", "tab\there", "nl\n", "\x00\x1f", "\x7f", "é", "\u2028", "\xff\xfe invalid", "emoji 😀"}

// randomObject is a map of the values a search hit holds: raw values,
// strings, ints, and others json.Marshal encodes (floats, bools, nil,
// nested maps, slices).
func randomObject(r *rand.Rand) map[string]any {
	keys := []string{"id", "title", "location", "age_days", "a<b", "k\"q", "é", "Zeta", "_z", "10", "2"}
	m := map[string]any{}
	for range r.IntN(len(keys) + 1) {
		k := keys[r.IntN(len(keys))]
		switch r.IntN(9) {
		case 0, 1, 2:
			m[k] = json.RawMessage(rawValues[r.IntN(len(rawValues))])
		case 3:
			m[k] = stringValues[r.IntN(len(stringValues))]
		case 4:
			m[k] = r.IntN(2000) - 1000
		case 5:
			m[k] = int64(r.Uint64() >> 1)
		case 6:
			m[k] = r.Float64() * 1e6
		case 7:
			m[k] = []any{nil, true, stringValues[r.IntN(len(stringValues))]}
		default:
			m[k] = map[string]any{"n": json.RawMessage(rawValues[r.IntN(len(rawValues))])}
		}
	}
	return m
}

// AppendJSONObjects gives the bytes json.Marshal gives, for random hits
// and for nil and empty ones.
func TestAppendJSONObjectsEncodesAsMarshal(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 14))
	cases := [][]map[string]any{nil, {}, {nil}, {{}},
		// neighbours with the same number of keys, some the same keys (which share one sorting)
		{{"b": 1, "a": 2}, {"a": 3, "b": 4}, {"a": 5, "c": 6}, nil, {"c": 7, "a": 8}, {"c": 9, "a": 1, "b": 2}, {}, {"b": 3, "a": 4}}}
	for range 500 {
		var ms []map[string]any
		for range r.IntN(4) {
			ms = append(ms, randomObject(r))
		}
		cases = append(cases, ms)
	}
	for _, v := range rawValues {
		cases = append(cases, []map[string]any{{"v": json.RawMessage(v)}})
	}
	for _, v := range stringValues {
		cases = append(cases, []map[string]any{{v: v}})
	}
	for _, ms := range cases {
		want, err := json.Marshal(ms)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AppendJSONObjects([]byte("prefix"), ms)
		if err != nil {
			t.Fatalf("%v: %v", ms, err)
		}
		if !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("%#v:\n got %s\nwant prefix%s", ms, got, want)
		}
	}
}

// A raw value that is not JSON is refused, as json.Marshal refuses it,
// when it would need compacting or escaping; an empty one always.
func TestAppendJSONObjectRefusesBrokenRawValues(t *testing.T) {
	t.Parallel()
	for _, v := range []string{``, `{"a": `, `[1, `} {
		if _, err := AppendJSONObject(nil, map[string]any{"v": json.RawMessage(v)}); err == nil {
			t.Errorf("%q: no error", v)
		}
	}
}

// appended is a reply whose AppendJSON gives other bytes than json.Marshal
// would, so that a test can tell which one the handler sent.
type appended struct {
	Field string `json:"field"`
	fail  bool
}

func (a appended) AppendJSON(b []byte) ([]byte, error) {
	if a.fail {
		return nil, errors.New("cannot encode")
	}
	return fmt.Appendf(b, `{"appended":%q}`, a.Field), nil
}

// The handler sends what a JSONAppender appends, and an internal error
// when it fails.
func TestHandlerSendsWhatAJSONAppenderAppends(t *testing.T) {
	nc := connect(t)
	svc, err := micro.AddService(nc, micro.Config{Name: "appender", Version: "0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Stop() })
	err = svc.AddEndpoint("append", Handler(nc, zerolog.Nop(), time.Second, func(ctx context.Context, r Request) (any, error) {
		return appended{Field: string(r.Data), fail: string(r.Data) == "fail"}, nil
	}), micro.WithEndpointSubject("test.append"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := CallRaw(context.Background(), nc, "test.append", []byte("x<y"), nil)
	if err != nil || string(got) != `{"appended":"x<y"}` {
		t.Fatalf("reply %s, %v; want what AppendJSON appends", got, err)
	}
	if _, err := CallRaw(context.Background(), nc, "test.append", []byte("fail"), nil); err == nil || err.Error() != "internal error" {
		t.Fatalf("a failed AppendJSON: %v, want internal error", err)
	}
}

// AppendJSONObject gives json.Marshal's bytes for any object a valid JSON
// text decodes to, its values kept raw as a Meilisearch hit's are (the
// fuzzer's), and for a key and a Go string of any bytes.
func FuzzAppendJSONObject(f *testing.F) {
	for _, v := range rawValues {
		f.Add(`{"v":`+v+`}`, "k", "s")
	}
	for _, s := range stringValues {
		f.Add(`{"a<b":"x","é":[1,{"b":"\u2028"}]}`, s, s)
	}
	f.Fuzz(func(t *testing.T, text, key, str string) {
		var raw map[string]json.RawMessage
		if json.Unmarshal([]byte(text), &raw) != nil {
			return
		}
		m := make(map[string]any, len(raw)+1)
		for k, v := range raw {
			m[k] = v
		}
		m[key] = str
		got, err := AppendJSONObject(nil, m)
		want, werr := json.Marshal(m)
		if (err == nil) != (werr == nil) {
			t.Fatalf("AppendJSONObject error %v, json.Marshal error %v, for %q", err, werr, text)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("for %q\n got %s\nwant %s", text, got, want)
		}
		both, err := AppendJSONObjects([]byte("x"), []map[string]any{m, nil, m})
		if err != nil {
			t.Fatal(err)
		}
		if w := "x[" + string(want) + ",null," + string(want) + "]"; string(both) != w {
			t.Fatalf("AppendJSONObjects\n got %s\nwant %s", both, w)
		}
	})
}
