package main

import (
	"fmt"
	"math"
)

// printTargets checks the figures of this run against the targets of issue 4. A missed
// target is reported, not fatal.
func printTargets(b *bench, sw *sweepData, su *startupData, mem *memData, pc *loopData) {
	section(6, "targets of issue 4 (this run's medians)")
	t := newTable(1, "target", "limit", "measured", "verdict")
	check := func(label string, limit, got float64, unit string) {
		verdict := "ok"
		switch {
		case math.IsNaN(got):
			verdict = "not measured"
		case got > limit:
			verdict = "MISSED"
		}
		t.add(label, fmt.Sprintf("<= %+g %s", limit, unit), fdelta(got, 2)+" "+unit, verdict)
	}
	all := func(string) bool { return true }
	check("added/call, builtin:pass, mean of number sweep", 15, sw.meanAdded(cfgBuiltin, all), "ns")
	check("added/call, passvf.so (vector-free), mean of sweep", 15, sw.meanAdded(cfgPassVF, all), "ns")
	check("added/call, pass.so (unmodified, proven vector-free), mean of sweep", 40, sw.meanAdded(cfgPass, all), "ns")
	check("added/call, passsse.so (vector save), mean of sweep", 40, sw.meanAdded(cfgPassSSE, all), "ns")
	check("added/call, passsse.so (vector save), getpid asm", 40, pc.added(cfgPassSSE, "inline:39"), "ns")
	check("added/call, Go hook emulating getppid (libc getppid)", 120, pc.added(cfgGoEmu, "libc:getppid"), "ns")

	const tru = "/bin/true"
	nat := su.warmMed(tru, cfgNative)
	check("/bin/true, builtin:pass, warm", 1, su.warmMed(tru, cfgBuiltin)-nat, "ms")
	check("/bin/true, builtin:pass, cold (vs native warm)", 10, su.cold[tru][cfgBuiltin]-nat, "ms")
	check("/bin/true, default lib (dlmopen), warm", 2, su.warmMed(tru, cfgImpl)-nat, "ms")
	check("/bin/true, passvf.so (dlmopen), warm", 2, su.warmMed(tru, cfgPassVF)-nat, "ms")
	if len(su.progs) > 1 {
		py := su.progs[1].label
		check(py+", builtin:pass, warm", 3, su.warmMed(py, cfgBuiltin)-su.warmMed(py, cfgNative), "ms")
	}
	rss := func(cfg string) float64 {
		return median(mem.values(cfg, func(s memSample) float64 { return s.status["VmRSS"] })) / 1024
	}
	check("sleeping `sleep 2`, builtin:pass, VmRSS", 4, rss(cfgBuiltin)-rss(cfgNative), "MB")
	thr := func(cfg string) float64 {
		return median(mem.values(cfg, func(s memSample) float64 { return s.status["Threads"] }))
	}
	t.add("sleeping `sleep 2`, builtin:pass, extra threads", "as few as Go allows",
		fdelta(thr(cfgBuiltin)-thr(cfgNative), 0), "info")
	t.print()
	note("A MISSED target is reported here and does not change zpbench's exit status.")
}
