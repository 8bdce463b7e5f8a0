// The Go runtime must not keep cgroup files open in the program to re-read its CPU limit.

//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command go-getppid is a loader variant with a Go hook: getppid returns 424242,
// every other system call passes through. Build it with
//
//	go build -buildmode=c-shared -o build/libzpoline_go_getppid.so ./examples/go-getppid
//
// and run LD_PRELOAD=build/libzpoline_go_getppid.so prog.
package main

import "C"

import (
	"golang.org/x/sys/unix"

	"github.com/zpoline-go/zpoline/hook"
	_ "github.com/zpoline-go/zpoline/loader"
)

func init() {
	hook.Register(func(r *hook.Regs) int64 { return 424242 }, unix.SYS_GETPPID)
}

func main() {}
