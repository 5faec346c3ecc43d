package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/clerkpath/clerkpath/pkg/supervise"
)

// machineCPU names the whole machine's busy time in a phase's CPU: every
// process's, ours and any other's.
const machineCPU = "machine (all processes)"

// phaseCPU is the CPU time each process used during one phase, so that a
// phase's wall time can be read as where the two cores went: which of our
// services, Meilisearch, Redis or the bench's own process (the embedded
// nats-server and the load generator).
type phaseCPU struct {
	Phase   string             `json:"phase"`
	Seconds float64            `json:"seconds"`     // the phase's wall time
	CPU     map[string]float64 `json:"cpu_seconds"` // by process; machineCPU is every process's
}

// cpuTimes is each process's CPU seconds so far (user + system), by name,
// and the machine's busy seconds under machineCPU; a process that cannot
// be read (it has exited) is left out.
func (st *benchStack) cpuTimes() map[string]float64 {
	out := map[string]float64{}
	if d, err := supervise.CPUTime(0); err == nil {
		out[benchProcessRSS] = d.Seconds()
	}
	for name, pid := range st.pids {
		if d, err := supervise.CPUTime(pid); err == nil {
			out[name] = d.Seconds()
		}
	}
	if d, err := supervise.MachineBusy(); err == nil {
		out[machineCPU] = d.Seconds()
	}
	return out
}

// cpuSince is the CPU each process used between two cpuTimes readings; a
// process missing from either reading is left out.
func cpuSince(before, after map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(after))
	for name, a := range after {
		if b, ok := before[name]; ok {
			out[name] = max(0, a-b)
		}
	}
	return out
}

// newPhaseCPU is the CPU of a phase from the readings at its start and end.
func newPhaseCPU(phase string, wall time.Duration, before, after map[string]float64) phaseCPU {
	return phaseCPU{Phase: phase, Seconds: wall.Seconds(), CPU: cpuSince(before, after)}
}

// cpuMeter starts measuring a span of the run by name; the func it
// returns ends the span and gives its CPU.
type cpuMeter func(name string) (end func() phaseCPU)

// meter is the run's cpuMeter: every span it ends is also kept in the
// results (cpu_by_phase).
func (r *benchRun) meter(name string) func() phaseCPU {
	return r.st.meter(func(p phaseCPU) { r.res.PhaseCPU = append(r.res.PhaseCPU, p) })(name)
}

// meter is a cpuMeter of the stack's processes and this one; keep, if
// not nil, is given every span as it ends.
func (st *benchStack) meter(keep func(phaseCPU)) cpuMeter {
	return func(name string) func() phaseCPU {
		t0, before := time.Now(), st.cpuTimes()
		return func() phaseCPU {
			p := newPhaseCPU(name, time.Since(t0), before, st.cpuTimes())
			if keep != nil {
				keep(p)
			}
			return p
		}
	}
}

// perRequestMS is each process's CPU a request in a span of n requests,
// in ms, largest first, with the processes' total (the machine's busy
// time, which holds them and anything else running, is left out): "total
// 6.1 = meilisearch 4.0, matching 0.9, ...".
func perRequestMS(p phaseCPU, n uint64) string {
	if n == 0 {
		return "no requests"
	}
	names := p.busiest()
	var total float64
	for _, name := range names {
		total += p.CPU[name]
	}
	parts := make([]string, 0, len(names))
	for _, name := range names {
		if ms := p.CPU[name] * 1000 / float64(n); ms >= 0.005 {
			parts = append(parts, fmt.Sprintf("%s %.2f", shortProcess(name), ms))
		}
	}
	return fmt.Sprintf("total %.2f = %s", total*1000/float64(n), strings.Join(parts, ", "))
}

// busiest is the span's processes, busiest first (then by name), without
// the machine's total.
func (p phaseCPU) busiest() []string {
	names := make([]string, 0, len(p.CPU))
	for n := range p.CPU {
		if n != machineCPU {
			names = append(names, n)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(p.CPU[b], p.CPU[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return names
}

// shortProcess is a process's name in a one-line note.
func shortProcess(name string) string {
	if name == benchProcessRSS {
		return "bench (nats-server, load generator)"
	}
	return name
}

// printPhaseCPU writes each span's CPU: the cores each process kept busy
// on average over it (1.00 is one core all of it), busiest first.
func printPhaseCPU(w io.Writer, spans []phaseCPU) {
	if len(spans) == 0 {
		return
	}
	fmt.Fprintln(w, "\nCPU by phase (cores busy on average: CPU seconds / wall seconds; machine = every process on it):")
	for _, p := range spans {
		if p.Seconds > 0 {
			fmt.Fprintf(w, "  %-28s %6.0f s  %s\n", p.Phase, p.Seconds, coresBusy(p))
		}
	}
}

// coresBusy is "machine 1.90: meilisearch 1.10, matching 0.30, ...": the
// cores each process kept busy on average over a span, busiest first.
func coresBusy(p phaseCPU) string {
	if p.Seconds <= 0 {
		return "no time"
	}
	names := p.busiest()
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.2f", shortProcess(n), p.CPU[n]/p.Seconds))
	}
	return fmt.Sprintf("machine %.2f: %s", p.CPU[machineCPU]/p.Seconds, strings.Join(parts, ", "))
}
