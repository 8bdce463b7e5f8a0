// Command gopanic is a test loader variant whose Go hook panics on getppid: the process
// must report the panic with the system call and end by SIGABRT, not run on corrupted.
package main

import "C"

import (
	"golang.org/x/sys/unix"

	"github.com/zpoline-go/zpoline/hook"
	_ "github.com/zpoline-go/zpoline/loader"
)

func init() {
	hook.Register(func(r *hook.Regs) int64 { panic("boom from the test hook") }, unix.SYS_GETPPID)
}

func main() {}
