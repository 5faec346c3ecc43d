package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// curveSeries are the rows the scaling curve plots, by name prefix: each
// is clerkpath's figure and, where there is one, the baseline's.
var curveSeries = []struct{ label, prefix, unit string }{
	{"ingest to searchable", "ingest ", "s"},
	{"public search, 32 clients", "public search throughput, 32 clients", "req/s"},
	{"forward match p99", "forward match (GET /v1/seekers/{id}/matches), p99", "ms"},
	{"reverse matched p95", "posting acknowledged → reverse matched and announced, p95", "ms"},
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
	const pw, ph, pad = 300, 200, 50
	width := len(curveSeries)*(pw+pad) + pad
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", width, ph+2*pad+20)
	fmt.Fprintf(w, `<text x="%d" y="18" font-size="13">clerkpath bench: scaling with postings (seekers as run); solid clerkpath, dashed baseline</text>`+"\n", pad)
	xs := func(n int) float64 { return math.Log10(float64(max(n, 1))) }
	minX, maxX := xs(runs[0].Postings), xs(runs[len(runs)-1].Postings)
	if maxX-minX < 1 {
		minX, maxX = minX-0.5, maxX+0.5
	}
	for i, s := range curveSeries {
		x0, y0 := float64(pad+i*(pw+pad)), float64(pad+20)
		var ours, base []struct{ x, y float64 }
		top := 0.0
		for _, r := range runs {
			for _, row := range r.Rows {
				if !strings.HasPrefix(row.Name, s.prefix) {
					continue
				}
				ours = append(ours, struct{ x, y float64 }{xs(r.Postings), row.Ours})
				top = max(top, row.Ours)
				if row.Baseline > 0 {
					base = append(base, struct{ x, y float64 }{xs(r.Postings), row.Baseline})
					top = max(top, row.Baseline)
				}
				break
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
	fmt.Fprintf(w, `<text x="%d" y="%d">postings (log scale)</text>`+"\n", pad, ph+2*pad+15)
	_, err := fmt.Fprintln(w, "</svg>")
	return err
}
