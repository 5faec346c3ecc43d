package posting

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkNormalizeExtract measures the whole per-posting cost in ingest:
// HTML to text, validation, extraction, SimHash and fingerprint, on a
// typical 3 KB hospital posting.
func BenchmarkNormalizeExtract(b *testing.B) {
	body, err := os.ReadFile("testdata/bench/typical.json")
	if err != nil {
		b.Fatal(err)
	}
	batch, err := Decode(MediaJSON, bytes.NewReader(body), DecodeOptions{})
	if err != nil || len(batch.Records) != 1 {
		b.Fatalf("decode: %v %+v", err, batch.Errors)
	}
	opt := NormalizeOptions{Now: labelledNow, Geo: testZCTA(b), Extractor: DefaultExtractor()}
	r := batch.Records[0]
	b.SetBytes(int64(len(r.Description)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Normalize(r, opt); err != nil {
			b.Fatal(err)
		}
	}
}
