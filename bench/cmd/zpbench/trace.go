package main

// Section 7: `zpoline trace -o /dev/null` against `strace -f -o /dev/null` (issue 5's
// speed target: at least 20 times faster), on a loop of getppid calls and on dd copying
// one byte per read and write.

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

type traceWorkload struct {
	label string
	calls func(n int) int // system calls made for size n
	argv  func(b *bench, n int) []string
	n     int // size under zpoline and natively
	nSlow int // size under strace (per-call figures scale)
}

type traceRow struct {
	label                   string
	native, zpoline, strace float64 // ns per call, whole process
}

var traceWorkloads = []traceWorkload{
	{"getppid loop (sysloop libc:getppid)", func(n int) int { return n },
		func(b *bench, n int) []string { return []string{b.sysloop, "libc:getppid@" + strconv.Itoa(n)} },
		1000000, 20000},
	{"dd if=/dev/zero of=/dev/null bs=1", func(n int) int { return 2 * n },
		func(b *bench, n int) []string {
			return []string{"dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=" + strconv.Itoa(n), "status=none"}
		},
		1000000, 20000},
}

// timeRun runs argv with stdout discarded and returns its wall time.
func (b *bench) timeRun(argv ...string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.o.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = b.baseEnv
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%v: %v\n%s", argv, err, tail(string(out), 800))
	}
	return d, nil
}

// measureTrace times each workload natively, under `zpoline trace -o /dev/null` and under
// `strace -f -o /dev/null` (smaller, scaled per call), taking the median of the trials.
func (b *bench) measureTrace() []traceRow {
	zp := filepath.Join(b.build, "zpoline")
	if _, err := os.Stat(zp); err != nil {
		fatalf("section 7 needs %s (make builds it): %v", zp, err)
	}
	var rows []traceRow
	for _, w := range traceWorkloads {
		progress("trace: %s", w.label)
		per := func(prefix []string, n int) float64 {
			var xs []float64
			for i := 0; i < max(3, b.o.trials/2); i++ {
				d, err := b.timeRun(append(prefix, w.argv(b, n)...)...)
				if err != nil {
					fatalf("section 7: %v", err)
				}
				xs = append(xs, float64(d.Nanoseconds())/float64(w.calls(n)))
			}
			return median(xs)
		}
		r := traceRow{label: w.label, strace: math.NaN()}
		r.native = per(nil, w.n)
		r.zpoline = per([]string{zp, "trace", "-o", "/dev/null", "--"}, w.n)
		if b.strace != "" {
			r.strace = per([]string{b.strace, "-f", "-o", "/dev/null"}, w.nSlow)
		}
		rows = append(rows, r)
	}
	return rows
}

func printTrace(rows []traceRow) {
	section(7, "zpoline trace -o /dev/null vs strace -f -o /dev/null (issue 5: >= 20x faster)")
	t := newTable(1, "workload", "native ns/call", "zpoline trace", "strace -f", "speed-up", "verdict")
	for _, r := range rows {
		ratio := r.strace / r.zpoline
		verdict := "ok"
		switch {
		case math.IsNaN(ratio):
			verdict = "strace not installed"
		case ratio < 20:
			verdict = "MISSED"
		}
		t.add(r.label, fnum(r.native, 0), fnum(r.zpoline, 0), fnum(r.strace, 0), fnum(ratio, 1)+"x", verdict)
	}
	t.print()
	note("ns per system call of the whole process (start-up included), median of the trials;")
	note("1,000,000 iterations natively and under zpoline trace, 20,000 under strace (scaled per call).")
}
