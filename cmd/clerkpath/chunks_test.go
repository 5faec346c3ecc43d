package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/posting"
)

// FuzzSplitFile: splitting never panics, never emits an empty or
// oversized chunk, and for NDJSON loses no record.
func FuzzSplitFile(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n\n{\"b\":2}\n"), uint8(0))
	f.Add([]byte("title,description\nx,\"multi\nline\"\ny,z\n"), uint8(1))
	f.Add([]byte(`[{"title":"a"},{"title":"b"}]`), uint8(2))
	f.Add([]byte(`{"title":"a"}`), uint8(2))
	f.Add([]byte(`{"@context":"https://schema.org","@type":"JobPosting"}`), uint8(3))
	types := []string{posting.MediaNDJSON, posting.MediaCSV, posting.MediaJSON, posting.MediaJSONLD}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		mt := types[int(kind)%len(types)]
		records := 0
		_ = splitFile(bytes.NewReader(data), mt, func(c chunk) error {
			if len(c.data) == 0 && mt != posting.MediaJSONLD && mt != posting.MediaJSON {
				t.Fatalf("empty chunk for %s", mt)
			}
			if len(c.lines) > chunkRecords {
				t.Fatalf("chunk of %d records", len(c.lines))
			}
			records += len(c.lines)
			return nil
		})
		if mt == posting.MediaNDJSON && len(data) < 1<<16 {
			want := 0
			for _, l := range strings.Split(string(data), "\n") {
				if strings.TrimSpace(l) != "" {
					want++
				}
			}
			if records != want {
				t.Fatalf("%d NDJSON records chunked, %d in the input", records, want)
			}
		}
	})
}

func TestSplitNDJSONKeepsLineNumbersAcrossChunks(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 450 {
		if i%10 == 0 {
			b.WriteString("\n") // blank lines are skipped but counted
		}
		b.WriteString(`{"title":"t"}` + "\n")
	}
	var chunks []chunk
	if err := splitFile(strings.NewReader(b.String()), posting.MediaNDJSON, func(c chunk) error { chunks = append(chunks, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 3 || chunks[1].firstIndex != 200 || chunks[2].firstIndex != 400 {
		t.Fatalf("%d chunks", len(chunks))
	}
	// Record 200 (0-based) is on line 200 + 21 blank lines before it + 1.
	if got := chunks[1].fileLine(0, 0); got != 222 {
		t.Fatalf("record 200 on line %d, want 222", got)
	}
}
