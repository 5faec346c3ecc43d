package geo

import (
	"math"
	"math/rand/v2"
	"testing"
)

func covered(boxes []Box, p Point) bool {
	for _, b := range boxes {
		if b.Contains(p) {
			return true
		}
	}
	return false
}

// Every point within the radius, by the distance the trim uses, is in a
// box: points on the circle itself in every direction, and random points
// inside it; centres everywhere, near the poles and across the
// antimeridian (the Aleutians) included.
func TestCoverHoldsTheWholeCircle(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	centres := []Point{{40.7, -74.0}, {61.2, -149.9}, {51.9, 179.9}, {52.0, -179.95}, {-33.9, 151.2}, {0, 0}, {88.5, 10}, {-89, 0}, {21.3, -157.8}}
	for range 300 {
		centres = append(centres, Point{Lat: r.Float64()*178 - 89, Lon: r.Float64()*360 - 180})
	}
	for _, c := range centres {
		for _, miles := range []float64{0, 1, 10, 25, 100, 500, 2000} {
			boxes := Cover(c, miles, CoverBands)
			for _, b := range boxes {
				if b.MinLon > b.MaxLon || b.MinLon < -180 || b.MaxLon > 180 || b.MinLat > b.MaxLat || b.MinLat < -90 || b.MaxLat > 90 {
					t.Fatalf("Cover(%v, %g): bad box %+v", c, miles, b)
				}
			}
			for i := range 200 {
				var p Point
				if i < 100 { // on the circle, a hair inside
					p = Destination(c, miles*(1-1e-9), 360*float64(i)/100)
				} else {
					p = Destination(c, miles*math.Sqrt(r.Float64()), 360*r.Float64())
				}
				if DistanceMiles(c, p) > miles {
					continue
				}
				if !covered(boxes, p) {
					t.Fatalf("Cover(%v, %g miles) misses %v at %.6f miles: %+v", c, miles, p, DistanceMiles(c, p), boxes)
				}
			}
		}
	}
}

// The boxes hold little beyond the circle: away from the poles, no corner
// of a band lies farther than the radius's band-height share beyond it,
// and in a US city at 25 miles sampled points of the boxes are mostly
// within the radius.
func TestCoverIsTight(t *testing.T) {
	c := Point{39.96, -83.0}
	boxes := Cover(c, 25, CoverBands)
	if len(boxes) != CoverBands {
		t.Fatalf("%d boxes, want %d", len(boxes), CoverBands)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var in, all int
	for _, b := range boxes {
		for _, corner := range []Point{{b.MinLat, b.MinLon}, {b.MinLat, b.MaxLon}, {b.MaxLat, b.MinLon}, {b.MaxLat, b.MaxLon}} {
			if d := DistanceMiles(c, corner); d > 25*1.3 {
				t.Errorf("corner %v of %+v is %.1f miles out, want ≤ 32.5", corner, b, d)
			}
		}
		for range 2000 {
			p := Point{Lat: b.MinLat + r.Float64()*(b.MaxLat-b.MinLat), Lon: b.MinLon + r.Float64()*(b.MaxLon-b.MinLon)}
			all++
			if DistanceMiles(c, p) <= 25 {
				in++
			}
		}
	}
	if share := float64(in) / float64(all); share < 0.88 {
		t.Errorf("%.2f of the boxes' points are within the radius, want ≥ 0.88", share)
	}
}

// Destination goes the distance it is asked to, on the bearing asked for.
func TestDestination(t *testing.T) {
	c := Point{39.96, -83.0}
	for _, b := range []float64{0, 45, 90, 180, 270} {
		p := Destination(c, 25, b)
		if d := DistanceMiles(c, p); math.Abs(d-25) > 1e-6 {
			t.Errorf("bearing %g: %.9f miles, want 25", b, d)
		}
	}
	if p := Destination(c, 25, 0); p.Lat <= c.Lat || math.Abs(p.Lon-c.Lon) > 1e-9 {
		t.Errorf("north: %v", p)
	}
	if p := Destination(Point{52, 179.9}, 20, 90); p.Lon > -179 || p.Lon < -180 {
		t.Errorf("east across the antimeridian: %v", p)
	}
}
