package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/clerkpath/clerkpath/services/matching"
)

// curveSeries are what the scaling curve plots, one panel each: from a
// run's results clerkpath's figure and, where there is one, the
// baseline's (ok false: the run has no such figure).
var curveSeries = []struct {
	label, unit string
	value       func(r benchResult) (ours, base float64, ok bool)
}{
	{"ingest to searchable", "s", rowSeries("ingest ", "")},
	{"reverse matched p95", "ms", rowSeries("posting acknowledged → reverse matched and announced", ", p95")},
	{"forward match p99", "ms", rowSeries("forward match (GET /v1/seekers/{id}/matches), p99", "")},
	{"public search, 32 clients", "req/s", rowSeries("public search throughput, 32 clients", "")},
	{"peak RSS, matching", "MB", rssSeries(matching.Name)},
	{"peak RSS, all services", "MB", rssSeries("")},
}

// rowSeries is the first row named prefix…suffix.
func rowSeries(prefix, suffix string) func(benchResult) (float64, float64, bool) {
	return func(r benchResult) (float64, float64, bool) {
		for _, row := range r.Rows {
			if strings.HasPrefix(row.Name, prefix) && strings.HasSuffix(row.Name, suffix) {
				return row.Ours, row.Baseline, true
			}
		}
		return 0, 0, false
	}
}

// rssSeries is the peak RSS of one service, or with "" the sum over the
// services (results from before the services ran as their own processes
// have one figure for all of them).
func rssSeries(service string) func(benchResult) (float64, float64, bool) {
	const allInOne = "clerkpath (all five services in one process)"
	return func(r benchResult) (float64, float64, bool) {
		if service != "" {
			mb, ok := r.RSSPeakMB[service]
			return mb, 0, ok && mb > 0
		}
		if mb, ok := r.RSSPeakMB[allInOne]; ok {
			return mb, 0, true
		}
		sum := 0.0
		for _, name := range benchServices {
			sum += max(0, r.RSSPeakMB[name])
		}
		return sum, 0, sum > 0
	}
}

// plotCurve writes an SVG of the scaling curve from bench results files:
// one panel a series, postings on a log x axis, clerkpath solid and the
// baseline dashed.
func plotCurve(w io.Writer, files []string) error {
	var runs []benchResult
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var r benchResult
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		runs = append(runs, r)
	}
	if len(runs) == 0 {
		return fmt.Errorf("no results to plot")
	}
	slices.SortFunc(runs, func(a, b benchResult) int { return a.Postings - b.Postings })
	const pw, ph, pad, cols, rowH = 300, 200, 50, 3, 270
	rows := (len(curveSeries) + cols - 1) / cols
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", cols*(pw+pad)+pad, 40+rows*rowH+20)
	fmt.Fprintf(w, `<text x="%d" y="18" font-size="13">clerkpath bench: scaling with postings (seekers as run); solid clerkpath, dashed baseline</text>`+"\n", pad)
	xs := func(n int) float64 { return math.Log10(float64(max(n, 1))) }
	minX, maxX := xs(runs[0].Postings), xs(runs[len(runs)-1].Postings)
	if maxX-minX < 1 {
		minX, maxX = minX-0.5, maxX+0.5
	}
	for i, s := range curveSeries {
		x0, y0 := float64(pad+i%cols*(pw+pad)), float64(40+i/cols*rowH)
		var ours, base []struct{ x, y float64 }
		top := 0.0
		for _, r := range runs {
			o, b, ok := s.value(r)
			if !ok {
				continue
			}
			ours = append(ours, struct{ x, y float64 }{xs(r.Postings), o})
			top = max(top, o)
			if b > 0 {
				base = append(base, struct{ x, y float64 }{xs(r.Postings), b})
				top = max(top, b)
			}
		}
		if top == 0 {
			top = 1
		}
		px := func(x float64) float64 { return x0 + (x-minX)/(maxX-minX)*pw }
		py := func(y float64) float64 { return y0 + ph - y/top*ph }
		fmt.Fprintf(w, `<rect x="%.0f" y="%.0f" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", x0, y0, pw, ph)
		fmt.Fprintf(w, `<text x="%.0f" y="%.0f">%s (%s), max %.4g</text>`+"\n", x0, y0-6, s.label, s.unit, top)
		for _, r := range runs {
			fmt.Fprintf(w, `<text x="%.0f" y="%.0f" text-anchor="middle">%d</text>`+"\n", px(xs(r.Postings)), y0+ph+14, r.Postings)
			fmt.Fprintf(w, `<text x="%.0f" y="%.0f" text-anchor="middle" fill="#666">%d</text>`+"\n", px(xs(r.Postings)), y0+ph+28, r.Seekers)
		}
		for _, line := range []struct {
			pts  []struct{ x, y float64 }
			dash string
		}{{ours, ""}, {base, ` stroke-dasharray="5,4"`}} {
			if len(line.pts) == 0 {
				continue
			}
			var b strings.Builder
			for _, p := range line.pts {
				fmt.Fprintf(&b, "%.1f,%.1f ", px(p.x), py(p.y))
				fmt.Fprintf(w, `<circle cx="%.1f" cy="%.1f" r="3"/>`+"\n", px(p.x), py(p.y))
			}
			fmt.Fprintf(w, `<polyline points="%s" fill="none" stroke="black"%s/>`+"\n", strings.TrimSpace(b.String()), line.dash)
		}
	}
	fmt.Fprintf(w, `<text x="%d" y="%d">x: postings (log scale), seekers in grey below</text>`+"\n", pad, 40+rows*rowH+10)
	_, err := fmt.Fprintln(w, "</svg>")
	return err
}
