// Package hook is the Go SDK for writing zpoline hooks: a Go function that sees (and may
// change or emulate) every system call of the process it is loaded into.
//
// A hook is registered in-process, from the init function of a `package main` that also
// imports the loader and is built with -buildmode=c-shared:
//
//	package main
//
//	import "C"
//	import (
//		"golang.org/x/sys/unix"
//		"github.com/zpoline-go/zpoline/hook"
//		_ "github.com/zpoline-go/zpoline/loader"
//	)
//
//	func init() {
//		hook.Register(func(r *hook.Regs) int64 { return 424242 }, unix.SYS_GETPPID)
//	}
//
//	func main() {}
//
// and used as LD_PRELOAD=libmyhook.so prog. There is one Go runtime in the process.
//
// Where a Go hook does not run (DESIGN.md §2): the loader serves these calls with the
// C hook it loaded (ZPOLINE_HOOK, the default library or the built-in pass-through) and
// counts them (see Bypassed):
//   - in a fork child until it execs (the Go runtime's other threads do not exist there),
//   - in a vfork child (it shares the parent's memory and stack),
//   - on the Go runtime's own threads (their libc calls come from inside the runtime),
//   - in a signal handler that interrupted a hook on the same thread,
//   - before the loader finished starting,
//   - for the clone family (fork, vfork, clone, clone3): the loader runs them itself;
//   - for exit (the end of a thread): a thread must not end inside a Go callback.
package hook

/*
#include "../include/zpoline.h"
void *zp_go_dispatch_addr(void);
*/
import "C"

import (
	"fmt"
	"os"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/zpoline-go/zpoline/internal/core"
	"github.com/zpoline-go/zpoline/internal/systab"
)

// Regs are the registers of one system call, laid out as struct zpoline_regs
// (include/zpoline.h).
type Regs struct {
	Nr    int64     // the system call number (rax)
	Args  [6]uint64 // rdi, rsi, rdx, r10, r8, r9
	Ret   uint64    // the address the system call returns to
	Rsp   uint64    // the application's stack pointer at the call
	Flags uint64    // zpoline_regs.flags
}

// Func is a Go hook: it returns the system call's result, or -errno.
type Func func(r *Regs) int64

// current is the registered hook.
var current atomic.Pointer[Func]

// Register installs fn as the Go hook for the numbers nrs (for every number when nrs is
// empty). Calls for other numbers never enter Go: they stay on the C path. Register may
// be called from init (the usual place) or later; a later call replaces the hook.
func Register(fn Func, nrs ...int) {
	current.Store(&fn)
	var g core.GoHook
	g.Fn = C.zp_go_dispatch_addr()
	for nr := range g.Want {
		g.Want[nr] = len(nrs) == 0
	}
	for _, nr := range nrs {
		if nr >= 0 && nr < len(g.Want) {
			g.Want[nr] = true
		}
	}
	core.RegisterGoHook(g)
}

// Syscall performs the real system call described by r and returns its result or
// -errno. (The clone family never reaches a Go hook.)
func Syscall(r *Regs) int64 {
	a := r.Args
	r1, _, e := syscall.RawSyscall6(uintptr(r.Nr), uintptr(a[0]), uintptr(a[1]), uintptr(a[2]),
		uintptr(a[3]), uintptr(a[4]), uintptr(a[5]))
	if e != 0 {
		return -int64(e)
	}
	return int64(r1)
}

// Counters are the calls a Go hook did not see, by reason, and the calls that reached
// any hook; see the package comment.
type Counters = core.Counters

// Bypassed returns the process-wide counters.
func Bypassed() Counters { return core.ReadCounters() }

//export zpolineGoDispatch
func zpolineGoDispatch(cr *C.struct_zpoline_regs) C.int64_t {
	r := (*Regs)(unsafe.Pointer(cr))
	defer abortOnPanic(r)
	fn := current.Load()
	if fn == nil {
		return C.int64_t(Syscall(r))
	}
	return C.int64_t((*fn)(r))
}

// abortOnPanic turns a panic in a hook into one report and SIGABRT: a hook that panics
// in the middle of a system call cannot hand the program a meaningful result.
func abortOnPanic(r *Regs) {
	if p := recover(); p != nil {
		fmt.Fprintf(os.Stderr, "zpoline: Go hook panicked in %s(%#x, %#x, %#x, %#x, %#x, %#x): %v\n%s",
			systab.Name(r.Nr), r.Args[0], r.Args[1], r.Args[2], r.Args[3], r.Args[4], r.Args[5], p, debug.Stack())
		core.Abort()
	}
}
