package geo

import "math"

// Box is a latitude-longitude rectangle, bounds included. MinLon <=
// MaxLon always: a rectangle across the antimeridian is two boxes.
type Box struct {
	MinLat, MaxLat, MinLon, MaxLon float64
}

// Contains reports whether p lies in b.
func (b Box) Contains(p Point) bool {
	return p.Lat >= b.MinLat && p.Lat <= b.MaxLat && p.Lon >= b.MinLon && p.Lon <= b.MaxLon
}

// CoverBands is how many latitude bands Cover splits a circle into: the
// boxes then hold about 8 % more area than the circle (a single bounding
// box holds 27 % more), in a filter of 12 ranges of each coordinate.
const CoverBands = 12

// Cover returns boxes whose union holds every point within miles of c (by
// DistanceMiles): the circle cut into bands of latitude, each as wide as
// the circle is at its widest within the band, so that a search by plain
// ranges of latitude and longitude finds all of the circle and a little
// more (the corners of each band), which the caller trims with
// DistanceMiles. A circle reaching a pole is one box of all longitudes.
// Bounds are widened by a micro-degree (about 11 cm) against rounding.
func Cover(c Point, miles float64, bands int) []Box {
	const deg = 180 / math.Pi
	const slack = 1e-6
	if bands < 1 {
		bands = 1
	}
	d := math.Max(miles, 0) / earthRadiusMiles // angular radius
	lat0, lat1 := c.Lat-d*deg, c.Lat+d*deg
	if d >= math.Pi/2 || lat0 <= -90 || lat1 >= 90 {
		return []Box{{MinLat: math.Max(lat0-slack, -90), MaxLat: math.Min(lat1+slack, 90), MinLon: -180, MaxLon: 180}}
	}
	phiC := c.Lat / deg
	// widest is the circle's longitude half-width at latitude phi (radians),
	// 0 outside the circle: cos d = sin phi sin phiC + cos phi cos phiC cos dLon.
	width := func(phi float64) float64 {
		x := (math.Cos(d) - math.Sin(phi)*math.Sin(phiC)) / (math.Cos(phi) * math.Cos(phiC))
		return math.Acos(math.Max(-1, math.Min(1, x)))
	}
	// The half-width is greatest at the latitude where the circle touches
	// its meridians of extreme longitude, and falls away on both sides.
	peak := math.Asin(math.Min(1, math.Sin(phiC)/math.Cos(d)))
	out := make([]Box, 0, bands+1)
	step := (lat1 - lat0) / float64(bands)
	for i := range bands {
		lo, hi := lat0+float64(i)*step, lat0+float64(i+1)*step
		if i == bands-1 {
			hi = lat1
		}
		var w float64
		switch {
		case peak*deg < lo:
			w = width(lo / deg)
		case peak*deg > hi:
			w = width(hi / deg)
		default:
			w = width(peak)
		}
		w = w*deg + slack
		b := Box{MinLat: lo - slack, MaxLat: hi + slack, MinLon: c.Lon - w, MaxLon: c.Lon + w}
		switch {
		case w >= 180:
			b.MinLon, b.MaxLon = -180, 180
			out = append(out, b)
		case b.MinLon < -180:
			west := b
			west.MinLon, west.MaxLon = b.MinLon+360, 180
			b.MinLon = -180
			out = append(out, b, west)
		case b.MaxLon > 180:
			east := b
			east.MinLon, east.MaxLon = -180, b.MaxLon-360
			b.MaxLon = 180
			out = append(out, b, east)
		default:
			out = append(out, b)
		}
	}
	return out
}

// Destination is the point miles from p on the initial bearing bearing
// (degrees clockwise from north), longitude in [-180, 180).
func Destination(p Point, miles, bearing float64) Point {
	const rad = math.Pi / 180
	d, theta := miles/earthRadiusMiles, bearing*rad
	phi1, lam1 := p.Lat*rad, p.Lon*rad
	phi2 := math.Asin(math.Sin(phi1)*math.Cos(d) + math.Cos(phi1)*math.Sin(d)*math.Cos(theta))
	lam2 := lam1 + math.Atan2(math.Sin(theta)*math.Sin(d)*math.Cos(phi1), math.Cos(d)-math.Sin(phi1)*math.Sin(phi2))
	return Point{Lat: phi2 / rad, Lon: math.Mod(lam2/rad+540, 360) - 180}
}
