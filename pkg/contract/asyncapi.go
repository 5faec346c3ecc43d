package contract

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/clerkpath/clerkpath/pkg/strictjson"
)

// AsyncAPI renders every service's endpoints and topics as an AsyncAPI 3.0
// document (JSON), with JSON Schemas derived from the Go types. It is
// deterministic: docs/asyncapi.json is this output, checked by the tests.
func AsyncAPI(version string) ([]byte, error) {
	channels := map[string]any{}
	operations := map[string]any{}
	schemas := map[string]any{}
	sg := schemaGen{defs: schemas}
	for _, svc := range Services() {
		for _, t := range svc.Topics {
			id := channelID(t.Subject)
			addr := t.Subject
			params := map[string]any(nil)
			if t.Keyed {
				addr += "{id}"
				params = map[string]any{"id": map[string]any{"description": "the entity's id"}}
			}
			msg := map[string]any{
				"name":        t.Type,
				"contentType": "application/json",
				"payload":     sg.of(t.Payload),
			}
			if t.Sealed {
				msg["description"] = "Sealed with the entity's own key (pkg/shred): the payload shown is the opened one."
			}
			ch := map[string]any{
				"address":     addr,
				"description": t.Doc,
				"messages":    map[string]any{"event": msg},
				"x-stream":    t.Stream,
			}
			if params != nil {
				ch["parameters"] = params
			}
			channels[id] = ch
			operations["publish-"+id] = map[string]any{
				"action":   "send",
				"channel":  map[string]any{"$ref": "#/channels/" + id},
				"summary":  svc.Name + " publishes " + t.Type,
				"x-source": svc.Name,
			}
		}
		for _, e := range svc.Endpoints {
			id := channelID(e.Subject)
			channels[id] = map[string]any{
				"address":     e.Subject,
				"description": e.Doc,
				"messages": map[string]any{
					"request": map[string]any{"name": e.Name + "-request", "contentType": "application/json", "payload": sg.of(e.Request)},
					"reply":   map[string]any{"name": e.Name + "-reply", "contentType": "application/json", "payload": sg.of(e.Reply)},
				},
			}
			operations["serve-"+id] = map[string]any{
				"action":   "receive",
				"channel":  map[string]any{"$ref": "#/channels/" + id},
				"summary":  svc.Name + " answers " + e.Name,
				"messages": []any{map[string]any{"$ref": "#/channels/" + id + "/messages/request"}},
				"reply": map[string]any{
					"channel":  map[string]any{"$ref": "#/channels/" + id},
					"messages": []any{map[string]any{"$ref": "#/channels/" + id + "/messages/reply"}},
				},
			}
		}
	}
	doc := map[string]any{
		"asyncapi": "3.0.0",
		"info": map[string]any{
			"title":       "clerkpath events and service endpoints",
			"version":     version,
			"description": "Generated from pkg/contract (`cd pkg && go test ./contract -update`); do not edit.",
		},
		"defaultContentType": "application/json",
		"channels":           channels,
		"operations":         operations,
		"components":         map[string]any{"schemas": schemas},
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func channelID(subject string) string {
	return strings.Trim(strings.NewReplacer(".", "-", ">", "all", "*", "any").Replace(subject), "-")
}

// schemaGen derives JSON Schemas from Go types, named struct types as
// components (so recursive and shared types are written once).
type schemaGen struct{ defs map[string]any }

var timeType = reflect.TypeFor[time.Time]()
var rawType = reflect.TypeFor[json.RawMessage]()

func (g schemaGen) of(t reflect.Type) any {
	if t == nil {
		return map[string]any{}
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{}
	}
	if t.Implements(reflect.TypeFor[json.Marshaler]()) || reflect.PointerTo(t).Implements(reflect.TypeFor[json.Marshaler]()) {
		return map[string]any{"description": "custom JSON (" + t.String() + ")"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.of(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.of(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.of(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		name := strings.ReplaceAll(t.String(), ".", "_")
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = nil // placeholder: recursion stops here
			g.defs[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func (g schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	g.fields(t, props, &required)
	sort.Strings(required)
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func (g schemaGen) fields(t reflect.Type, props map[string]any, required *[]string) {
	for _, f := range strictjson.Fields(t) {
		props[f.Name] = g.of(f.Type)
		if !f.OmitEmpty && !f.OmitZero && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, f.Name)
		}
	}
}

// Subjects lists every declared subject (topic subjects and prefixes, and
// endpoint subjects) with the contract package that declares it.
func Subjects() map[string][]string {
	out := map[string][]string{}
	for _, svc := range Services() {
		for _, t := range svc.Topics {
			out[t.Subject] = append(out[t.Subject], svc.Package)
		}
		for _, e := range svc.Endpoints {
			out[e.Subject] = append(out[e.Subject], svc.Package)
		}
	}
	return out
}
