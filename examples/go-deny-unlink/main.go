// The Go runtime must not keep cgroup files open in the program to re-read its CPU limit.

//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command go-deny-unlink is a loader variant with a typed Go hook: unlink, unlinkat and
// rmdir of the directory named by ZPOLINE_DENY_DIR, or of anything below it, fail with
// EPERM; every other call passes through (and every other number never enters Go).
// Build it with
//
//	go build -buildmode=c-shared -o build/libzpoline_go_deny_unlink.so ./examples/go-deny-unlink
//
// and run
//
//	ZPOLINE_DENY_DIR=/srv/keep LD_PRELOAD=$PWD/build/libzpoline_go_deny_unlink.so rm -rf /srv/keep/x
//	rm: cannot remove '/srv/keep/x': Operation not permitted
//
// Paths are compared after making them absolute (against the working directory, or the
// directory open as dirfd) and resolving symbolic links in their directory part, so
// "../keep/x" from a sibling, or a path through a symbolic link to the directory, are
// denied too; the last component is not resolved, since unlink removes a link, not its
// target. ZPOLINE_DENY_DIR is read once per process, at start-up; give it as an absolute
// path (a relative one is taken against each process's own working directory). Without it
// nothing is registered and every call stays on the C path.
//
// What it does not stop: rename(2) of a file out of the directory, truncation,
// deletion in a fork child before it execs (Go hooks do not run there; the loader's C
// hook does, DESIGN.md §2) and programs that do not load the loader (static binaries,
// a cleared environment). It is a guard against mistakes, not a sandbox.
package main

import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/zpoline-go/zpoline/hook"
	_ "github.com/zpoline-go/zpoline/loader"
)

// denyUnlink refuses to remove dir or anything below it.
type denyUnlink struct {
	dir string // absolute, cleaned, symbolic links resolved
}

func (d denyUnlink) Unlink(c *hook.Call, path string) (int64, syscall.Errno) {
	return d.check(c, unix.AT_FDCWD, path)
}

func (d denyUnlink) Unlinkat(c *hook.Call, dirfd int, path string, flags int) (int64, syscall.Errno) {
	return d.check(c, dirfd, path)
}

func (d denyUnlink) Rmdir(c *hook.Call, path string) (int64, syscall.Errno) {
	return d.check(c, unix.AT_FDCWD, path)
}

// check fails the call with EPERM when path names something under d.dir, and performs
// it otherwise. A path that cannot be made absolute (a bad dirfd, a deleted working
// directory) is performed: the kernel then reports the error it would have reported.
func (d denyUnlink) check(c *hook.Call, dirfd int, path string) (int64, syscall.Errno) {
	abs, err := hook.ResolvePath(dirfd, path)
	if err != nil {
		return c.Default()
	}
	if d.covers(abs) || d.covers(resolveDir(abs)) {
		return -1, syscall.EPERM
	}
	return c.Default()
}

// covers reports whether p is d.dir or below it.
func (d denyUnlink) covers(p string) bool {
	return p == d.dir || d.dir == "/" || strings.HasPrefix(p, d.dir+"/")
}

// resolveDir resolves the symbolic links of p's directory part (not of its last
// component), or returns p when that fails (a directory that does not exist).
func resolveDir(p string) string {
	dir, base := filepath.Split(p)
	r, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return p
	}
	return filepath.Join(r, base)
}

func init() {
	dir := os.Getenv("ZPOLINE_DENY_DIR")
	if dir == "" {
		return
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		if r, err := filepath.EvalSymlinks(abs); err == nil {
			abs = r
		}
		err = hook.RegisterTyped(denyUnlink{dir: abs})
	}
	if err != nil {
		// Running without the protection the user asked for would be worse than not
		// running: exit as the loader does when it cannot hook.
		fmt.Fprintf(os.Stderr, "go-deny-unlink: ZPOLINE_DENY_DIR=%s: %v; not running the program unprotected\n", dir, err)
		os.Exit(127)
	}
}

func main() {}
