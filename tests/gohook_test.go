package tests

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A Go hook that panics: one report naming the system call and the panic, then SIGABRT.
func TestGoHookPanicAborts(t *testing.T) {
	needLoader(t)
	lib := filepath.Join(t.TempDir(), "libgopanic.so")
	build := exec.Command("go", "build", "-buildmode=c-shared", "-o", lib, "./testdata/gopanic")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the panicking hook: %v\n%s", err, out)
	}
	r := run(t, runSpec{
		args: []string{"/usr/bin/python3", "-c", "import os; print('before', flush=True); os.getppid(); print('survived')"},
		env:  append(baseEnv(), "LD_PRELOAD="+lib, "ZPOLINE_HOOK=builtin:pass"),
	})
	if r.exited || r.timedOut || r.signal != syscall.SIGABRT {
		t.Fatalf("want death by SIGABRT, got %s\n%s", r.status(), r)
	}
	if strings.Contains(string(r.stdout), "survived") || !strings.Contains(string(r.stdout), "before") {
		t.Fatalf("the program must stop at the panicking call\n%s", r)
	}
	for _, want := range []string{"zpoline: Go hook panicked in getppid(", "boom from the test hook"} {
		if !strings.Contains(string(r.stderr), want) {
			t.Errorf("stderr lacks %q\n%s", want, r)
		}
	}
}
