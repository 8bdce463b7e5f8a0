// Package core is the only C and assembly logic of zpoline-go: the trampoline's entry,
// the per-call dispatcher, the clone family, per-thread blocks and the raw system call.
// README.md says why each piece is not Go and which contracts it keeps. This file is
// the Go side: thin wrappers the loader uses once, at start-up, never on the hook path.
package core

/*
#cgo CFLAGS: -O2 -g -Wall -Wextra -Wno-unused-parameter -fno-strict-aliasing -fno-stack-protector -fno-omit-frame-pointer
#cgo LDFLAGS: -ldl -Wl,--wrap=pthread_create -Wl,--wrap=pthread_getattr_np
#include <stdlib.h>
#include "zp_core.h"
#include "zp_syscall.h"
#include <asm/unistd.h>
#include <linux/errno.h>

static uint64_t zp_addr_entry_call(void) { return (uint64_t)zp_entry_call; }
static uint64_t zp_addr_entry_jump(void) { return (uint64_t)zp_entry_jump; }
static void *zp_addr_orig_slot(void) { return &zp_orig_hook_slot; }
static void *zp_addr_api(void) { return (void *)&zp_api; }
static void *zp_ptr(uint64_t addr) { return (void *)addr; }
static void zp_set_newcode_fn(void *fn) { zp_newcode_go_fn = (int64_t (*)(uint64_t, uint64_t, uint64_t))fn; }
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"unsafe"

	"github.com/zpoline-go/zpoline/internal/rewrite"
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

// WarmHookToProve returns the hook function a warm start (zp_warm.c) installed from a
// library that did not declare itself vector-free, or nil. The loader's Go init, which
// runs before the program, may then prove it (MarkBaseHookVectorFree).
func WarmHookToProve() unsafe.Pointer {
	h := C.zp_hook_current()
	if C.zp_warm_library_hook == 0 || h.kind != C.ZP_HOOK_REGS || h.flags&C.ZPOLINE_HOOK_VECTOR_FREE != 0 {
		return nil
	}
	return unsafe.Pointer(h.fn)
}

// MarkBaseHookVectorFree records that the start-up hook never touches vector state.
func MarkBaseHookVectorFree() { C.zp_hook_base_add_flags(C.ZPOLINE_HOOK_VECTOR_FREE) }

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
	C.zp_started = 1
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

// SetNewCodeFunc makes fn (the C address of an exported Go function
// `func(start, length, nr uint64) int64`) the scanner that zp_newcode.c calls, where Go
// may run, for memory an mmap, mprotect or mremap has just made executable. It returns
// the number of sites written, or a negative value on error.
func SetNewCodeFunc(fn unsafe.Pointer) { C.zp_set_newcode_fn(fn) }

// NewCodeExcluded reports whether [start, end) overlaps memory of the hook namespaces.
func NewCodeExcluded(start, end uint64) bool {
	return C.zp_newcode_excluded(C.uint64_t(start), C.uint64_t(end)) != 0
}

// AddSites adds callq sites (their return addresses) to the set the entry accepts,
// keeping those already there. The caller serialises calls (the new-code lock).
func AddSites(addrs []uint64) error {
	if len(addrs) == 0 {
		return nil
	}
	if r := C.zp_sites_add((*C.uint64_t)(unsafe.Pointer(&addrs[0])), C.uint64_t(len(addrs))); r < 0 {
		return syscall.Errno(-r)
	}
	return nil
}

// FileKey identifies one executable mapping of one version of a file, as fstat(2) of
// the mapped descriptor and the mmap arguments show it (the C path's lookup key).
type FileKey struct {
	Dev, Ino, Size, MtimeNs, Offset, Length uint64
}

// RegisterFile gives the C path (fork and vfork children, where Go cannot run) the
// sites of a file mapping: rel holds each site's offset from the mapping's start. The
// table is copied into C memory kept for the life of the process.
func RegisterFile(k FileKey, rel []uint32) error {
	var p *C.uint32_t
	if len(rel) > 0 {
		p = (*C.uint32_t)(C.malloc(C.size_t(4 * len(rel))))
		copy(unsafe.Slice((*uint32)(unsafe.Pointer(p)), len(rel)), rel)
	}
	if r := C.zp_newcode_file_add(C.uint64_t(k.Dev), C.uint64_t(k.Ino), C.uint64_t(k.Size),
		C.uint64_t(k.MtimeNs), C.uint64_t(k.Offset), C.uint64_t(k.Length), p, C.uint64_t(len(rel))); r < 0 {
		return syscall.Errno(-r)
	}
	return nil
}

// New-code event kinds for LogNewCode, mirroring ZP_NC_HOW_*.
const (
	NewCodeGo      = C.ZP_NC_HOW_GO
	NewCodeSkipped = C.ZP_NC_HOW_SKIPPED
)

// LogNewCode records one new-code event for the statistics written at exit; path is
// copied into C memory kept for the life of the process.
func LogNewCode(start, end uint64, how int, sites int, ns int64, path string) {
	C.zp_newcode_log(C.uint64_t(start), C.uint64_t(end), C.uint64_t(how), C.uint64_t(sites),
		C.uint64_t(ns), C.CString(path))
}

// NewCodeWait blocks until a thread where Go cannot run asks for new executable code to
// be rewritten (zp_newcode.c), and returns the range and the system call that made it.
// Only the loader's one worker goroutine calls it, locked to its OS thread.
func NewCodeWait() (start, length, nr uint64) {
	var s, l, n C.uint64_t
	C.zp_newcode_worker_wait(&s, &l, &n)
	return uint64(s), uint64(l), uint64(n)
}

// NewCodeDone answers the request NewCodeWait returned: sites written, or -1.
func NewCodeDone(result int64) { C.zp_newcode_worker_done(C.int64_t(result)) }

// NewCodeWorkerReady tells zp_newcode.c that a worker will serve requests (NewCodeWait).
func NewCodeWorkerReady() { C.zp_newcode_worker_ready() }

// A Range is a readable span of memory [Start, End).
type Range struct{ Start, End uint64 }

// ApplySites writes sites into the process through mem (zp_apply.c: stubs, then the
// site set — replaced, or added to when add is set — then the patches). Readable lists
// the ranges that can be read directly; others are read through mem. written[i] reports
// whether sites[i] was rewritten (false: its bytes had changed since the scan). The
// sites are sorted by address in place.
func ApplySites(mem int, sites []rewrite.Site, readable []Range, add bool) (written []bool, err error) {
	if len(sites) == 0 && add {
		return nil, nil
	}
	cs := make([]C.struct_zp_site, len(sites))
	for i, s := range sites {
		if len(s.Prefix) > C.ZP_SITE_PREFIX_MAX {
			return nil, fmt.Errorf("site %#x: %d-byte displaced instruction", s.Addr, len(s.Prefix))
		}
		c := &cs[i]
		c.addr, c.start, c.nr = C.uint64_t(s.Addr), C.uint64_t(s.Start), C.int64_t(s.Nr)
		c.insn, c.shape, c.plen = C.uint8_t(s.Insn), C.uint8_t(s.Shape), C.uint8_t(len(s.Prefix))
		for k, b := range s.Prefix {
			c.prefix[k] = C.uint8_t(b)
		}
	}
	ok := make([]C.uint8_t, len(sites)+1)
	var csp *C.struct_zp_site
	if len(cs) > 0 {
		csp = &cs[0]
	}
	var rp *C.struct_zp_range
	if len(readable) > 0 {
		rp = (*C.struct_zp_range)(unsafe.Pointer(&readable[0]))
	}
	addFlag := C.int(0)
	if add {
		addFlag = 1
	}
	if r := C.zp_apply_sites(C.int(mem), csp, C.uint64_t(len(cs)), rp, C.uint64_t(len(readable)), addFlag, &ok[0]); r < 0 {
		if r == -C.ENOSPC {
			return nil, ErrNoStubSpace
		}
		return nil, syscall.Errno(-r)
	}
	// The C side sorted its copy; report in that order, after sorting ours the same way.
	written = make([]bool, len(sites))
	for i := range cs {
		sites[i].Addr = uint64(cs[i].addr)
		sites[i].Start = uint64(cs[i].start)
		sites[i].Nr = int64(cs[i].nr)
		sites[i].Insn, sites[i].Shape = rewrite.Insn(cs[i].insn), rewrite.Shape(cs[i].shape)
		sites[i].Prefix = C.GoBytes(unsafe.Pointer(&cs[i].prefix[0]), C.int(cs[i].plen))
		written[i] = ok[i] != 0
	}
	return written, nil
}

// ErrNoStubSpace: no low address was free for the jump stubs.
var ErrNoStubSpace = errors.New("no free address below 2 GiB for the jump stubs")

// GoInitDone tells the warm start (zp_warm.c), which waits for it, that the Go runtime
// has started: the loader's package initialisation has run.
func GoInitDone() { C.zp_go_init_done() }

// Why a hook library failed to load (LoadHookLibrary).
const (
	LoadDlmopen       = C.ZP_LOAD_DLMOPEN        // Detail: dlerror's text
	LoadRefusedAttach = C.ZP_LOAD_REFUSED_ATTACH // Code: zpoline_hook_attach's result
	LoadRefusedInit   = C.ZP_LOAD_REFUSED_INIT   // Code: __hook_init's result
	LoadNullInit      = C.ZP_LOAD_NULL_INIT      // zpoline_hook_init returned NULL
	LoadNoSymbol      = C.ZP_LOAD_NO_SYMBOL      // none of the entry points
)

// LoadedLibrary is a hook library loaded into a namespace of its own.
type LoadedLibrary struct {
	Hook Hook
	Orig bool // the original zpoline ABI (__hook_init); else zpoline-rs's
	// Result is 0, or why it failed (Load*), with Code and Detail.
	Result int
	Code   int64
	Detail string
}

// LoadHookLibrary loads the hook library at path with dlmopen(LM_ID_NEWLM) and reads
// its entry points (zp_hookload.c).
func LoadHookLibrary(path string) LoadedLibrary {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var l C.struct_zp_hook_loaded
	r := C.zp_hook_load(cpath, &l)
	out := LoadedLibrary{Result: int(r), Code: int64(l.code), Orig: l.abi == C.ZP_ABI_ORIG,
		Hook: Hook{Kind: HookKind(l.kind), Flags: uint32(l.flags), Fn: l.fn, Flush: l.flush,
			Desc: unsafe.Pointer(l.desc)}}
	if l.detail != nil {
		out.Detail = C.GoString(l.detail)
	}
	return out
}
