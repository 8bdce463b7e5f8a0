package tests

// Code made executable after start-up (issue 6): tests/probes/newcode.c natively and
// under the loader. Safety-net mode: the default (ZPOLINE_SUD=auto), which never arms in
// these cases except "fork", where a fork child maps a file it does not know and the net
// serves its calls; "fork-sud-off" runs the same with the net off (ZPOLINE_SUD=off):
// coverage comes from rewriting at mmap/mprotect/mremap time alone.
//
// The probe's system call 499 is unknown to the kernel; the test hooks count it, so a
// hooked run proves every call through the new code reached the hook exactly once.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewCode(t *testing.T) {
	a := needLoader(t)
	lib := filepath.Join(a.build, "tests", "libnewcode.so")
	libB := filepath.Join(a.build, "tests", "libnewcode_b.so")
	requireFiles(t, lib, libB, a.probe("newcode"))
	cases := []struct {
		name string
		args []string
		what string   // what the case proves
		env  []string // added to the hooked run's environment
	}{
		{"jit", []string{"jit"}, "JIT page: mmap RW, write, mprotect RX, call (Go path); data bytes kept", nil},
		{"mprotect", []string{"mprotect"}, "code written into .data, then mprotect RX (anonymous rule)", nil},
		{"dlopen", []string{"dlopen", lib}, "library dlopen'ed after start-up; immediates and data in .text kept", nil},
		{"clone", []string{"clone"}, "raw clone thread sharing its creator's TLS (worker path)", nil},
		{"mremap", []string{"mremap", lib}, "rewritten code moved by mremap: a JIT page (call shape), a library's text (jump shape) there and back", nil},
		{"fork", []string{"fork", lib, libB}, "fork child: known file rewritten in C; unknown file served by the SUD net",
			sudNetEnv()},
		{"fork-sud-off", []string{"fork", lib, libB}, "fork child: known file rewritten in C; unknown file left unrewritten",
			[]string{"ZPOLINE_SUD=off"}},
	}
	variants := []hookVariant{hookVariants[0], hookVariants[2]} // rs (C hook), go (Go hook in front)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := runSpec{args: append([]string{a.probe("newcode")}, c.args...)}
			spec.env = nativeEnv()
			native := run(t, spec)
			if !native.ok() {
				t.Fatalf("native %s (%s) failed: the probe itself is wrong\n%s", c.name, c.what, native)
			}
			for _, v := range variants {
				t.Run(v.name, func(t *testing.T) {
					stats := filepath.Join(t.TempDir(), "stats")
					spec.env = hookedEnv(a, v, append([]string{"PROBE_HOOKED=1", "ZPOLINE_STATS=" + stats}, c.env...)...)
					r := run(t, spec)
					if !r.ok() || !bytes.Equal(r.stdout, native.stdout) {
						t.Fatalf("hooked %s (%s): want the native output %q\n%s", c.name, c.what, native.stdout, r)
					}
					st, err := os.ReadFile(stats)
					if err != nil {
						t.Fatalf("statistics: %v", err)
					}
					checkNewCodeStats(t, c.name, string(st))
				})
			}
		})
	}
}

// checkNewCodeStats asserts that ZPOLINE_STATS shows how the case's new code was served.
func checkNewCodeStats(t *testing.T, name, st string) {
	t.Helper()
	want := map[string][]string{
		"jit":          {"go: 1 ranges, 1 sites"},
		"mprotect":     {"go: 1 ranges, 1 sites"},
		"dlopen":       {"go: 1 ranges, 1 sites", "libnewcode.so: go, 1 sites"},
		"clone":        {"worker: 1 ranges, 1 sites"},
		"mremap":       {"moved by mremap: 3 sites"},
		"fork":         {"c (known files): 1 ranges, 1 sites", "unrewritten (no Go here, code not known): 1"},
		"fork-sud-off": {"c (known files): 1 ranges, 1 sites", "unrewritten (no Go here, code not known): 1", "sud: mode off"},
	}[name]
	if name == "fork" && sudAvailable() {
		want = append(want, "sud: mode auto, available, armed; threads armed: 1; traps: 3")
	}
	for _, w := range want {
		if !strings.Contains(st, w) {
			t.Errorf("%s: statistics lack %q:\n%s", name, w, st)
		}
	}
	if !strings.Contains(st, "hook namespace (excluded): 1") {
		t.Errorf("%s: the hook namespace's mappings were not excluded:\n%s", name, st)
	}
}

// sudNetEnv tells the newcode probe whether the SUD net can serve what stays unrewritten.
func sudNetEnv() []string {
	if sudAvailable() {
		return []string{"PROBE_SUD_NET=1"}
	}
	return nil
}
