package main

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// loop is one timed loop of build/bench/sysloop (see bench/workloads/sysloop.c).
type loop struct {
	op    string // sysloop's name for it, e.g. "inline:39"
	label string // what the report calls it
}

// loopData holds, per configuration and loop, ns per call of every trial, the iteration
// count used and the last call's result.
type loopData struct {
	cfgs  []string
	loops []loop
	ns    map[string]map[string][]float64
	iters map[string]map[string]int64
	ret   map[string]map[string]int64
}

// nsMed and nsMin return the median and the minimum over trials.
func (d *loopData) nsMed(cfg, op string) float64 { return median(d.ns[cfg][op]) }
func (d *loopData) nsMin(cfg, op string) float64 { return minimum(d.ns[cfg][op]) }

// added returns the median added cost of cfg over native for op, in ns.
func (d *loopData) added(cfg, op string) float64 {
	return d.nsMed(cfg, op) - d.nsMed(cfgNative, op)
}

// runLoops measures every loop in every configuration: one calibration run per
// configuration chooses each loop's iteration count so that it takes about targetMs,
// then b.o.trials rounds run every configuration once each (interleaved, so that a
// disturbance spreads over all configurations), one process per run, pinned.
func (b *bench) runLoops(cfgs []string, loops []loop, targetMs float64) *loopData {
	d := &loopData{cfgs: cfgs, loops: loops,
		ns: map[string]map[string][]float64{}, iters: map[string]map[string]int64{}, ret: map[string]map[string]int64{}}
	for _, name := range cfgs {
		c := b.cfgs[name]
		calN := int64(20000)
		if c.strace {
			calN = 500
		}
		var args []string
		for _, l := range loops {
			args = append(args, fmt.Sprintf("%s@%d", l.op, calN))
		}
		cal := b.parseLoops(name, b.mustRun(c, b.warmEnv, nil, true, append([]string{b.sysloop}, args...)...).stdout)
		d.iters[name] = map[string]int64{}
		d.ns[name] = map[string][]float64{}
		d.ret[name] = map[string]int64{}
		for _, l := range loops {
			d.iters[name][l.op] = roundIters(targetMs * 1e6 / cal[l.op].ns)
		}
	}
	for t := 0; t < b.o.trials; t++ {
		for _, name := range cfgs {
			var args []string
			for _, l := range loops {
				args = append(args, fmt.Sprintf("%s@%d", l.op, d.iters[name][l.op]))
			}
			res := b.parseLoops(name, b.mustRun(b.cfgs[name], b.warmEnv, nil, true, append([]string{b.sysloop}, args...)...).stdout)
			for _, l := range loops {
				d.ns[name][l.op] = append(d.ns[name][l.op], res[l.op].ns)
				d.ret[name][l.op] = res[l.op].ret
			}
		}
	}
	return d
}

// loopResult is one line of sysloop's output.
type loopResult struct {
	ns  float64 // ns per call
	ret int64   // the last call's result
}

// parseLoops parses sysloop's "OP N TOTAL_NS RET CHUNK_MEDIAN_NS" lines. A loop's figure
// is the median over its chunks of ~1000 calls (robust against preemption by other
// processes), or with -mean the mean over the whole loop.
func (b *bench) parseLoops(cfg, out string) map[string]loopResult {
	m := map[string]loopResult{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 5 {
			fatalf("%s: unexpected sysloop output line %q", cfg, line)
		}
		n, e1 := strconv.ParseInt(f[1], 10, 64)
		total, e2 := strconv.ParseFloat(f[2], 64)
		ret, e3 := strconv.ParseInt(f[3], 10, 64)
		chunk, e4 := strconv.ParseFloat(f[4], 64)
		if e1 != nil || e2 != nil || e3 != nil || e4 != nil || n <= 0 {
			fatalf("%s: unexpected sysloop output line %q", cfg, line)
		}
		ns := chunk
		if b.o.mean {
			ns = total / float64(n)
		}
		m[f[0]] = loopResult{ns: ns, ret: ret}
	}
	return m
}

// estimator describes what one trial's figure is.
func (b *bench) estimator() string {
	if b.o.mean {
		return "A trial's figure: mean ns/call over its loop."
	}
	return "A trial's figure: median over its\n  chunks of ~1000 calls (a chunk disturbed by another process does not count; -mean for means)."
}

// roundIters rounds an iteration count to two significant digits within [200, 5e7].
func roundIters(n float64) int64 {
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return 200
	}
	n = math.Max(200, math.Min(5e7, n))
	p := math.Pow(10, math.Floor(math.Log10(n))-1)
	return int64(math.Round(n/p) * p)
}

// --- section 1 ---

// perCallLoops are section 1's loops: getpid and getppid, inline and through libc.
var perCallLoops = []loop{
	{"inline:39", "getpid, inline asm"},
	{"libc:getpid", "getpid, libc wrapper"},
	{"inline:110", "getppid, inline asm"},
	{"libc:getppid", "getppid, libc wrapper"},
}

// measurePerCall runs section 1.
func (b *bench) measurePerCall() *loopData {
	cfgs := []string{cfgNative, cfgBuiltin, cfgPassVF, cfgPass, cfgPassSSE, cfgImpl, cfgTestRS, cfgGoPass, cfgGoEmu,
		cfgSUDOff, cfgSUDAuto, cfgSUDAlways}
	if b.o.sudOnly {
		cfgs = []string{cfgNative, cfgSUDOff, cfgSUDAuto, cfgSUDAlways}
	} else if b.strace != "" {
		cfgs = append(cfgs, cfgStrace)
	}
	progress("section 1: ns per call, %d configurations x %d trials", len(cfgs), b.o.trials)
	return b.runLoops(cfgs, perCallLoops, b.o.loopMs)
}

// print prints section 1.
func (d *loopData) print(b *bench) {
	section(1, "ns per system call: getpid / getppid loops")
	t := newTable(2, "configuration", "loop", "iters", "median ns", "min ns", "x native", "added ns", "added (min)")
	for i, name := range d.cfgs {
		if i > 0 {
			t.sep()
		}
		for _, l := range d.loops {
			med, mn := d.nsMed(name, l.op), d.nsMin(name, l.op)
			nmed, nmin := d.nsMed(cfgNative, l.op), d.nsMin(cfgNative, l.op)
			add, addMin := fdelta(med-nmed, 1), fdelta(mn-nmin, 1)
			if name == cfgNative {
				add, addMin = "", ""
			}
			label := l.label
			if (name == cfgTestRS || name == cfgGoEmu) && (strings.HasPrefix(l.op, "inline:110") || l.op == "libc:getppid") {
				label += " (emulated)"
			}
			t.add(name, label, strconv.FormatInt(d.iters[name][l.op], 10), fnum(med, 1), fnum(mn, 1),
				fratio(med, nmed), add, addMin)
		}
	}
	t.print()
	note("added ns = median - native median (added (min) = min - native min). One trial = one process")
	note("running the four loops; %d trials per configuration, interleaved. %s", b.o.trials, b.estimator())
	note("testhook_rs.so answers getppid itself (no kernel entry) and clobbers every vector register,")
	note("so its getppid rows are the hook path alone, with the loader's vector save.")
	note("Go hook rows: loader variants examples/go-pass (getpid and getppid enter Go and are")
	note("performed by hook.Syscall) and examples/go-getppid (getppid answered in Go, getpid stays in C).")
	note("ZPOLINE_SUD rows: the built-in hook with the Syscall User Dispatch net off, auto (sysloop maps")
	note("no writable+executable memory, so it never arms: must be within noise of off) and always armed")
	note("(every call takes the kernel's slower entry, even though the rewritten path never traps).")
}

// --- section 2 ---

// sweepNrs are section 2's system-call numbers, with what the kernel answers.
var sweepNrs = []struct {
	nr   int
	name string
}{
	{0, "read(-1) EBADF"}, {3, "close(-1) EBADF"}, {39, "getpid"}, {110, "getppid"},
	{177, "177 ENOSYS"}, {236, "236 ENOSYS"}, {423, "423 ENOSYS"}, {511, "511 ENOSYS"},
}

// sweepData is section 2: the loops plus the rewrite shape the loader chose for each.
type sweepData struct {
	*loopData
	shape map[string]string // op -> "jump"/"call" as the loader's ZPOLINE_DEBUG reports it
}

// sweepHooks are the hooked configurations of section 2.
var sweepHooks = []string{cfgBuiltin, cfgPassVF, cfgPass, cfgPassSSE}

// measureSweep runs section 2.
func (b *bench) measureSweep() *sweepData {
	var loops []loop
	for _, s := range sweepNrs {
		loops = append(loops,
			loop{fmt.Sprintf("wrap:%d", s.nr), s.name},
			loop{fmt.Sprintf("inline:%d", s.nr), s.name})
	}
	cfgs := append([]string{cfgNative}, sweepHooks...)
	progress("section 2: cost by system-call number, %d loops x %d configurations x %d trials", len(loops), len(cfgs), b.o.trials)
	sw := &sweepData{loopData: b.runLoops(cfgs, loops, b.o.sweepMs), shape: b.siteShapes()}
	// The hook must not change what the call returns (errno, or a pid: compare signs).
	for _, name := range sweepHooks {
		for _, l := range loops {
			n, h := sw.ret[cfgNative][l.op], sw.ret[name][l.op]
			if (n < 0 || h < 0) && n != h {
				fatalf("%s: %s returned %d under the loader but %d natively", name, l.op, h, n)
			}
		}
	}
	return sw
}

// siteShapes asks the loader (ZPOLINE_DEBUG=1) how it rewrote the `syscall` in each of
// sysloop's inline loops and in glibc's syscall(): `sysloop check` prints the address of
// each function, and the site that follows a function's start (within 128 bytes, before
// the next function) is that function's. Sites the loader does not report print as "?".
func (b *bench) siteShapes() map[string]string {
	r := b.mustRun(b.cfgs[cfgBuiltin], b.warmEnv, []string{"ZPOLINE_DEBUG=1"}, false, b.sysloop, "check")
	type fn struct {
		key  string // "wrap" or "inline:NR"
		addr uint64
	}
	var fns []fn
	for k, v := range parseKV(r.stdout) {
		if key, ok := strings.CutPrefix(k, "fn:"); ok {
			if a, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64); err == nil {
				fns = append(fns, fn{key, a})
			}
		}
	}
	shapes := map[string]string{}
	site := regexp.MustCompile(`site .+?: 0x([0-9a-f]+) syscall (jump|call)`)
	for _, m := range site.FindAllStringSubmatch(r.stderr, -1) {
		addr, _ := strconv.ParseUint(m[1], 16, 64)
		best := -1
		for i, f := range fns {
			if f.addr <= addr && addr-f.addr < 128 && (best < 0 || f.addr > fns[best].addr) {
				best = i
			}
		}
		if best >= 0 {
			shapes[fns[best].key] = m[2]
		}
	}
	return shapes
}

// shapeOf returns how op's site was rewritten.
func (sw *sweepData) shapeOf(op string) string {
	key := op
	if strings.HasPrefix(op, "wrap:") {
		key = "wrap"
	}
	if s, ok := sw.shape[key]; ok {
		return s
	}
	return "?"
}

// meanAdded returns the mean over the loops selected by keep of cfg's median added ns.
func (sw *sweepData) meanAdded(cfg string, keep func(op string) bool) float64 {
	var xs []float64
	for _, l := range sw.loops {
		if keep(l.op) {
			xs = append(xs, sw.added(cfg, l.op))
		}
	}
	return mean(xs)
}

// print prints section 2.
func (sw *sweepData) print(b *bench) {
	section(2, "added cost by system-call number and rewrite shape (builtin:pass)")
	t := newTable(3, "call", "site", "shape", "native med", "native min", "hooked med", "hooked min", "x native", "added ns", "added (min)")
	for i, l := range sw.loops {
		if i > 0 && i%2 == 0 {
			t.sep()
		}
		site := "libc syscall()"
		if strings.HasPrefix(l.op, "inline:") {
			site = "inline mov+syscall"
		}
		nmed, nmin := sw.nsMed(cfgNative, l.op), sw.nsMin(cfgNative, l.op)
		hmed, hmin := sw.nsMed(cfgBuiltin, l.op), sw.nsMin(cfgBuiltin, l.op)
		t.add(l.label, site, sw.shapeOf(l.op), fnum(nmed, 1), fnum(nmin, 1), fnum(hmed, 1), fnum(hmin, 1),
			fratio(hmed, nmed), fdelta(hmed-nmed, 1), fdelta(hmin-nmin, 1))
	}
	t.print()
	note("shape: how the loader rewrote that `syscall` (ZPOLINE_DEBUG): call = `callq *%%rax` into the")
	note("page-0 trampoline (the number selects the entry offset); jump = a jump stub replacing the")
	note("7-byte `mov $nr,%%eax; syscall`, which pushes nothing and does not depend on the number.")

	fmt.Println()
	t2 := newTable(3, "call", "site", "shape", "builtin:pass +ns", "passvf.so +ns", "pass.so +ns", "passsse.so +ns",
		"passsse.so x native")
	isCall := func(op string) bool { return strings.HasPrefix(op, "wrap:") }
	isJump := func(op string) bool { return strings.HasPrefix(op, "inline:") }
	all := func(string) bool { return true }
	for i, l := range sw.loops {
		if i > 0 && i%2 == 0 {
			t2.sep()
		}
		site := "syscall()"
		if isJump(l.op) {
			site = "inline"
		}
		t2.add(l.label, site, sw.shapeOf(l.op), fdelta(sw.added(cfgBuiltin, l.op), 1), fdelta(sw.added(cfgPassVF, l.op), 1),
			fdelta(sw.added(cfgPass, l.op), 1), fdelta(sw.added(cfgPassSSE, l.op), 1),
			fratio(sw.nsMed(cfgPassSSE, l.op), sw.nsMed(cfgNative, l.op)))
	}
	t2.sep()
	for _, m := range []struct {
		label string
		keep  func(string) bool
	}{{"mean, libc syscall()", isCall}, {"mean, inline", isJump}, {"mean, whole sweep", all}} {
		t2.add(m.label, "", "", fdelta(sw.meanAdded(cfgBuiltin, m.keep), 1), fdelta(sw.meanAdded(cfgPassVF, m.keep), 1),
			fdelta(sw.meanAdded(cfgPass, m.keep), 1), fdelta(sw.meanAdded(cfgPassSSE, m.keep), 1), "")
	}
	t2.print()
	note("added ns (median - native median) per hook: builtin:pass has no hook library; passvf.so")
	note("declares itself vector-free; pass.so declares nothing and the loader proves it vector-free by")
	note("decoding it (no vector save either); passsse.so touches xmm15, so the loader saves vector state.")
	note("%d trials per configuration, interleaved. %s", b.o.trials, b.estimator())
}
