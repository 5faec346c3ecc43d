package posting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/strictjson"
)

// Media types Decode accepts. NDJSON goes by several names in the wild; all
// of them mean one JSON object per line.
const (
	MediaJSON   = "application/json"
	MediaNDJSON = "application/x-ndjson"
	MediaJSONL  = "application/jsonl"
	MediaCSV    = "text/csv"
	MediaJSONLD = "application/ld+json"
)

// DecodeOptions adjusts decoding. The zero value decodes every format with
// its documented field names.
type DecodeOptions struct {
	// Columns maps CSV header names to plain-shape field names, for exports
	// whose headers are not ours: {"Job Title": "title", "Posted": "date_posted"}.
	// Map a column to "-" to ignore it. Names on both sides are compared
	// case-insensitively, with spaces and hyphens read as underscores.
	Columns map[string]string
}

type format int

const (
	formatJSON format = iota
	formatNDJSON
	formatCSV
	formatJSONLD
)

// Decode reads a batch of postings from r according to contentType (a media
// type, parameters allowed; only charset=utf-8 is accepted).
//
// Whole-body problems fail the call with an apierr error: an unknown media
// type (Unsupported), a body over MaxBodyBytes or a batch over MaxRecords
// (TooLarge), an empty body, invalid UTF-8, JSON nested deeper than
// MaxJSONDepth, or JSON or CSV that cannot be parsed as a whole (Invalid,
// with line and column). Problems with one record become a RecordError in the
// Batch; the other records still decode.
//
// Decode checks shape and types only; Normalize checks values.
func Decode(contentType string, r io.Reader, opt DecodeOptions) (Batch, error) {
	f, err := formatOf(contentType)
	if err != nil {
		return Batch{}, err
	}
	body, err := readBody(r)
	if err != nil {
		return Batch{}, err
	}
	switch f {
	case formatJSON:
		return decodeJSON(body)
	case formatNDJSON:
		return decodeNDJSON(body)
	case formatCSV:
		return decodeCSV(body, opt.Columns)
	default:
		return decodeJSONLD(body)
	}
}

func formatOf(contentType string) (format, error) {
	unsupported := func() error {
		return apierr.New(apierr.Unsupported, "unsupported content type %q; send one of %s, %s (or %s), %s, %s",
			clip(contentType), MediaJSON, MediaNDJSON, MediaJSONL, MediaCSV, MediaJSONLD)
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, unsupported()
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return 0, apierr.New(apierr.Unsupported, "unsupported charset %q; send UTF-8", clip(cs))
	}
	switch mt {
	case MediaJSON:
		return formatJSON, nil
	case MediaNDJSON, MediaJSONL, "application/ndjson", "application/x-jsonlines", "application/jsonlines":
		return formatNDJSON, nil
	case MediaCSV:
		return formatCSV, nil
	case MediaJSONLD:
		return formatJSONLD, nil
	}
	return 0, unsupported()
}

// readBody reads at most MaxBodyBytes, then checks the bytes are UTF-8 text,
// so that no decoder ever sees an oversized or binary body.
func readBody(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("decode postings: read body: %w", err)
	}
	if len(body) > MaxBodyBytes {
		return nil, apierr.New(apierr.TooLarge, "body larger than %d bytes; split the batch", MaxBodyBytes)
	}
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, bodyError("empty body")
	}
	if !utf8.Valid(body) {
		line, col := strictjson.Position(body, int64(firstInvalidUTF8(body)))
		return nil, bodyError("not valid UTF-8 at line %d, column %d; send UTF-8 text", line, col)
	}
	return body, nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func bodyError(format string, args ...any) error {
	return apierr.InvalidFields(apierr.FieldError{Field: "body", Message: fmt.Sprintf(format, args...)})
}

func tooManyRecords() error {
	return apierr.New(apierr.TooLarge, "more than %d records in one batch; split the batch", MaxRecords)
}

// checkJSON refuses a JSON body that is nested too deeply or malformed,
// before anything is decoded from it.
func checkJSON(body []byte) error {
	if err := strictjson.CheckDepth(body, MaxJSONDepth); err != nil {
		return err
	}
	if !json.Valid(body) {
		// Unmarshal reports the syntax error with its offset in body (a
		// streaming Decoder's offsets are relative to its buffer).
		return strictjson.Explain(body, json.Unmarshal(body, new(json.RawMessage)))
	}
	return nil
}

// decodeJSON reads one object or an array of objects in the plain shape.
func decodeJSON(body []byte) (Batch, error) {
	if err := checkJSON(body); err != nil {
		return Batch{}, err
	}
	var b Batch
	err := eachElement(body, func(i int, line int, raw json.RawMessage) {
		b.add(decodePlainRecord(raw, i, line))
	})
	return b, err
}

// eachElement calls fn for the top-level object of body, or for each
// element of a top-level array, with its index and starting line. body must
// have passed checkJSON.
func eachElement(body []byte, fn func(i, line int, raw json.RawMessage)) error {
	start := firstNonSpace(body)
	switch body[start] {
	case '{':
		fn(0, lineAt(body, start), body[start:])
		return nil
	case '[':
	default:
		return bodyError("want a JSON object or an array of objects")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("decode postings: %w", err)
	}
	lines := lineCounter{body: body}
	for i := 0; dec.More(); i++ {
		if i == MaxRecords {
			return tooManyRecords()
		}
		off := elementStart(body, int(dec.InputOffset()))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("decode postings: element %d: %w", i, err)
		}
		fn(i, lines.at(off), raw)
	}
	return nil
}

// decodeNDJSON reads one plain-shape object per line. A malformed line is a
// RecordError, never a failed batch: NDJSON exists so that one bad line costs
// one record.
func decodeNDJSON(body []byte) (Batch, error) {
	var b Batch
	lineNo := 0
	for rest := body; len(rest) > 0; {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		lineNo++
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		i := len(b.Records) + len(b.Errors)
		if i == MaxRecords {
			return Batch{}, tooManyRecords()
		}
		if msg := lineProblem(line); msg != "" {
			b.add(Raw{}, RecordError{Index: i, Line: lineNo, Fields: []apierr.FieldError{{Field: fmt.Sprintf("records[%d]", i), Message: msg}}})
			continue
		}
		b.add(decodePlainRecord(line, i, lineNo))
	}
	return b, nil
}

// lineProblem checks one NDJSON line and describes what is wrong with it.
func lineProblem(line []byte) string {
	if strictjson.CheckDepth(line, MaxJSONDepth) != nil {
		return fmt.Sprintf("JSON nested deeper than %d levels", MaxJSONDepth)
	}
	if json.Valid(line) {
		return ""
	}
	var syn *json.SyntaxError
	if err := json.Unmarshal(line, new(json.RawMessage)); errors.As(err, &syn) {
		return fmt.Sprintf("malformed JSON at column %d: %s", syn.Offset, syn.Error())
	}
	return "malformed JSON: the line ends too early"
}

// decodePlainRecord decodes one JSON object in the plain shape, collecting
// every field problem rather than stopping at the first.
func decodePlainRecord(raw json.RawMessage, i, line int) (Raw, RecordError) {
	r := Raw{Index: i, Line: line}
	prefix := recordPrefix(i)
	var fs apierr.Fields
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		fs.Add(fmt.Sprintf("records[%d]", i), "want a JSON object")
		return r, RecordError{Index: i, Line: line, Fields: fs}
	}
	for name, v := range obj {
		vals, err := jsonValues(v)
		if err == nil {
			err = r.set(name, vals)
		}
		if err != nil {
			fs.Add(prefix+name, "%s", err.Error())
		}
	}
	checkSizes(&r, prefix, &fs)
	return r, RecordError{Index: i, Line: line, Fields: fs}
}

// jsonValues turns a JSON value into the text values set expects: a scalar
// becomes one value, an array of scalars several, null none.
func jsonValues(v json.RawMessage) ([]string, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return nil, nil
	}
	switch v[0] {
	case 'n':
		return nil, nil
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, errors.New("want a string")
		}
		return []string{s}, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			return nil, errors.New("want a list")
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			vals, err := jsonValues(it)
			if err != nil || len(vals) > 1 {
				return nil, errors.New("want a list of strings or numbers")
			}
			out = append(out, vals...)
		}
		return out, nil
	case '{':
		return nil, errors.New("want a string or number, got an object")
	}
	// Numbers and booleans: their JSON text is the value.
	return []string{string(v)}, nil
}

// add appends a decoded record, or its error when it has one.
func (b *Batch) add(r Raw, e RecordError) {
	if len(e.Fields) > 0 {
		slices.SortStableFunc(e.Fields, func(x, y apierr.FieldError) int { return strings.Compare(x.Field, y.Field) })
		b.Errors = append(b.Errors, e)
		return
	}
	b.Records = append(b.Records, r)
}

func firstNonSpace(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return i
		}
	}
	return len(b)
}

// elementStart skips the whitespace and comma between array elements, so that
// a record's line is the line of its opening brace.
func elementStart(body []byte, off int) int {
	for off < len(body) {
		switch body[off] {
		case ' ', '\t', '\n', '\r', ',':
			off++
		default:
			return off
		}
	}
	return off
}

func lineAt(body []byte, off int) int {
	return bytes.Count(body[:off], []byte("\n")) + 1
}

// lineCounter finds the lines of increasing offsets in one pass over the
// body, where calling lineAt per record would be quadratic.
type lineCounter struct {
	body []byte
	off  int
	line int
}

func (c *lineCounter) at(off int) int {
	if c.line == 0 {
		c.line = 1
	}
	if off < c.off { // not increasing: start again
		c.off, c.line = 0, 1
	}
	c.line += bytes.Count(c.body[c.off:off], []byte("\n"))
	c.off = off
	return c.line
}
