package systab

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCHeaderAgreesWithGo compiles a C program against the generated header and checks
// that C sees exactly the Go tables.
func TestCHeaderAgreesWithGo(t *testing.T) {
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed")
	}
	dir := t.TempDir()
	var hdr bytes.Buffer
	if err := WriteCHeader(&hdr); err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := WriteCHeader(&again); err != nil || !bytes.Equal(hdr.Bytes(), again.Bytes()) {
		t.Fatalf("WriteCHeader is not deterministic (err %v)", err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "zp_systab.h"), hdr.Bytes(), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "dump.c"), []byte(`
#include <stdio.h>
#include "zp_systab.h"
_Static_assert(ZP_NR_openat == 257, "openat");
_Static_assert(ZP_NR_file_setattr == ZP_SYSCALL_COUNT - 1, "last");
_Static_assert(ZP_ENOENT == 2 && ZP_EHWPOISON == ZP_ERRNO_COUNT - 1, "errno");
int main(void) {
	for (int i = 0; i < ZP_SYSCALL_COUNT; i++)
		if (zp_syscall_names[i]) printf("S %d %s %d\n", i, zp_syscall_names[i], zp_syscall_nargs[i]);
	for (int i = 0; i < ZP_ERRNO_COUNT; i++)
		if (zp_errno_names[i]) printf("E %d %s\n", i, zp_errno_names[i]);
	return 0;
}
`), 0o644))
	// An empty file that only includes the header must compile cleanly too.
	must(t, os.WriteFile(filepath.Join(dir, "only.c"), []byte("#include \"zp_systab.h\"\nint zp_dummy;\n"), 0o644))
	for _, args := range [][]string{
		{"-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-o", "dump", "dump.c"},
		{"-O2", "-Wall", "-Wextra", "-Werror", "-mgeneral-regs-only", "-c", "-o", "only.o", "only.c"},
	} {
		cmd := exec.Command(cc, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", cc, strings.Join(args, " "), err, out)
		}
	}
	out, err := exec.Command(filepath.Join(dir, "dump")).Output()
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, s := range All() {
		fmt.Fprintf(&want, "S %d %s %d\n", s.Nr, s.Name, s.Args)
	}
	for _, e := range Errnos() {
		fmt.Fprintf(&want, "E %d %s\n", e.Nr, e.Name)
	}
	if string(out) != want.String() {
		t.Errorf("C tables differ from Go tables:\n--- C\n%s\n--- Go\n%s", out, want.String())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
