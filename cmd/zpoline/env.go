package main

// What `run` checks before it execs the program and `doctor` explains: where the loader is,
// whether page 0 can be mapped, the address-space limit, the hook and the output files.
// Every check returns a problem (cause; fix) instead of printing, so that `run` can report
// all of them and `doctor` can put them in its table.

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Names and numbers shared with the loader (internal/hooklib and internal/core use cgo, so
// this command repeats the few it needs).
const (
	loaderName  = "libzpoline.so"           // the loader
	implName    = "libzpoline_hook_impl.so" // hooklib.ImplName: the default hook, next to the loader
	builtinPass = "builtin:pass"            // hooklib.BuiltinPass
	loaderEntry = "zpolineStart"            // exported by every loader (package loader)

	// The loader's Go runtime needs this much address space (internal/core/zp_start.c).
	minAddressSpace = 2 << 30
	capSysRawio     = 17 // CAP_SYS_RAWIO: maps below vm.mmap_min_addr
	secbitNoroot    = 1  // SECBIT_NOROOT: uid 0 gets no capabilities at exec
)

// The variables `run` sets (USAGE.md §2).
const (
	envLoader        = "ZPOLINE_LOADER" // read by this command only: where the loader is
	envHook          = "ZPOLINE_HOOK"
	envExclude       = "ZPOLINE_EXCLUDE"
	envLog           = "ZPOLINE_LOG"
	envStats         = "ZPOLINE_STATS"
	envDebug         = "ZPOLINE_DEBUG"
	envAllowUnhooked = "ZPOLINE_ALLOW_UNHOOKED"
)

// ---- the loader ----

// loaderCandidates returns where the loader is looked for when neither --loader nor
// ZPOLINE_LOADER names it: next to this executable, then PREFIX/lib for PREFIX/bin/zpoline.
// os.Executable is /proc/self/exe, so a symlink to zpoline is followed to the real file.
func loaderCandidates() []string {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	dir := filepath.Dir(exe)
	return []string{filepath.Join(dir, loaderName), filepath.Join(filepath.Dir(dir), "lib", loaderName)}
}

// findLoader returns the absolute path of the loader and where it came from: --loader
// (flagVal), else ZPOLINE_LOADER, else the first candidate that exists. The path is checked
// to be a loader; a named one that fails the check is a problem, never skipped.
func findLoader(flagVal string, getenv func(string) string) (path, from string, prob *problem) {
	switch {
	case flagVal != "":
		path, from = flagVal, "--loader"
	case getenv(envLoader) != "":
		path, from = getenv(envLoader), envLoader
	default:
		cands := loaderCandidates()
		for _, c := range cands {
			if st, err := os.Stat(c); err == nil && !st.IsDir() {
				path, from = c, "next to zpoline"
				break
			}
		}
		if path == "" {
			return "", "", &problem{
				fmt.Sprintf("cannot find the loader %s (looked for %s)", loaderName, strings.Join(cands, " and ")),
				"pass --loader PATH or set " + envLoader + " (make builds build/" + loaderName + "; make install puts it in PREFIX/lib)"}
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", from, &problem{fmt.Sprintf("the loader %s (%s): %v", path, from, err), "give an absolute path"}
	}
	if p := checkLoader(abs, from); p != nil {
		return abs, from, p
	}
	return abs, from, nil
}

// checkLoader verifies that path is an x86-64 ELF shared object exporting the loader's entry.
func checkLoader(path, from string) *problem {
	fix := "give the path of " + loaderName + " (build/" + loaderName + " after make)"
	switch from {
	case "--loader":
		fix += ", or drop --loader to use the one next to zpoline"
	case envLoader:
		fix += ", or unset " + envLoader + " to use the one next to zpoline"
	}
	f, why := openSharedObject(path)
	if why != "" {
		return &problem{fmt.Sprintf("the loader %s (%s) %s", path, from, why), fix}
	}
	defer f.Close()
	syms, _ := f.DynamicSymbols()
	for _, s := range syms {
		if s.Name == loaderEntry && s.Section != elf.SHN_UNDEF {
			return nil
		}
	}
	return &problem{fmt.Sprintf("%s (%s) is not a zpoline loader: it does not export %s", path, from, loaderEntry),
		fix + " (a hook library such as " + implName + " goes to --hook)"}
}

// openSharedObject opens path as an x86-64 ELF shared object; why says what it is instead.
func openSharedObject(path string) (*elf.File, string) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, "does not exist"
	case err != nil:
		return nil, "cannot be read: " + errText(err)
	case st.IsDir():
		return nil, "is a directory"
	}
	f, err := elf.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, "cannot be read: permission denied"
		}
		return nil, "is not an ELF file"
	}
	switch {
	case f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64:
		f.Close()
		return nil, fmt.Sprintf("is not an x86-64 object (%v, %v)", f.Class, f.Machine)
	case f.Type != elf.ET_DYN:
		f.Close()
		return nil, fmt.Sprintf("is not a shared object (ELF type %v)", f.Type)
	}
	if flags, err := f.DynValue(elf.DT_FLAGS_1); err == nil && len(flags) > 0 && flags[0]&uint64(elf.DF_1_PIE) != 0 {
		f.Close()
		return nil, "is a program (a position-independent executable), not a shared object"
	}
	return f, ""
}

// errText is an error's cause without the operation and path os wraps around it.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err.Error()
}

// ---- page 0 ----

// pageZero is what decides whether the program will be able to map the trampoline at 0.
type pageZero struct {
	minAddr    uint64 // vm.mmap_min_addr
	minAddrErr error
	capEff     bool // CAP_SYS_RAWIO in this process's effective set
	capAmb     bool // ... in its ambient set (kept across exec by a non-root program)
	capBnd     bool // ... in its bounding set (what uid 0 gets at exec)
	euid       int
	noRoot     bool // SECBIT_NOROOT: uid 0 is not special at exec
}

func inspectPageZero() pageZero {
	var pz pageZero
	b, err := os.ReadFile("/proc/sys/vm/mmap_min_addr")
	if err == nil {
		pz.minAddr, err = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	}
	pz.minAddrErr = err
	caps := statusCaps()
	pz.capEff = caps["CapEff"]&(1<<capSysRawio) != 0
	pz.capAmb = caps["CapAmb"]&(1<<capSysRawio) != 0
	pz.capBnd = caps["CapBnd"]&(1<<capSysRawio) != 0
	pz.euid = os.Geteuid()
	if bits, err := unix.PrctlRetInt(unix.PR_GET_SECUREBITS, 0, 0, 0, 0); err == nil {
		pz.noRoot = bits&secbitNoroot != 0
	}
	return pz
}

// statusCaps reads the capability sets from /proc/self/status.
func statusCaps() map[string]uint64 {
	caps := map[string]uint64{}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return caps
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.HasPrefix(k, "Cap") {
			if n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64); err == nil {
				caps[k] = n
			}
		}
	}
	return caps
}

// rawioAfterExec tells whether a program this process execs has CAP_SYS_RAWIO in its
// effective set: an ambient capability, or uid 0 (which gets its bounding set at exec).
func (pz pageZero) rawioAfterExec() bool {
	return pz.capAmb || (pz.euid == 0 && !pz.noRoot && pz.capBnd)
}

// pageZeroOK tells whether the kernel lets the program map page 0, before SELinux.
func (pz pageZero) pageZeroOK() bool {
	return pz.minAddrErr == nil && (pz.minAddr == 0 || pz.rawioAfterExec())
}

const rawioFix = "run 'sudo sysctl -w vm.mmap_min_addr=0', or give the program CAP_SYS_RAWIO as an ambient capability " +
	"(sudo setpriv --reuid=$USER --regid=$(id -g) --init-groups --inh-caps=+sys_rawio --ambient-caps=+sys_rawio zpoline run ...; USAGE.md §1.1)"

// problem says why page 0 cannot be mapped, before SELinux is considered.
func (pz pageZero) problem() *problem {
	switch {
	case pz.minAddrErr != nil:
		return &problem{"cannot read vm.mmap_min_addr: " + errText(pz.minAddrErr),
			"mount /proc (the loader needs /proc/self/maps and /proc/self/mem too)"}
	case pz.pageZeroOK():
		return nil
	case pz.capEff:
		return &problem{fmt.Sprintf("vm.mmap_min_addr is %d, and CAP_SYS_RAWIO is in this process's effective set "+
			"but not ambient, so the program loses it at exec and cannot map page 0", pz.minAddr), rawioFix}
	default:
		return &problem{fmt.Sprintf("vm.mmap_min_addr is %d and the program would not have CAP_SYS_RAWIO, "+
			"so the loader cannot map its trampoline at page 0", pz.minAddr), rawioFix}
	}
}

// probePageZero maps page 0 (PROT_NONE, never replacing anything) in this process and
// unmaps it: the kernel's and SELinux's answer for this process, as the loader will ask.
func probePageZero() error {
	pg := uintptr(os.Getpagesize())
	r, _, e := unix.Syscall6(unix.SYS_MMAP, 0, pg, unix.PROT_NONE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE, ^uintptr(0), 0)
	if e != 0 {
		return e
	}
	unix.Syscall(unix.SYS_MUNMAP, r, pg, 0)
	if r != 0 {
		return fmt.Errorf("the kernel ignored MAP_FIXED_NOREPLACE and mapped %#x (Linux 4.17 or later is needed)", r)
	}
	return nil
}

// selinuxState is what can be read about SELinux without libselinux.
type selinuxState struct {
	enabled        bool
	enforcing      bool
	mmapLowAllowed string // "on", "off", or "" when the boolean does not exist
	context        string // this process's domain
}

func inspectSELinux() selinuxState {
	var s selinuxState
	b, err := os.ReadFile("/sys/fs/selinux/enforce")
	if err != nil {
		return s
	}
	s.enabled = true
	s.enforcing = strings.TrimSpace(string(b)) == "1"
	if b, err := os.ReadFile("/sys/fs/selinux/booleans/mmap_low_allowed"); err == nil {
		s.mmapLowAllowed = "off"
		if f := strings.Fields(string(b)); len(f) > 0 && f[0] == "1" {
			s.mmapLowAllowed = "on"
		}
	}
	if b, err := os.ReadFile("/proc/self/attr/current"); err == nil {
		s.context = strings.TrimRight(string(b), "\x00\n")
	}
	return s
}

const selinuxFix = "run 'sudo setsebool -P mmap_low_allowed 1', or allow memprotect { mmap_zero } for this domain in the policy"

// page0Problem is `run`'s page-0 check: the kernel's rules for the exec'd program, then a
// probe mapping in this process, which is where SELinux answers.
func page0Problem() *problem {
	pz := inspectPageZero()
	if p := pz.problem(); p != nil {
		return p
	}
	if pz.minAddr != 0 && !pz.capEff {
		return nil // the program gets the capability at exec; this process cannot probe for it
	}
	err := probePageZero()
	if err == nil {
		return nil
	}
	if se := inspectSELinux(); se.enforcing && (errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)) {
		return &problem{fmt.Sprintf("SELinux (enforcing) forbids mapping page 0 (mmap_zero) in domain %s", se.context), selinuxFix}
	}
	return &problem{"a test mapping of page 0 failed: " + err.Error(), "run 'zpoline doctor' for the details"}
}

// ---- address-space limit ----

// addressSpace returns RLIMIT_AS's soft limit (unix.RLIM_INFINITY for none).
func addressSpace() (uint64, error) {
	var r unix.Rlimit
	err := unix.Getrlimit(unix.RLIMIT_AS, &r)
	return r.Cur, err
}

// addressSpaceProblem is the loader's own start-up check, with its wording.
func addressSpaceProblem(cur uint64) *problem {
	if cur >= minAddressSpace {
		return nil
	}
	return &problem{fmt.Sprintf("the address-space limit (ulimit -v %d) is below the 2 GiB the loader's Go runtime needs to start", cur/1024),
		"raise it (ulimit -v 2097152 or more, or unlimited)"}
}

// ---- the hook and the output files ----

// resolveHook checks --hook and returns the value for ZPOLINE_HOOK: builtin:pass, or the
// absolute path of an ELF shared object.
func resolveHook(v string) (string, *problem) {
	if strings.HasPrefix(v, "builtin:") {
		if v != builtinPass {
			return "", &problem{fmt.Sprintf("unknown built-in hook %q", v), "the built-in hook is " + builtinPass}
		}
		return v, nil
	}
	abs, err := filepath.Abs(v)
	if err != nil {
		return "", &problem{fmt.Sprintf("the hook library %s: %v", v, err), "give an absolute path"}
	}
	f, why := openSharedObject(abs)
	if why != "" {
		fix := "give the path of a hook library built with -shared (USAGE.md §4), or --hook " + builtinPass
		if why == "does not exist" {
			fix = "check the --hook path, or use --hook " + builtinPass
		}
		return "", &problem{fmt.Sprintf("the hook library %s %s", abs, why), fix}
	}
	f.Close()
	return abs, nil
}

// checkOutputFile checks that the file given to flag (--log, --stats) can be opened for
// appending, as the loader and the default hook will, and returns its absolute path. A
// file that did not exist is removed again: the program creates it when it writes.
func checkOutputFile(flag, p string) (string, *problem) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", &problem{fmt.Sprintf("%s %s: %v", flag, p, err), "give an absolute path"}
	}
	dir := filepath.Dir(abs)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", &problem{fmt.Sprintf("cannot write the %s file %s: the directory %s does not exist", flag, abs, dir),
			"create the directory or choose another path"}
	case err == nil && !st.IsDir():
		return "", &problem{fmt.Sprintf("cannot write the %s file %s: %s is not a directory", flag, abs, dir),
			"choose another path"}
	}
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		return "", &problem{fmt.Sprintf("the %s file %s is a directory", flag, abs), "give a file name"}
	}
	created := true
	fd, err := unix.Open(abs, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if errors.Is(err, unix.EEXIST) {
		created = false
		fd, err = unix.Open(abs, unix.O_WRONLY|unix.O_APPEND|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		fix := "choose a file in a writable directory"
		if created {
			fix += " (" + dir + " is not writable here)"
		}
		return "", &problem{fmt.Sprintf("cannot write the %s file %s: %v", flag, abs, err), fix}
	}
	unix.Close(fd)
	if created {
		os.Remove(abs)
	}
	return abs, nil
}

// ---- the program ----

// findProgram looks name up as a shell would: in PATH unless it contains a slash. The
// status is 127 when it is not found and 126 when it cannot be executed.
func findProgram(name string) (string, int, *problem) {
	path, err := exec.LookPath(name)
	if err != nil && errors.Is(err, exec.ErrDot) {
		err = nil // found through a relative PATH entry: a shell runs it too
	}
	switch {
	case err == nil:
		return path, 0, nil
	case errors.Is(err, fs.ErrPermission):
		return "", exitNoExec, &problem{name + ": permission denied (not an executable file)", "check its mode (chmod +x) or the path"}
	case strings.Contains(name, "/"):
		return "", exitNotFound, &problem{name + ": no such file", "check the program's path"}
	default:
		return "", exitNotFound, &problem{name + ": command not found in PATH", "check the name, or give the program's path"}
	}
}

// unhookedReason says why LD_PRELOAD would not reach path ("" when it would, or when that
// cannot be told, as for scripts).
func unhookedReason(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	interp := false
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			interp = true
		}
	}
	if !interp {
		// ld.so run directly (ld.so prog) has no interpreter but honours LD_PRELOAD.
		if names, err := f.DynString(elf.DT_SONAME); err == nil && len(names) > 0 && strings.HasPrefix(names[0], "ld-") {
			return ""
		}
		return "it is statically linked, and LD_PRELOAD only reaches dynamically linked programs"
	}
	var st unix.Stat_t
	if unix.Stat(path, &st) == nil {
		switch {
		case st.Mode&unix.S_ISUID != 0 && int(st.Uid) != os.Geteuid():
			return fmt.Sprintf("it is set-user-ID (owner uid %d), so ld.so ignores LD_PRELOAD", st.Uid)
		case st.Mode&unix.S_ISGID != 0 && int(st.Gid) != os.Getegid() && st.Mode&unix.S_IXGRP != 0:
			return fmt.Sprintf("it is set-group-ID (group %d), so ld.so ignores LD_PRELOAD", st.Gid)
		}
	}
	return ""
}
