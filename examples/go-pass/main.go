// The Go runtime must not keep cgroup files open in the program to re-read its CPU limit.

//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command go-pass is the smallest Go hook: it sees getpid and getppid and performs them
// unchanged. `make bench` uses it to measure what entering Go costs per call; build it
// with
//
//	go build -buildmode=c-shared -o build/libzpoline_go_pass.so ./examples/go-pass
package main

import "C"

import (
	"golang.org/x/sys/unix"

	"github.com/zpoline-go/zpoline/hook"
	_ "github.com/zpoline-go/zpoline/loader"
)

func init() {
	hook.Register(hook.Syscall, unix.SYS_GETPID, unix.SYS_GETPPID)
}

func main() {}
