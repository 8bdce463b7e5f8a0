// Package core is the only C and assembly logic of zpoline-go: the trampoline's entry,
// the per-call dispatcher, the clone family, per-thread blocks and the raw system call.
// README.md says why each piece is not Go and which contracts it keeps. This file is
// the Go side: thin wrappers the loader uses once, at start-up, never on the hook path.
package core

/*
#cgo CFLAGS: -O2 -g -Wall -Wextra -Wno-unused-parameter -fno-strict-aliasing -fno-stack-protector -fno-omit-frame-pointer
#cgo LDFLAGS: -Wl,--wrap=pthread_create -Wl,--wrap=pthread_getattr_np
#include <stdlib.h>
#include "zp_core.h"

static uint64_t zp_addr_entry_call(void) { return (uint64_t)zp_entry_call; }
static uint64_t zp_addr_entry_jump(void) { return (uint64_t)zp_entry_jump; }
static void *zp_addr_orig_slot(void) { return &zp_orig_hook_slot; }
static void *zp_addr_api(void) { return (void *)&zp_api; }
static void *zp_ptr(uint64_t addr) { return (void *)addr; }
*/
import "C"

import (
	"fmt"
	"sync"
	"syscall"
	"unsafe"
)

// EntryCall is the address the trampoline transfers to (the callq *%rax arrival).
func EntryCall() uint64 { return uint64(C.zp_addr_entry_call()) }

// EntryJump is the address a ShapeJump stub transfers to, with rcx = return address.
func EntryJump() uint64 { return uint64(C.zp_addr_entry_jump()) }

// MapFixed maps anonymous memory at exactly addr without replacing anything there.
// It returns the errno on failure (EEXIST when something is mapped there, EPERM when
// the kernel forbids the address, for example below vm.mmap_min_addr).
func MapFixed(addr, length uint64, prot int) error {
	r := int64(C.zp_map_fixed(C.uint64_t(addr), C.uint64_t(length), C.int(prot)))
	if r < 0 {
		return syscall.Errno(-r)
	}
	if uint64(r) != addr {
		// A kernel (or valgrind) that ignores MAP_FIXED_NOREPLACE: give it back.
		syscall.Syscall(syscall.SYS_MUNMAP, uintptr(r), uintptr(length), 0)
		return fmt.Errorf("mmap at %#x returned %#x", addr, r)
	}
	return nil
}

// Memory returns the n bytes of this process's memory at addr, without copying. The
// caller must know the range is mapped and readable, and must not keep the slice past
// an unmap.
func Memory(addr, n uint64) []byte {
	return unsafe.Slice((*byte)(C.zp_ptr(C.uint64_t(addr))), n)
}

// LowMapped tells the C side that the low region (the trampoline and the null block)
// is mapped, so %gs-relative reads of a thread's block no longer fault.
func LowMapped() { C.zp_low_mapped = 1 }

// SetSites replaces the set of rewritten callq sites that the entry accepts as the
// origin of a call into the trampoline; anything else is a call through NULL.
func SetSites(addrs []uint64) error {
	if len(addrs) == 0 {
		addrs = []uint64{^uint64(0)}
	}
	if r := C.zp_sites_set((*C.uint64_t)(unsafe.Pointer(&addrs[0])), C.uint64_t(len(addrs))); r < 0 {
		return syscall.Errno(-r)
	}
	return nil
}

// SiteKnown reports whether addr is in the site set.
func SiteKnown(addr uint64) bool { return C.zp_site_known(C.uint64_t(addr)) != 0 }

// RestoreStdioFlags puts back O_NONBLOCK on stdin, stdout and stderr where the early
// constructor cleared it so that the Go runtime would not start its poller (zp_start.c).
func RestoreStdioFlags() { C.zp_restore_stdio_flags() }

// RestoreSignals puts back the signal dispositions and mask that the process had
// before the Go runtime started (see zp_start.c).
func RestoreSignals() { C.zp_restore_signals() }

// SetStats makes the loader write text, then the per-call counters, to fd at exit.
// text is copied into C memory that lives until the process ends.
func SetStats(text string, fd int) {
	p := C.CString(text)
	C.zp_set_stats_text(p, C.uint64_t(len(text)), C.int(fd))
}

// Counters are the process-wide totals of calls that reached the hook or bypassed it.
type Counters struct {
	Hooked, Nested, NoBlock, Clone, Sigreturn uint64
	GoFork, GoVfork, GoRuntime, GoEarly       uint64 // calls a Go hook could not see
	InForkChild                               bool
}

// ReadCounters sums the counters of every thread's block.
func ReadCounters() Counters {
	var t [C.ZP_BYPASS_MAX + 2]C.uint64_t
	C.zp_bypass_totals(&t[0])
	return Counters{
		Hooked: uint64(t[C.ZP_BYPASS_MAX]), Nested: uint64(t[C.ZP_BYPASS_NESTED]),
		NoBlock: uint64(t[C.ZP_BYPASS_NOBLOCK]), Clone: uint64(t[C.ZP_BYPASS_CLONE]),
		Sigreturn: uint64(t[C.ZP_BYPASS_SIGRETURN]), InForkChild: t[C.ZP_BYPASS_MAX+1] != 0,
		GoFork: uint64(t[C.ZP_BYPASS_GO_FORK]), GoVfork: uint64(t[C.ZP_BYPASS_GO_VFORK]),
		GoRuntime: uint64(t[C.ZP_BYPASS_GO_RUNTIME]), GoEarly: uint64(t[C.ZP_BYPASS_GO_EARLY]),
	}
}

// HookKind says how the loader calls a hook.
type HookKind int

// The hook kinds, mirroring enum zp_hook_kind.
const (
	HookPass HookKind = C.ZP_HOOK_PASS // built-in pass-through
	HookRegs HookKind = C.ZP_HOOK_REGS // fn(struct zpoline_regs *): zpoline-rs ABI
	HookOrig HookKind = C.ZP_HOOK_ORIG // original zpoline ABI, through OrigHookSlot
)

// Hook describes a hook to install. Fn, Flush and the notification pointers are C
// function pointers (from dlsym).
type Hook struct {
	Kind  HookKind
	Flags uint32 // ZPOLINE_HOOK_* from the library's descriptor
	Fn    unsafe.Pointer
	Flush unsafe.Pointer
	Desc  unsafe.Pointer // *struct zpoline_hook_desc filled by the library, or nil
}

// InstallHook makes h the hook for every following system call of every thread, and
// the one an in-application zpoline_set_hook(NULL) returns to.
func InstallHook(h Hook) {
	zh := (*C.struct_zp_hook)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_zp_hook{}))))
	zh.kind = C.int(h.Kind)
	zh.flags = C.uint32_t(h.Flags)
	zh.fn = C.zpoline_hook_fn(h.Fn)
	zh.flush = (*[0]byte)(h.Flush)
	if h.Desc != nil {
		zh.desc = *(*C.struct_zpoline_hook_desc)(h.Desc)
	}
	C.zp_hook_install_base(zh)
}

// OrigHookSlot is the address of the variable that an original-ABI hook library's
// __hook_init(placeholder, ptr) receives as ptr.
func OrigHookSlot() unsafe.Pointer { return C.zp_addr_orig_slot() }

// API is the address of the loader's struct zpoline_api, for zpoline_hook_attach.
func API() unsafe.Pointer { return C.zp_addr_api() }

// HookFlag values of struct zpoline_hook_desc.flags.
const (
	HookVectorFree = C.ZPOLINE_HOOK_VECTOR_FREE
	HookCloneSafe  = C.ZPOLINE_HOOK_CLONE_SAFE
)

// GoHook describes a Go hook: Fn is the C address of the exported Go dispatcher,
// Want the numbers it is called for (every other call, and every call where Go cannot
// run, goes to the current C hook instead).
type GoHook struct {
	Fn   unsafe.Pointer
	Want [512]bool
}

var goHooks struct {
	sync.Mutex
	pending *GoHook // registered before start-up finished
	started bool
}

// RegisterGoHook installs g in front of the current hook, or, before start-up
// finished, remembers it until StartGoHooks (the loader installs its C hook first).
func RegisterGoHook(g GoHook) {
	goHooks.Lock()
	defer goHooks.Unlock()
	if !goHooks.started {
		goHooks.pending = &g
		return
	}
	installGoHook(g)
}

// StartGoHooks installs a Go hook registered during start-up in front of the current
// hook and lets Go hooks run from now on. The loader calls it once, last.
func StartGoHooks() {
	goHooks.Lock()
	defer goHooks.Unlock()
	goHooks.started = true
	if goHooks.pending != nil {
		installGoHook(*goHooks.pending)
		goHooks.pending = nil
	}
	C.zp_go_ready = 1
}

// installGoHook puts a Go hook in front of the current hook.
func installGoHook(g GoHook) {
	zh := (*C.struct_zp_hook)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_zp_hook{}))))
	zh.kind = C.ZP_HOOK_GO
	zh.go_fn = (*[0]byte)(g.Fn)
	for nr, w := range g.Want {
		if w {
			zh.go_want[nr/64] |= 1 << (nr % 64)
		}
	}
	zh.next = C.zp_hook_current()
	C.zp_hook_install(zh)
}

// Abort ends the process with SIGABRT, whatever handler or mask the program set.
func Abort() { C.zp_abort() }
