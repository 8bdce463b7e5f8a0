// The Go runtime must not keep cgroup files open in the program to re-read its CPU limit.

//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command go-hooklib is a Go hook built as a hook library of its own, loaded by the
// stock loader with ZPOLINE_HOOK into its own link-map namespace — with its own Go
// runtime, the price of not building your own loader (see examples/go-getppid for the
// one-runtime way). getppid returns 515151; everything else passes through.
//
//	go build -buildmode=c-shared -o build/examples/libzpoline_go_hooklib.so ./examples/go-hooklib
//	LD_PRELOAD=build/libzpoline.so ZPOLINE_HOOK=build/examples/libzpoline_go_hooklib.so prog
package main

/*
#cgo LDFLAGS: -Wl,--wrap=pthread_getattr_np
#cgo LDFLAGS: -Wl,--wrap=pthread_key_create -Wl,--wrap=pthread_setspecific -Wl,--wrap=pthread_getspecific
#include "../../include/zpoline.h"
*/
import "C"

import (
	"syscall"
	"unsafe"
)

//export goHook
func goHook(cr *C.struct_zpoline_regs) C.int64_t {
	r := (*[7]int64)(unsafe.Pointer(cr)) // rax, rdi, rsi, rdx, r10, r8, r9
	if r[0] == syscall.SYS_GETPPID {
		return 515151
	}
	// Syscall6, not RawSyscall6: a call that blocks (a futex wait in pthread_join, a
	// read) must let the runtime have this thread's P, or a stop-the-world would wait
	// for that call, and the call may wait for a thread that waits for the world.
	r1, _, e := syscall.Syscall6(uintptr(r[0]), uintptr(r[1]), uintptr(r[2]), uintptr(r[3]),
		uintptr(r[4]), uintptr(r[5]), uintptr(r[6]))
	if e != 0 {
		return C.int64_t(-int64(e))
	}
	return C.int64_t(r1)
}

// goReady returns once this library's Go runtime is running: cgo makes every call
// into Go wait for that.
//
//export goReady
func goReady() {}

func main() {}
