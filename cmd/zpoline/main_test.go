package main

// Unit tests of the parts that need no loader; tests/cli_test.go runs the built command.

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Every flag of every subcommand is in its --help text.
func TestHelpNamesEveryFlag(t *testing.T) {
	for name, fs := range map[string]*flag.FlagSet{
		"run":    runFlags(&runOptions{}),
		"doctor": doctorFlags(&doctorOptions{}),
	} {
		help := lookup(name).help
		if !strings.HasPrefix(help, "Usage: zpoline "+name) {
			t.Errorf("%s: help does not start with its usage line:\n%s", name, help)
		}
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(help, "--"+f.Name) {
				t.Errorf("%s --help does not mention --%s", name, f.Name)
			}
		})
	}
	for _, c := range commands {
		if !strings.Contains(mainHelp(), "  "+c.name+" ") {
			t.Errorf("zpoline --help does not list %s", c.name)
		}
	}
}

func TestSpelled(t *testing.T) {
	for _, c := range []struct {
		args []string
		name string
		want string
	}{
		{[]string{"--bogus"}, "-bogus", "--bogus"},
		{[]string{"-bogus=1"}, "-bogus", "-bogus"},
		{[]string{"--hook", "x", "--bogus=2"}, "-bogus", "--bogus"},
		{[]string{"--", "--bogus"}, "-bogus", "--bogus"},
	} {
		if got := spelled(c.args, c.name); got != c.want {
			t.Errorf("spelled(%q, %q) = %q, want %q", c.args, c.name, got, c.want)
		}
	}
}

func TestListFlag(t *testing.T) {
	var l listFlag
	for _, v := range []string{"a.so,b.so", "c.so:/x/d.so", ""} {
		if err := l.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.String(); got != "a.so:b.so:c.so:/x/d.so" {
		t.Errorf("exclude list = %q", got)
	}
}

func TestPreloadWith(t *testing.T) {
	dir := t.TempDir()
	loader := filepath.Join(dir, "libzpoline.so")
	if err := os.WriteFile(loader, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.so")
	if err := os.Symlink(loader, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ existing, want string }{
		{"", loader},
		{"/a.so", "/a.so:" + loader},
		{"/asan.so /b.so", "/asan.so:/b.so:" + loader},
		{loader + ":/b.so", "/b.so:" + loader},   // never twice
		{link + " /b.so", "/b.so:" + loader},     // the same file under another name
		{"::/a.so  ", "/a.so:" + loader},         // empty entries
		{"/missing.so", "/missing.so:" + loader}, // kept: ld.so reports it
		{"libfoo.so", "libfoo.so:" + loader},     // bare names are ld.so's business
		{"/a.so:" + loader + ":" + loader, "/a.so:" + loader},
	} {
		if got := preloadWith(c.existing, loader); got != c.want {
			t.Errorf("preloadWith(%q) = %q, want %q", c.existing, got, c.want)
		}
	}
}

func TestSetEnv(t *testing.T) {
	got := setEnv([]string{"A=1", "ZPOLINE_HOOK=x", "B=2", "ZPOLINE_HOOK=y"}, "ZPOLINE_HOOK", "z")
	want := []string{"A=1", "B=2", "ZPOLINE_HOOK=z"}
	if !slices.Equal(got, want) {
		t.Errorf("setEnv = %q, want %q", got, want)
	}
}

func TestKernelVersion(t *testing.T) {
	for _, c := range []struct {
		release    string
		maj, minor int
		ok         bool
	}{
		{"6.1.0-18-amd64", 6, 1, true},
		{"5.11.0", 5, 11, true},
		{"4.19.112+", 4, 19, true},
		{"weird", 0, 0, false},
	} {
		maj, minor, ok := kernelVersion(c.release)
		if maj != c.maj || minor != c.minor || ok != c.ok {
			t.Errorf("kernelVersion(%q) = %d, %d, %v", c.release, maj, minor, ok)
		}
	}
	if !atLeast(5, 11, 5, 11) || atLeast(5, 10, 5, 11) || !atLeast(6, 0, 5, 11) || atLeast(4, 20, 5, 11) {
		t.Error("atLeast is wrong")
	}
}

func TestCPUFlags(t *testing.T) {
	info := "processor\t: 0\nflags\t\t: fpu sse xsave avx fsgsbase\n\nprocessor\t: 1\nflags\t\t: fpu pku\n"
	f := cpuFlags([]byte(info))
	if !f["xsave"] || !f["fsgsbase"] || f["pku"] {
		t.Errorf("flags of the first processor: %v", f)
	}
}

func TestAddressSpaceProblem(t *testing.T) {
	if p := addressSpaceProblem(2 << 30); p != nil {
		t.Errorf("2 GiB is enough, got %v", p)
	}
	p := addressSpaceProblem(1000000 * 1024)
	if p == nil || !strings.HasPrefix(p.String(), "zpoline: the address-space limit (ulimit -v 1000000)") ||
		!strings.Contains(p.fix, "ulimit -v 2097152") {
		t.Errorf("1000000 KiB: %v", p)
	}
}

func TestResolveHook(t *testing.T) {
	if h, p := resolveHook("builtin:pass"); h != "builtin:pass" || p != nil {
		t.Errorf("builtin:pass: %q %v", h, p)
	}
	if _, p := resolveHook("builtin:nope"); p == nil || !strings.Contains(p.cause, "builtin:nope") {
		t.Errorf("builtin:nope: %v", p)
	}
	dir := t.TempDir()
	txt := filepath.Join(dir, "hook.so")
	os.WriteFile(txt, []byte("not elf"), 0o644)
	if _, p := resolveHook(txt); p == nil || !strings.Contains(p.cause, "not an ELF file") {
		t.Errorf("text file: %v", p)
	}
	if _, p := resolveHook(filepath.Join(dir, "missing.so")); p == nil || !strings.Contains(p.cause, "does not exist") {
		t.Errorf("missing: %v", p)
	}
	exe, _ := os.Executable() // a static Go program: ELF, but not a shared object
	if _, p := resolveHook(exe); p == nil || !strings.Contains(p.cause, "not a shared object") {
		t.Errorf("program: %v", p)
	}
}

func TestCheckOutputFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	abs, p := checkOutputFile("--log", "new.log")
	if p != nil || abs != filepath.Join(dir, "new.log") {
		t.Fatalf("new.log: %q %v", abs, p)
	}
	if _, err := os.Stat(abs); !os.IsNotExist(err) {
		t.Errorf("the check left %s behind", abs)
	}
	os.WriteFile(abs, []byte("old\n"), 0o644)
	if _, p := checkOutputFile("--log", abs); p != nil {
		t.Errorf("existing file: %v", p)
	}
	if b, _ := os.ReadFile(abs); string(b) != "old\n" {
		t.Errorf("the check changed an existing file: %q", b)
	}
	if _, p := checkOutputFile("--log", filepath.Join(dir, "no", "x.log")); p == nil || !strings.Contains(p.cause, "does not exist") {
		t.Errorf("missing directory: %v", p)
	}
	if _, p := checkOutputFile("--stats", dir); p == nil || !strings.Contains(p.cause, "is a directory") {
		t.Errorf("directory: %v", p)
	}
}

func TestFormatResults(t *testing.T) {
	out := formatResults([]result{
		{"a", statusOK, "fine", ""},
		{"longer", statusFail, "broken", "do this"},
	})
	want := "ok    a       fine\nFAIL  longer  broken; fix: do this\nzpoline: 1 check(s) failed\n"
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}

// The page-0 verdicts for the situations this machine may not be in.
func TestPageZeroVerdicts(t *testing.T) {
	eperm := unix.EPERM
	for _, c := range []struct {
		name                  string
		pz                    pageZero
		se                    selinuxState
		probe                 error
		okay                  bool   // pageZeroOK
		minAddr, rawio, page0 string // statuses
		cause                 string // part of pz.problem().cause, "" for none
	}{
		{"min 0, no caps", pageZero{euid: 1000}, selinuxState{}, nil, true, statusOK, statusOK, statusOK, ""},
		{"min 65536, root", pageZero{minAddr: 65536, capEff: true, capBnd: true}, selinuxState{}, nil, true, statusWarn, statusOK, statusOK, ""},
		{"min 65536, ambient", pageZero{minAddr: 65536, capEff: true, capAmb: true, capBnd: true, euid: 1000}, selinuxState{}, nil, true, statusWarn, statusOK, statusOK, ""},
		{"min 65536, effective only", pageZero{minAddr: 65536, capEff: true, capBnd: true, euid: 1000}, selinuxState{}, nil, false, statusFail, statusWarn, statusOK, "not ambient"},
		{"min 65536, user", pageZero{minAddr: 65536, capBnd: true, euid: 1000}, selinuxState{}, eperm, false, statusFail, statusWarn, statusFail, "would not have CAP_SYS_RAWIO"},
		{"min 65536, root with SECBIT_NOROOT", pageZero{minAddr: 65536, capBnd: true, noRoot: true}, selinuxState{}, eperm, false, statusFail, statusWarn, statusFail, "would not have CAP_SYS_RAWIO"},
		{"SELinux denies", pageZero{}, selinuxState{enabled: true, enforcing: true}, unix.EACCES, true, statusOK, statusOK, statusFail, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.pz.pageZeroOK(); got != c.okay {
				t.Errorf("pageZeroOK = %v", got)
			}
			p := c.pz.problem()
			if (p == nil) != (c.cause == "") || p != nil && !strings.Contains(p.cause, c.cause) {
				t.Errorf("problem = %v, want one containing %q", p, c.cause)
			}
			if p != nil && !strings.Contains(p.fix, "sysctl -w vm.mmap_min_addr=0") {
				t.Errorf("the fix does not give the sysctl: %v", p)
			}
			for name, got := range map[string]result{"vm.mmap_min_addr": checkMinAddr(c.pz), "CAP_SYS_RAWIO": checkRawio(c.pz),
				"page 0": checkProbe(c.pz, c.se, c.probe)} {
				want := map[string]string{"vm.mmap_min_addr": c.minAddr, "CAP_SYS_RAWIO": c.rawio, "page 0": c.page0}[name]
				if got.Status != want {
					t.Errorf("%s: %+v, want status %s", name, got, want)
				}
				if got.Status == statusFail && got.Fix == "" {
					t.Errorf("%s fails without a fix: %+v", name, got)
				}
			}
			if c.se.enforcing {
				if r := checkSELinux(c.se, c.pz, c.probe); r.Status != statusFail || !strings.Contains(r.Fix, "mmap_low_allowed") {
					t.Errorf("SELinux: %+v", r)
				}
			}
		})
	}
}
