package geo

import (
	"bytes"
	"os"
	"testing"
)

// FuzzLoadZCTA: any input either loads, with every entry a valid point, or
// fails with an error; it never panics.
func FuzzLoadZCTA(f *testing.F) {
	if seed, err := os.ReadFile("testdata/zips.csv"); err == nil {
		f.Add(seed)
	}
	f.Add([]byte("zip,lat,lon\n10001,40.75,-73.99\n"))
	f.Add([]byte("zip,lat,lon\n1000,91,-200\n"))
	f.Add([]byte("zip,lat\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		z, err := LoadZCTA(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, zip := range []string{"10001", "00000", "99999"} {
			if p, ok := z.Lookup(zip); ok && !p.Valid() {
				t.Fatalf("%s loaded as invalid point %+v", zip, p)
			}
		}
	})
}
