// Package geo places US postings and seekers on the map: it resolves ZIP codes
// to the centroid of their ZIP Code Tabulation Area (ZCTA) and measures
// great-circle distances, so that matching can answer "within 25 miles of me"
// without a geocoding service.
//
// The package is pure: the ZCTA table is decoded from a reader the caller
// opens, and nothing here touches the network, the disk or the clock.
package geo

import "math"

// earthRadiusMiles is the mean Earth radius (IUGG, 6371.0088 km). Haversine on
// a sphere is off by up to about 0.5% against the ellipsoid, far below the
// error of using a ZIP centroid as someone's address.
const earthRadiusMiles = 3958.7613

// Point is a position in decimal degrees (WGS 84).
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Valid reports whether p is a real coordinate: finite, latitude within ±90
// and longitude within ±180. The null island (0, 0) counts as invalid because
// it is what a missing coordinate decodes to, and no US ZIP lies there.
func (p Point) Valid() bool {
	if math.IsNaN(p.Lat) || math.IsNaN(p.Lon) || math.IsInf(p.Lat, 0) || math.IsInf(p.Lon, 0) {
		return false
	}
	if p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 {
		return false
	}
	return p.Lat != 0 || p.Lon != 0
}

// DistanceMiles returns the great-circle distance between a and b in statute
// miles, by the haversine formula (stable for short distances, unlike the
// spherical law of cosines).
func DistanceMiles(a, b Point) float64 {
	const rad = math.Pi / 180
	lat1, lat2 := a.Lat*rad, b.Lat*rad
	dLat := lat2 - lat1
	dLon := (b.Lon - a.Lon) * rad
	s := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1)*math.Cos(lat2)*math.Sin(dLon/2)*math.Sin(dLon/2)
	// Rounding can push s a hair above 1 for antipodal points; Asin would
	// then return NaN.
	s = math.Min(1, math.Max(0, s))
	return 2 * earthRadiusMiles * math.Asin(math.Sqrt(s))
}
