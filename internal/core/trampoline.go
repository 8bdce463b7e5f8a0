package core

// #include <stdlib.h>
// #include <linux/errno.h>
// #include "zp_core.h"
import "C"

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"
)

// The layout and the way the chains are built are described in zp_trampoline.c.

const (
	pageSize  = 0x1000
	fastEnd   = C.ZP_FAST_END
	slowStart = fastEnd + 5
	slowEnd   = C.ZP_SLOW_END
	page1Jmp  = C.ZP_PAGE1_JMP
	lowSize   = C.ZP_TRAMP_SIZE
)

// Trampoline is the machine code of the low region and of the far page.
type Trampoline struct {
	Low     []byte // lowSize bytes for address 0
	FarAddr uint64 // page-aligned, below 2 GiB
	Far     []byte // one page for FarAddr
	Fast    uint64 // far-page address the fast chain reaches
	Slow    uint64 // far-page address the slow chain and page 1 reach
}

// TrampolineDisplacements lists the displacements tried, in order, for the fast
// chain's jmp rel32 (each byte a harmless prefix); each puts the far page at a
// different address between about 0.6 and 1.3 GiB, so a taken address can be avoided.
func TrampolineDisplacements() []uint32 {
	out := make([]uint32, C.ZP_TRAMPOLINE_DISPLACEMENTS)
	for i := range out {
		out[i] = uint32(C.zp_trampoline_displacement(C.unsigned(i)))
	}
	return out
}

// BuildTrampoline lays out the trampoline for the fast chain's displacement d1 (one
// of TrampolineDisplacements) and the entry address entry.
func BuildTrampoline(d1 uint32, entry uint64) (Trampoline, error) {
	t := (*C.struct_zp_trampoline)(C.malloc(C.size_t(unsafe.Sizeof(C.struct_zp_trampoline{}))))
	defer C.free(unsafe.Pointer(t))
	switch C.zp_trampoline_build(C.uint32_t(d1), C.uint64_t(entry), t) {
	case 0:
	case -C.EINVAL:
		return Trampoline{}, fmt.Errorf("trampoline: displacement %#x has a harmful byte", d1)
	default:
		return Trampoline{}, errors.New("trampoline: no slow-chain displacement for this far page")
	}
	return Trampoline{Low: C.GoBytes(unsafe.Pointer(&t.low[0]), lowSize), FarAddr: uint64(t.far_addr),
		Far: C.GoBytes(unsafe.Pointer(&t.far[0]), pageSize), Fast: uint64(t.fast), Slow: uint64(t.slow)}, nil
}

// ErrNoFarPage: no address was free for the trampoline's far page.
var ErrNoFarPage = errors.New("no free low address for the trampoline's far page")

// MapTrampoline maps and fills the low region and the far page through mem (an open
// /proc/self/mem). A failure to map page 0 is returned as a *PageZeroError.
func MapTrampoline(mem int) error {
	var pz C.int
	r := C.zp_trampoline_map(C.int(mem), &pz)
	switch {
	case r == 0:
		return nil
	case pz != 0:
		return &PageZeroError{Errno: syscall.Errno(pz)}
	case r == -C.ENOSPC:
		return ErrNoFarPage
	default:
		return fmt.Errorf("write trampoline: %w", syscall.Errno(-r))
	}
}

// PageZeroError: the kernel refused to map the trampoline at address 0.
type PageZeroError struct{ Errno syscall.Errno }

func (e *PageZeroError) Error() string { return "map page 0: " + e.Errno.Error() }

// Unwrap returns the errno.
func (e *PageZeroError) Unwrap() error { return e.Errno }
