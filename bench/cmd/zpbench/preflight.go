package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// printHeader prints the machine, the build measured and the conditions of the run.
func (b *bench) printHeader() {
	fmt.Println("zpoline-go benchmark (zpbench, `make bench`)  " + time.Now().UTC().Format("2006-01-02 15:04:05 UTC"))
	fmt.Println(strings.Repeat("=", 78))
	rows := [][2]string{
		{"cpu", fmt.Sprintf("%s, %d online CPUs, vector: %s", cpuModel(), runtime.NumCPU(), vectorFlags())},
		{"kernel", readTrim("/proc/sys/kernel/osrelease")},
		{"glibc", commandOutput("getconf", "GNU_LIBC_VERSION")},
		{"harness", runtime.Version() + ", no cgo"},
		{"loader", describeFile(b.loader)},
		{"source", gitState(b.root)},
		{"vm.mmap_min_addr", fmt.Sprintf("%s (uid %d)", readTrim("/proc/sys/vm/mmap_min_addr"), os.Getuid())},
		{"pinning", b.pinning()},
		{"load at start", loadAvg() + loadWarning()},
	}
	for _, r := range rows {
		fmt.Printf("  %-17s %s\n", r[0], r[1])
	}
	fmt.Println("  Every figure is the median over trials (separate processes) with the minimum beside it;")
	fmt.Println("  ratios and added costs are against the native figure measured in this same run.")
}

// pinning describes how the per-call loops are pinned.
func (b *bench) pinning() string {
	if b.o.cpu < 0 {
		return "none (-cpu -1)"
	}
	return fmt.Sprintf("per-call loops (sections 1, 2) pinned to CPU %d, like `taskset -c %d`; start-up and memory runs not pinned", b.o.cpu, b.o.cpu)
}

// preflight checks that every configuration works before anything is measured: the
// loader starts, maps page 0 and loads exactly the hook asked for, and the hook sees the
// program's calls. Any failure is fatal, with the loader's own explanation.
func (b *bench) preflight() {
	progress("preflight: checking the loader and every hook configuration")
	section(0, "Configurations (checked before measuring)")
	t := newTable(2, "configuration", "loader reports", "check")
	for _, name := range []string{cfgNative, cfgBuiltin, cfgPassVF, cfgPass, cfgPassSSE, cfgImpl, cfgTestRS, cfgGoPass, cfgGoEmu} {
		c := b.cfgs[name]
		statsFile := b.tmpFile("stats")
		r, err := b.run(c, b.warmEnv, []string{"ZPOLINE_STATS=" + statsFile}, false, b.sysloop, "check")
		if err != nil {
			fatalf("the loader does not run under %q.\n%v\n%s", name, err, environmentHint())
		}
		kv := parseKV(r.stdout)
		page0, ppid := kv["page0"], kv["getppid"]
		hook := "-"
		if c.preload {
			st, err := os.ReadFile(statsFile)
			if err != nil {
				fatalf("%s: the loader wrote no statistics to ZPOLINE_STATS (%v); is LD_PRELOAD honoured?", name, err)
			}
			hook = statsValue(string(st), "hook")
			if !strings.Contains(hook, c.wantHook) {
				fatalf("%s: the loader reports hook %q, want %q (a hook library that fails to load falls back; its stderr:)\n%s",
					name, hook, c.wantHook, string(st))
			}
			if page0 != "1" {
				fatalf("%s: nothing is mapped at address 0 in the hooked process: the loader is not active\n%s", name, environmentHint())
			}
		} else if page0 != "0" {
			fatalf("native run has a mapping at address 0: the harness's environment preloads something")
		}
		want := strconv.Itoa(os.Getpid())
		if c.ppid != 0 {
			want = strconv.Itoa(c.ppid)
		}
		if ppid != want {
			fatalf("%s: getppid() returned %s in the workload, want %s", name, ppid, want)
		}
		check := "getppid ok"
		if c.ppid != 0 {
			check = fmt.Sprintf("getppid emulated (= %d)", c.ppid)
		}
		if c.preload {
			check += ", page 0 mapped"
		}
		t.add(name, hook, check)
	}
	stc := "not installed: its rows are skipped"
	if b.strace != "" {
		if _, err := b.run(b.cfgs[cfgStrace], b.warmEnv, nil, false, b.sysloop, "check"); err != nil {
			progress("WARNING: strace does not work here, its rows are skipped: %v", err)
			stc = "DOES NOT WORK here: its rows are skipped"
			b.strace = ""
		} else {
			stc = "runs"
		}
	}
	t.add(cfgStrace, "-", stc)
	t.print()
	note("native: no LD_PRELOAD. builtin:pass: ZPOLINE_HOOK=builtin:pass (no hook library).")
	note("passvf.so / pass.so / passsse.so: bench/hooks/*.c through ZPOLINE_HOOK. default lib: no ZPOLINE_HOOK,")
	note("ZPOLINE_LOG=/dev/null. testhook_rs.so: build/tests/, returns 4242 for getppid, clobbers vectors.")
}

// environmentHint explains the usual reasons the loader cannot start.
func environmentHint() string {
	min := readTrim("/proc/sys/vm/mmap_min_addr")
	h := fmt.Sprintf("vm.mmap_min_addr is %s, uid is %d.", min, os.Getuid())
	if min != "0" && os.Getuid() != 0 {
		h += " The trampoline needs page 0: run `sudo sysctl -w vm.mmap_min_addr=0` (or run as root / with CAP_SYS_RAWIO)."
	}
	return h
}

// parseKV parses "k=v k=v" words.
func parseKV(s string) map[string]string {
	m := map[string]string{}
	for _, w := range strings.Fields(s) {
		if k, v, ok := strings.Cut(w, "="); ok {
			m[k] = v
		}
	}
	return m
}

// cpuModel returns the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// vectorFlags lists the vector extensions /proc/cpuinfo reports (they set the size of
// the state the loader saves around hooks that may clobber it).
func vectorFlags() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	flags := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "flags" {
			for _, f := range strings.Fields(v) {
				flags[f] = true
			}
			break
		}
	}
	var have []string
	for _, f := range []string{"avx", "avx2", "avx512f", "amx_tile", "xsavec", "xsaveopt"} {
		if flags[f] {
			have = append(have, f)
		}
	}
	if len(have) == 0 {
		return "sse only"
	}
	return strings.Join(have, " ")
}

// readTrim returns a file's trimmed contents, or "?".
func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// commandOutput returns a command's trimmed output, or "?".
func commandOutput(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

// describeFile gives a file's path, size and modification time.
func describeFile(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return path + " (missing)"
	}
	return fmt.Sprintf("%s (%.1f MB, built %s)", path, float64(st.Size())/1e6, st.ModTime().Format("2006-01-02 15:04:05"))
}

// gitState names the checked-out commit and whether the tree has uncommitted changes;
// --no-optional-locks keeps git from writing to the repository.
func gitState(root string) string {
	head := commandOutput("git", "-C", root, "--no-optional-locks", "rev-parse", "--short", "HEAD")
	if head == "?" {
		return "? (not a git checkout)"
	}
	st := commandOutput("git", "-C", root, "--no-optional-locks", "status", "--porcelain", "--untracked-files=no")
	if st != "" && st != "?" {
		return "git " + head + " + uncommitted changes (the loader measured is whatever build/ holds)"
	}
	return "git " + head
}

// cpuTimes returns the steal and total jiffies of /proc/stat's "cpu" line.
func cpuTimes() (steal, total float64) {
	for _, line := range strings.Split(readTrim("/proc/stat"), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != "cpu" {
			continue
		}
		for i, v := range f[1:] {
			x, _ := strconv.ParseFloat(v, 64)
			if i < 8 { // user nice system idle iowait irq softirq steal
				total += x
			}
			if i == 7 {
				steal = x
			}
		}
	}
	return steal, total
}

// loadAvg returns the 1/5/15-minute load averages.
func loadAvg() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// loadWarning warns when the machine is busy enough to disturb the figures.
func loadWarning() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) == 0 {
		return ""
	}
	l, err := strconv.ParseFloat(f[0], 64)
	if err != nil || l < 0.5*float64(runtime.NumCPU()) {
		return ""
	}
	return fmt.Sprintf("  -- WARNING: the machine is busy (%d CPUs); expect noise, the min column is the steadier", runtime.NumCPU())
}
