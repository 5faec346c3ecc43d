package posting

import (
	"bytes"
	"os"
	"strings"
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

// BenchmarkExtractAdversarial runs Extract on descriptions of the maximum
// size built to defeat it: one clause packed with credentials and cues,
// endless lists and sentences. Each should cost time linear in its size,
// a few milliseconds, never seconds.
func BenchmarkExtractAdversarial(b *testing.B) {
	n := MaxDescriptionBytes
	for name, text := range map[string]string{
		"one-clause":     strings.Repeat("RHIT required CCS preferred ", n/28),
		"comma-list":     strings.Repeat("RHIT, RHIA, ", n/12),
		"sentences":      strings.Repeat("RHIT. CCS and CPC. ", n/19),
		"dots":           strings.Repeat("a.", n/2),
		"eligible-chain": strings.Repeat("RHIT or eligible or ", n/20),
		// Routes: an "or" between kinds, an opener's endless items, lines
		// joined by "OR", a ladder of levels.
		"or-kinds":     strings.Repeat("RHIT or 2 years of experience or an associate degree or ", n/56),
		"opener-items": "Meet one of the following: " + strings.Repeat("(a) RHIT; ", n/10),
		"or-lines":     strings.Repeat("RHIT with 2 years of coding\nOR\n", n/29),
		"ladder":       strings.Repeat("Coder I\n- CCA\nCoder II\n- CCS\n", n/30),
		"families":     strings.Repeat("AHIMA or AAPC coding credential or ", n/35),
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				Extract("", text)
			}
		})
	}
}
