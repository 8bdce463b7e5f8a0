package decode

import (
	"github.com/zpoline-go/zpoline/internal/systab"
)

// Call is one system call as a hook or a recorder saw it: the number, the six argument
// registers, the result, and copies of the memory the arguments point to.
//
// Memory is optional. When a pointer argument has no copy (the recorder did not copy it,
// or could not because the pointer was bad), Format prints the pointer in hex, as strace
// does for memory it cannot read. The layout of each copy is described in the package
// documentation ("Memory copies"); Captures says which copies a call wants and Collect
// makes them.
type Call struct {
	Nr   int64     // system call number (rax at entry)
	Args [6]uint64 // rdi, rsi, rdx, r10, r8, r9
	Ret  int64     // result (rax at exit), -errno for a failed call; meaningless unless Done
	Done bool      // false: the call was entered but did not return (exit, successful execve, a killed thread)

	// In holds memory copied at entry (paths, buffers written by the program, structs
	// the kernel reads), keyed by argument index 0..5.
	In map[int][]byte
	// Out holds memory copied at exit (buffers and structs the kernel wrote), keyed by
	// argument index 0..5. Copies of arguments that are read and written by the kernel
	// (poll's pollfd array, select's fd sets, socklen_t pointers) may be in both.
	Out map[int][]byte
}

// Phase says when memory is copied: at entry (into Call.In) or at exit (into Call.Out).
type Phase uint8

// The two phases of a system call.
const (
	Entry Phase = iota // before the kernel runs the call: Call.In
	Exit               // after it returned: Call.Out
)

// String returns "entry" or "exit".
func (p Phase) String() string {
	if p == Exit {
		return "exit"
	}
	return "entry"
}

// Failed reports whether the call finished with an error result, -4095 <= Ret <= -1,
// for a call that can fail. Calls that never fail (getpid, umask, ...) and addresses
// returned by brk are never errors.
func (c *Call) Failed() bool {
	if !c.Done || c.Ret > -1 || c.Ret < -4095 {
		return false
	}
	return !neverFails(c.Nr)
}

// Errno returns the error number of a failed call (Failed), and 0 otherwise.
func (c *Call) Errno() int64 {
	if c.Failed() {
		return -c.Ret
	}
	return 0
}

// ok reports whether the call returned successfully, so output memory is meaningful.
func (c *Call) ok() bool { return c.Done && !c.Failed() }

// Options control Format.
type Options struct {
	// StrSize is the number of bytes of a buffer or string printed before "..."
	// (strace's -s). Zero means DefaultStrSize. Paths are always printed in full, as
	// strace does. Arrays (argv, iovecs, pollfds, epoll events) show at most StrSize
	// elements.
	StrSize int
	// Raw prints every argument and the result in hex without decoding (strace's
	// -e raw=all): "openat(0xffffff9c, 0x7ffd5c3b1e20, 0x80000) = 0x3", and errors as
	// "= -1 (errno 2)".
	Raw bool
}

// DefaultStrSize is the StrSize used when Options.StrSize is zero: strace's default.
const DefaultStrSize = 32

// strSize returns the effective string size limit.
func (o Options) strSize() int {
	if o.StrSize <= 0 {
		return DefaultStrSize
	}
	return o.StrSize
}

// Name returns the name of system call number nr ("openat"), or "syscall_<nr>" for a
// number the table does not know. It delegates to the one system call table of the
// module (internal/systab), which the C code uses too.
func Name(nr int64) string { return systab.Name(nr) }

// Number returns the number of the system call called name, accepting "syscall_<n>" as
// well. It returns false for other unknown names.
func Number(name string) (int64, bool) { return systab.Number(name) }

// ArgCount returns the number of arguments system call nr takes (the kernel's
// SYSCALL_DEFINEn), or 6 for a number the table does not know.
func ArgCount(nr int64) int { return systab.ArgCount(nr) }
