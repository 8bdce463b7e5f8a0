package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

var doctorCommand = &command{
	name:    "doctor",
	summary: "check that this machine can run hooked programs, and say how to fix what fails",
	help: `Usage: zpoline doctor [--json] [--loader PATH]

Checks what the loader needs, one line per check: ok, warn (works, with a limitation),
or FAIL, followed by the fix. The exit status is 0 when nothing failed, 1 otherwise.

Checks: vm.mmap_min_addr, CAP_SYS_RAWIO, SELinux (mmap_zero), a test mapping of page 0,
/proc/self/mem, PR_SET_MDWE, the kernel version, Syscall User Dispatch, CPU features
(xsave family, AVX, AVX-512, FSGSBASE, PKU), glibc, the loader and the default hook
library (found as 'zpoline run' finds them), and the address-space limit (ulimit -v).
The results are those of this process; 'zpoline run' starts programs with the same
environment.

Flags:
  --json          print a JSON array of {"check", "status", "detail", "fix"} instead;
                  status is "ok", "warn" or "fail", fix is "" when there is nothing to fix
  --loader PATH   the loader to check (default: as for 'zpoline run')
  -h, --help      show this help
`,
	main: cmdDoctor,
}

// A result is one line of the doctor's report.
type result struct {
	Check  string `json:"check"`
	Status string `json:"status"` // statusOK, statusWarn or statusFail
	Detail string `json:"detail"`
	Fix    string `json:"fix"`
}

const (
	statusOK   = "ok"
	statusWarn = "warn"
	statusFail = "fail"
)

func okResult(check, detail string) result   { return result{check, statusOK, detail, ""} }
func warnResult(check, detail string) result { return result{check, statusWarn, detail, ""} }
func failResult(check string, p problem) result {
	return result{check, statusFail, p.cause, p.fix}
}

type doctorOptions struct {
	json   bool
	loader string
}

func doctorFlags(o *doctorOptions) *flag.FlagSet {
	fs := newFlagSet("doctor")
	fs.BoolVar(&o.json, "json", false, "")
	fs.StringVar(&o.loader, "loader", "", "")
	return fs
}

func cmdDoctor(args []string) int {
	var o doctorOptions
	fs := doctorFlags(&o)
	if code, ok := parseFlags(fs, "doctor", args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError("doctor takes no arguments, got "+strings.Join(fs.Args(), " "), "see 'zpoline doctor --help'")
	}
	results := doctor(o.loader)
	if o.json {
		b, _ := json.MarshalIndent(results, "", "  ")
		fmt.Println(string(b))
	} else {
		fmt.Print(formatResults(results))
	}
	for _, r := range results {
		if r.Status == statusFail {
			return exitFailed
		}
	}
	return exitOK
}

// formatResults is the text report: one line per check.
func formatResults(results []result) string {
	width := 0
	for _, r := range results {
		width = max(width, len(r.Check))
	}
	var b strings.Builder
	fails := 0
	for _, r := range results {
		st := r.Status
		if st == statusFail {
			st, fails = "FAIL", fails+1
		}
		line := fmt.Sprintf("%-4s  %-*s  %s", st, width, r.Check, r.Detail)
		if r.Fix != "" {
			line += "; fix: " + r.Fix
		}
		b.WriteString(line + "\n")
	}
	if fails == 0 {
		b.WriteString("zpoline: no check failed\n")
	} else {
		fmt.Fprintf(&b, "zpoline: %d check(s) failed\n", fails)
	}
	return b.String()
}

// doctor runs every check in the order of the report.
func doctor(loaderFlag string) []result {
	pz := inspectPageZero()
	se := inspectSELinux()
	probe := probePageZero()
	var rs []result
	rs = append(rs, checkMinAddr(pz), checkRawio(pz), checkSELinux(se, pz, probe), checkProbe(pz, se, probe),
		checkProcMem(), checkMDWE())
	rs = append(rs, checkKernel()...)
	rs = append(rs, checkCPU(), checkGlibc())
	rs = append(rs, checkLoaderFiles(loaderFlag)...)
	rs = append(rs, checkAddressSpace())
	return rs
}

func checkMinAddr(pz pageZero) result {
	const name = "vm.mmap_min_addr"
	switch {
	case pz.minAddrErr != nil:
		return failResult(name, *pz.problem())
	case pz.minAddr == 0:
		return okResult(name, "0: page 0 can be mapped")
	case pz.rawioAfterExec():
		return warnResult(name, fmt.Sprintf("%d: only programs with CAP_SYS_RAWIO can map page 0 (this one's children do)", pz.minAddr))
	default:
		return failResult(name, *pz.problem())
	}
}

func checkRawio(pz pageZero) result {
	const name = "CAP_SYS_RAWIO"
	how := ""
	switch {
	case pz.capAmb:
		how = "ambient: kept across exec"
	case pz.euid == 0 && !pz.noRoot && pz.capBnd:
		how = "uid 0: programs get it at exec"
	}
	switch {
	case how != "":
		return okResult(name, fmt.Sprintf("held (effective: %s; %s)", yesNo(pz.capEff), how))
	case pz.minAddrErr == nil && pz.minAddr == 0:
		return okResult(name, fmt.Sprintf("not held by programs started from here (effective: %s), not needed: vm.mmap_min_addr is 0", yesNo(pz.capEff)))
	case pz.capEff:
		return warnResult(name, "in the effective set but not ambient: programs started from here lose it at exec")
	default:
		return warnResult(name, "not held: needed while vm.mmap_min_addr is not 0")
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func checkSELinux(se selinuxState, pz pageZero, probe error) result {
	const name = "SELinux"
	if !se.enabled {
		return okResult(name, "not enabled")
	}
	detail := "permissive"
	if se.enforcing {
		detail = "enforcing"
	}
	if se.context != "" {
		detail += ", domain " + se.context
	}
	if se.mmapLowAllowed != "" {
		detail += ", mmap_low_allowed " + se.mmapLowAllowed
	}
	switch {
	case !se.enforcing:
		return okResult(name, detail)
	case probe == nil:
		return okResult(name, detail+": mmap_zero allowed (page 0 was mapped)")
	case pz.pageZeroOK() && (pz.minAddr == 0 || pz.capEff) && (errors.Is(probe, unix.EACCES) || errors.Is(probe, unix.EPERM)):
		return failResult(name, problem{detail + ": mmap_zero denied (page 0 could not be mapped: " + probe.Error() + ")", selinuxFix})
	default:
		return warnResult(name, detail+": whether mmap_zero is allowed shows once vm.mmap_min_addr allows page 0")
	}
}

func checkProbe(pz pageZero, se selinuxState, probe error) result {
	const name = "page 0"
	switch {
	case probe == nil:
		return okResult(name, "mapped and unmapped page 0 in this process")
	case !pz.capEff && pz.rawioAfterExec() && pz.minAddr != 0:
		return warnResult(name, "cannot map page 0 in this process ("+probe.Error()+"), but programs it starts get CAP_SYS_RAWIO")
	case se.enforcing && pz.pageZeroOK():
		return failResult(name, problem{"cannot map page 0: " + probe.Error() + " (SELinux)", selinuxFix})
	case !pz.pageZeroOK():
		p := pz.problem()
		return failResult(name, problem{"cannot map page 0: " + probe.Error() + " (see vm.mmap_min_addr)", p.fix})
	default:
		return failResult(name, problem{"cannot map page 0: " + probe.Error(), "check for a security module or seccomp policy that forbids low mappings"})
	}
}

func checkProcMem() result {
	const name = "/proc/self/mem"
	fd, err := unix.Open("/proc/self/mem", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return failResult(name, problem{"cannot open /proc/self/mem for writing: " + err.Error() + "; the loader writes code through it",
			"mount /proc (in containers and chroots: mount -t proc proc /proc)"})
	}
	unix.Close(fd)
	return okResult(name, "writable (the loader writes code through it)")
}

func checkMDWE() result {
	const name = "PR_SET_MDWE"
	const refuseExecGain, noInherit = 1, 2
	v, err := unix.PrctlRetInt(unix.PR_GET_MDWE, 0, 0, 0, 0)
	switch {
	case errors.Is(err, unix.EINVAL):
		return okResult(name, "not supported by this kernel (Linux 6.3 or later has it); nothing to do")
	case err != nil:
		return okResult(name, "PR_GET_MDWE failed: "+err.Error()+"; it does not stop the loader")
	case v&refuseExecGain == 0:
		return okResult(name, "not set")
	default:
		s := "set (refuse-exec-gain"
		if v&noInherit != 0 {
			s += ", no-inherit"
		}
		return okResult(name, s+"): fine, the loader writes code through /proc/self/mem and never needs W+X memory")
	}
}

// kernelVersion parses "6.1.0-18-amd64" into 6, 1.
func kernelVersion(release string) (int, int, bool) {
	m := regexp.MustCompile(`^(\d+)\.(\d+)`).FindStringSubmatch(release)
	if m == nil {
		return 0, 0, false
	}
	maj, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return maj, minor, true
}

func atLeast(maj, minor, wantMaj, wantMinor int) bool {
	return maj > wantMaj || maj == wantMaj && minor >= wantMinor
}

func checkKernel() []result {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return []result{warnResult("kernel", "uname failed: "+err.Error())}
	}
	release, machine := unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Machine[:])
	maj, minor, parsed := kernelVersion(release)
	var rs []result
	desc := "Linux " + release + " (" + machine + ")"
	switch {
	case machine != "x86_64":
		rs = append(rs, failResult("kernel", problem{desc + ": zpoline rewrites x86-64 code only", "run on an x86-64 machine"}))
	case !parsed:
		rs = append(rs, warnResult("kernel", desc+": cannot parse the version"))
	case !atLeast(maj, minor, 4, 17):
		rs = append(rs, failResult("kernel", problem{desc + ": the loader needs Linux 4.17 or later (MAP_FIXED_NOREPLACE)", "upgrade the kernel"}))
	default:
		rs = append(rs, okResult("kernel", desc))
	}
	rs = append(rs, checkSUD(parsed && !atLeast(maj, minor, 5, 11)))
	return rs
}

// checkSUD reports whether Syscall User Dispatch works (the loader's safety net for code
// its rewriter cannot vouch for, ZPOLINE_SUD): it arms SUD for real on a thread of its own,
// with the selector on ALLOW so no call traps, then disarms it; the thread is discarded.
func checkSUD(tooOld bool) result {
	const name = "syscall user dispatch"
	mode := os.Getenv("ZPOLINE_SUD")
	if mode == "" {
		mode = "auto"
	}
	if tooOld {
		return okResult(name, "not available (Linux 5.11 or later has it): the loader runs without its safety net (ZPOLINE_SUD="+mode+" has no effect)")
	}
	if err := armSUDOnce(); err != nil {
		return warnResult(name, "not available ("+err.Error()+"): the loader runs without its safety net for code it cannot rewrite (ZPOLINE_SUD="+mode+" has no effect)")
	}
	detail := "available (armed and disarmed on a test thread); ZPOLINE_SUD=" + mode
	switch mode {
	case "auto":
		detail += ": armed once the program maps writable and executable memory"
	case "always":
		detail += ": armed in every thread (~+24 ns per system call)"
	case "off":
		detail += ": never armed"
	default:
		return warnResult(name, detail+" is not off, auto or always: the loader uses auto")
	}
	return okResult(name, detail)
}

// armSUDOnce arms Syscall User Dispatch on a locked OS thread that is then discarded
// (a goroutine that exits locked ends its thread), and disarms it again.
func armSUDOnce() error {
	const prSetSyscallUserDispatch, prSysDispatchOff, prSysDispatchOn = 59, 0, 1
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		sel := new(byte)       // SYSCALL_DISPATCH_FILTER_ALLOW: no call of this thread traps
		err := unix.Prctl(prSetSyscallUserDispatch, prSysDispatchOn, 0, 0, uintptr(unsafe.Pointer(sel)))
		if err == nil {
			err = unix.Prctl(prSetSyscallUserDispatch, prSysDispatchOff, 0, 0, 0)
		}
		runtime.KeepAlive(sel)
		done <- err
	}()
	if err := <-done; err != nil {
		return fmt.Errorf("prctl(PR_SET_SYSCALL_USER_DISPATCH): %w", err)
	}
	return nil
}

// cpuFlags returns the flags of the first processor in /proc/cpuinfo.
func cpuFlags(cpuinfo []byte) map[string]bool {
	flags := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		k, v, found := strings.Cut(sc.Text(), ":")
		if found && strings.TrimSpace(k) == "flags" {
			for _, f := range strings.Fields(v) {
				flags[f] = true
			}
			break
		}
	}
	return flags
}

// cpuFeatures are the CPU flags that matter to the loader, and what their absence means.
var cpuFeatures = []struct{ name, without string }{
	{"xsave", "the vector registers are NOT saved around hooks that do not declare ZPOLINE_HOOK_VECTOR_FREE"},
	{"xsavec", ""},
	{"xsaveopt", "vector state is saved with plain xsave (slower)"},
	{"avx", ""},
	{"avx512f", ""},
	{"fsgsbase", "each thread's %gs base is set with arch_prctl (one more system call per thread)"},
	{"pku", "page 0 cannot be made execute-only, which the loader does not do yet"},
}

func checkCPU() result {
	const name = "CPU features"
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return warnResult(name, "cannot read /proc/cpuinfo: "+errText(err))
	}
	flags := cpuFlags(b)
	var has, lacks, notes []string
	for _, f := range cpuFeatures {
		if flags[f.name] {
			has = append(has, f.name)
			continue
		}
		lacks = append(lacks, f.name)
		if f.without != "" {
			notes = append(notes, "no "+f.name+": "+f.without)
		}
	}
	detail := "has " + strings.Join(has, " ")
	if len(has) == 0 {
		detail = "has none of " + strings.Join(lacks, " ")
	} else if len(lacks) > 0 {
		detail += "; lacks " + strings.Join(lacks, " ")
	}
	if len(notes) > 0 {
		detail += " (" + strings.Join(notes, "; ") + ")"
	}
	if !flags["xsave"] {
		return warnResult(name, detail)
	}
	return okResult(name, detail)
}

// libcCandidates are where glibc's libc.so.6 lives; executed, it prints its version.
var libcCandidates = []string{"/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6", "/usr/lib64/libc.so.6"}

// firstLine runs argv with a clean environment (no LD_PRELOAD: never hooked) and returns
// the first line of its output.
func firstLine(argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin"}
	out, err := cmd.Output()
	line, _, _ := strings.Cut(string(out), "\n")
	if line == "" && err == nil {
		err = errors.New("no output")
	}
	return strings.TrimSpace(line), err
}

func checkGlibc() result {
	const name = "glibc"
	re := regexp.MustCompile(`(?:version |\) )(\d+\.\d+)`)
	for _, p := range libcCandidates {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if line, err := firstLine(p); err == nil && strings.Contains(line, "GNU C Library") {
			if m := re.FindStringSubmatch(line); m != nil {
				return okResult(name, m[1]+" ("+line+")")
			}
			return okResult(name, line)
		}
	}
	if line, err := firstLine("ldd", "--version"); err == nil && (strings.Contains(line, "GLIBC") || strings.Contains(line, "GNU libc")) {
		if m := re.FindStringSubmatch(line); m != nil {
			return okResult(name, m[1]+" ("+line+")")
		}
		return okResult(name, line)
	}
	return warnResult(name, "glibc not found (looked for "+strings.Join(libcCandidates, ", ")+" and ldd --version); "+
		"the loader needs glibc (dlmopen), other C libraries are not supported")
}

func checkLoaderFiles(loaderFlag string) []result {
	loader, from, p := findLoader(loaderFlag, os.Getenv)
	if p != nil {
		return []result{failResult("loader", *p), warnResult("default hook library", "not looked for: the loader was not found")}
	}
	rs := []result{okResult("loader", loader+" ("+from+")")}
	// The loader looks next to its real file, as /proc/self/maps names it.
	real := loader
	if r, err := filepath.EvalSymlinks(loader); err == nil {
		real = r
	}
	impl := filepath.Join(filepath.Dir(real), implName)
	if f, why := openSharedObject(impl); why != "" {
		rs = append(rs, warnResult("default hook library", impl+" "+why+
			": without --hook the loader falls back to builtin:pass, which traces nothing (build it with make, or install it next to the loader)"))
	} else {
		f.Close()
		rs = append(rs, okResult("default hook library", impl))
	}
	return rs
}

func checkAddressSpace() result {
	const name = "address-space limit"
	cur, err := addressSpace()
	switch {
	case err != nil:
		return warnResult(name, "getrlimit(RLIMIT_AS) failed: "+err.Error())
	case cur == unix.RLIM_INFINITY:
		return okResult(name, "unlimited")
	}
	if p := addressSpaceProblem(cur); p != nil {
		return failResult(name, *p)
	}
	return okResult(name, fmt.Sprintf("ulimit -v %d (at least the 2 GiB the loader needs)", cur/1024))
}
