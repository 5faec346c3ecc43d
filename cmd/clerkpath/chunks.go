package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/posting"
)

// chunkRecords is how many postings one request carries: well under
// posting.MaxRecords and the 8 MiB request limit for typical postings.
const chunkRecords = 200

// chunk is a piece of a file that is a valid document of its format by
// itself, with what is needed to map record numbers back to the file.
type chunk struct {
	contentType string
	data        []byte
	firstIndex  int   // index in the file of the chunk's first record
	lines       []int // 1-based file line of each record of the chunk (nil: unknown)
	bytes       int64 // file bytes consumed, for progress
}

// mediaTypeOf picks the format from the file name, and tells JSON-LD from
// plain JSON by content.
func mediaTypeOf(name string, head []byte) (string, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".ndjson", ".jsonl":
		return posting.MediaNDJSON, nil
	case ".csv":
		return posting.MediaCSV, nil
	case ".jsonld":
		return posting.MediaJSONLD, nil
	case ".json":
		if bytes.Contains(head, []byte(`"@context"`)) || bytes.Contains(head, []byte(`"JobPosting"`)) {
			return posting.MediaJSONLD, nil
		}
		return posting.MediaJSON, nil
	}
	return "", fmt.Errorf("%s: unknown format; name it .json, .ndjson, .jsonl, .csv or .jsonld", name)
}

// splitFile streams r (a file of the given media type) as chunks of at most
// chunkRecords records, calling emit for each, so that files far larger
// than one request are sent in pieces and never held in memory whole.
func splitFile(r io.Reader, mediaType string, emit func(chunk) error) error {
	switch mediaType {
	case posting.MediaNDJSON:
		return splitNDJSON(r, emit)
	case posting.MediaCSV:
		return splitCSV(r, emit)
	case posting.MediaJSON:
		return splitJSON(r, emit)
	}
	// JSON-LD documents are sent whole (one object, an array or a @graph).
	data, err := io.ReadAll(io.LimitReader(r, posting.MaxBodyBytes+1))
	if err != nil {
		return err
	}
	if len(data) > posting.MaxBodyBytes {
		return fmt.Errorf("JSON-LD document larger than %d bytes: split it into several files", posting.MaxBodyBytes)
	}
	return emit(chunk{contentType: mediaType, data: data, bytes: int64(len(data))})
}

func splitNDJSON(r io.Reader, emit func(chunk) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), posting.MaxDescriptionBytes*2)
	var buf bytes.Buffer
	c := chunk{contentType: posting.MediaNDJSON}
	line, index := 0, 0
	flush := func() error {
		if len(c.lines) == 0 {
			return nil
		}
		c.data = append([]byte(nil), buf.Bytes()...)
		err := emit(c)
		buf.Reset()
		c = chunk{contentType: posting.MediaNDJSON, firstIndex: index}
		return err
	}
	for sc.Scan() {
		line++
		c.bytes += int64(len(sc.Bytes()) + 1)
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		buf.Write(sc.Bytes())
		buf.WriteByte('\n')
		c.lines = append(c.lines, line)
		index++
		if len(c.lines) == chunkRecords {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	return flush()
}

func splitCSV(r io.Reader, emit func(chunk) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("CSV header: %w", err)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	c := chunk{contentType: posting.MediaCSV}
	index := 0
	var last int64
	start := func() {
		buf.Reset()
		_ = w.Write(header)
	}
	flush := func() error {
		if len(c.lines) == 0 {
			return nil
		}
		w.Flush()
		c.data = append([]byte(nil), buf.Bytes()...)
		off := cr.InputOffset()
		c.bytes, last = off-last, off
		err := emit(c)
		c = chunk{contentType: posting.MediaCSV, firstIndex: index}
		start()
		return err
	}
	start()
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		_ = w.Write(rec)
		c.lines = append(c.lines, line)
		index++
		if len(c.lines) == chunkRecords {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func splitJSON(r io.Reader, emit func(chunk) error) error {
	br := bufio.NewReader(r)
	first, err := peekNonSpace(br)
	if err != nil {
		return err
	}
	if first != '[' {
		// One object: send it as it is.
		data, err := io.ReadAll(io.LimitReader(br, posting.MaxBodyBytes+1))
		if err != nil {
			return err
		}
		return emit(chunk{contentType: posting.MediaJSON, data: data, bytes: int64(len(data))})
	}
	dec := json.NewDecoder(br)
	if _, err := dec.Token(); err != nil {
		return err
	}
	var recs []json.RawMessage
	c := chunk{contentType: posting.MediaJSON}
	var last int64
	index := 0
	flush := func() error {
		if len(recs) == 0 {
			return nil
		}
		data, _ := json.Marshal(recs)
		c.data = data
		off := dec.InputOffset()
		c.bytes, last = off-last, off
		err := emit(c)
		recs = recs[:0]
		c = chunk{contentType: posting.MediaJSON, firstIndex: index}
		return err
	}
	for dec.More() {
		var m json.RawMessage
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("JSON array, record %d: %w", index, err)
		}
		recs = append(recs, m)
		index++
		if len(recs) == chunkRecords {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.ReadByte()
		default:
			return b[0], nil
		}
	}
}

// fileLine maps a chunk-relative record to its line in the file.
func (c chunk) fileLine(localIndex, localLine int) int {
	if localIndex >= 0 && localIndex < len(c.lines) {
		return c.lines[localIndex]
	}
	return localLine
}
