package seekerindex

import (
	"encoding/json"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/seedgen"
)

// BenchmarkIndexBytesPerSeeker reports the live heap the index holds per
// seeker (a profile and up to two credentials each), after a GC. Each
// profile and credential is decoded from JSON, as the service's consumer decodes the
// event: every string its own allocation.
func BenchmarkIndexBytesPerSeeker(b *testing.B) {
	const n = 100_000
	places := []geo.Point{{Lat: 40, Lon: -83}, {Lat: 34, Lon: -118}, {Lat: 41.8, Lon: -87.6}}
	codes := []string{"CCA", "RHIT", "CPC", "CRC", "CHDA"}
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ix := newIndex(b)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range n {
			id := "s" + strconv.Itoa(i)
			raw, err := json.Marshal(seedgen.Seeker(r, id, places))
			if err != nil {
				b.Fatal(err)
			}
			var sk profile.Seeker
			if err := json.Unmarshal(raw, &sk); err != nil {
				b.Fatal(err)
			}
			ix.SetAttrs(sk, 1)
			for k := range r.IntN(3) {
				var c profile.CredentialRecord
				if err := json.Unmarshal([]byte(`{"code":"`+codes[(i+k)%len(codes)]+`","earned_on":"2024-01-01"}`), &c); err != nil {
					b.Fatal(err)
				}
				ix.AddCredential(id, c, 2)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/seeker")
		runtime.KeepAlive(ix)
	}
}
