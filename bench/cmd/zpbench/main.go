// Command zpbench is zpoline-go's benchmark harness: `make bench` runs it after `make all`.
//
// It builds its own small C programs (bench/workloads/) and pass-through hook libraries
// (bench/hooks/) into build/bench/ with gcc when they are missing or older than their
// sources, checks that the loader starts and loads each hook it is asked to, and prints
// one report, from one run, of medians over repeated trials, every figure also as a ratio
// to the native figure measured in the same run:
//
//  1. ns per system call of getpid/getppid loops, natively and under every hook;
//  2. the added cost as a function of the system-call number and of the rewrite shape;
//  3. start-up of /bin/true and python3 natively and under the loader, cold and warm;
//  4. the loader's own start-up breakdown (its ZPOLINE_STATS report) and the private
//     pages it dirties;
//  5. what the loader adds to a sleeping process (VmRSS, threads);
//
// then checks the figures against the targets of issue 4. bench/README.md explains how to
// read each row. The report goes to stdout, progress to stderr. A loader that fails to
// start, a hook library that does not load, or a workload that fails makes zpbench print
// why and exit with status 1; a missed performance target does not.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"
)

// options are zpbench's command-line settings.
type options struct {
	root        string        // repository root (holds go.mod, include/, bench/)
	build       string        // build directory holding libzpoline.so etc. (default root/build)
	trials      int           // trials per per-call measurement (one process each)
	startupRuns int           // warm runs per start-up measurement
	memTrials   int           // sleeping processes sampled per configuration
	cpu         int           // CPU the per-call loops are pinned to; -1: not pinned
	loopMs      float64       // target duration of one timed loop in section 1 (ms)
	sweepMs     float64       // target duration of one timed loop in section 2 (ms)
	mean        bool          // per-call figures: mean over the loop instead of median chunk
	python      string        // the Python interpreter measured in section 3
	timeout     time.Duration // per-process limit; a process running longer is a failure
	traceOnly   bool          // run only section 7 (zpoline trace vs strace)
	sudOnly     bool          // run only section 1's ZPOLINE_SUD rows (and native)
}

func main() {
	var o options
	defCPU := 1
	if runtime.NumCPU() < 2 {
		defCPU = 0
	}
	flag.StringVar(&o.root, "root", "", "repository root (default: the directory above the current one holding go.mod)")
	flag.StringVar(&o.build, "build", "", "build directory with libzpoline.so (default: <root>/build)")
	flag.IntVar(&o.trials, "trials", 7, "trials (separate processes) per per-call measurement")
	flag.IntVar(&o.startupRuns, "startup-runs", 20, "warm runs per start-up measurement")
	flag.IntVar(&o.memTrials, "mem-trials", 5, "sleeping processes sampled per configuration")
	flag.IntVar(&o.cpu, "cpu", defCPU, "CPU to pin the per-call loops to, like taskset -c (-1: no pinning)")
	flag.Float64Var(&o.loopMs, "loop-ms", 60, "target duration of one timed loop in section 1, ms")
	flag.Float64Var(&o.sweepMs, "sweep-ms", 20, "target duration of one timed loop in section 2, ms")
	flag.BoolVar(&o.mean, "mean", false, "per-call figures: mean over each loop instead of the median over its chunks")
	flag.StringVar(&o.python, "python", "/usr/bin/python3", "Python interpreter for the start-up section")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "limit for any one process")
	flag.BoolVar(&o.traceOnly, "trace-only", false, "run only section 7, zpoline trace against strace")
	flag.BoolVar(&o.sudOnly, "sud-only", false, "run only section 1 with native and the ZPOLINE_SUD rows (off, auto, always)")
	flag.Parse()
	if o.trials < 1 || o.startupRuns < 1 || o.memTrials < 1 {
		fatalf("-trials, -startup-runs and -mem-trials must be at least 1")
	}

	start := time.Now()
	steal0, total0 := cpuTimes()
	b, err := newBench(o)
	if err != nil {
		fatalf("%v", err)
	}
	defer b.cleanup()

	b.printHeader()
	b.preflight()
	if o.traceOnly {
		printTrace(b.measureTrace())
		return
	}

	pc := b.measurePerCall()
	pc.print(b)
	if o.sudOnly {
		return
	}
	sw := b.measureSweep()
	sw.print(b)
	su := b.measureStartup()
	su.print(b)
	mem := b.measureMemory()
	ls := b.measureLoaderStats()
	ls.print(b, mem)
	mem.print(b)
	printTargets(b, sw, su, mem, pc)
	printTrace(b.measureTrace())

	steal1, total1 := cpuTimes()
	stealPct := 0.0
	if total1 > total0 {
		stealPct = 100 * (steal1 - steal0) / (total1 - total0)
	}
	fmt.Printf("\nload average at end: %s; CPU time stolen by the hypervisor during the run: %.1f%%; total bench time %.1f s\n",
		loadAvg(), stealPct, time.Since(start).Seconds())
}

// tmpDir is the bench's temporary directory, removed by fatalf too.
var tmpDir string

// fatalf reports a failure that makes the figures meaningless and exits with status 1.
func fatalf(format string, args ...any) {
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	fmt.Fprintf(os.Stderr, "\nzpbench: FAILED: "+format+"\n", args...)
	fmt.Printf("\nzpbench: FAILED: "+format+"\n", args...)
	os.Exit(1)
}

// progress prints a progress line to stderr (the report itself goes to stdout).
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "zpbench: "+format+"\n", args...)
}
