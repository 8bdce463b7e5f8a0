package hook

// Typed per-system-call hooks: the Go counterpart of zpoline-rs's SyscallHooks trait
// (hook_write(fd, buf, count) with default_write(...)).
//
// A typed hook is any value that implements some of the interfaces below, one per system
// call; RegisterTyped registers it for exactly those numbers, so every other call stays on
// the C path and never enters Go. Each method receives the decoded arguments and a *Call,
// and returns the result as (value, errno):
//
//	type denyTmp struct{}
//
//	func (denyTmp) Unlinkat(c *hook.Call, dirfd int, path string, flags int) (int64, syscall.Errno) {
//		if strings.HasPrefix(path, "/keep/") {
//			return -1, syscall.EPERM // emulate: the kernel never sees the call
//		}
//		return c.Default() // the real call, unchanged
//	}
//
//	func init() {
//		if err := hook.RegisterTyped(denyTmp{}); err != nil {
//			panic(err)
//		}
//	}
//
// How arguments are decoded:
//
//   - fds, flags, pids and signals are C ints (the low 32 bits, sign-extended), modes and
//     masks unsigned 32 bits, as the kernel reads them (decode.Int, decode.Fd);
//   - paths are read from the process's memory as strings by the decode package
//     (decode.Collect with a process_vm_readv reader, then decode.Path), so a bad pointer
//     never faults. A call whose path cannot be read (a bad pointer, or no NUL within
//     PATH_MAX bytes) is not shown to its typed method: it goes to the hook's
//     SyscallHook if it has one, and is performed unchanged otherwise, so the kernel
//     answers EFAULT or ENAMETOOLONG itself. A NULL path with AT_EMPTY_PATH in the flags
//     (newfstatat, statx, execveat) is "";
//   - argv (execve) is read the same way; envp is left in c.Regs.Args[2];
//   - buffers (read, write) are []byte VIEWS of the caller's memory, not copies: a read
//     hook may fill buf, a write hook sees the bytes the program passed. A view covers
//     the part of the buffer that is mapped and readable, checked a page at a time with
//     process_vm_readv (one system call per 512 KiB), so len(buf) is less than the count
//     (c.Regs.Args[2]) only when the rest of the buffer is not mapped, where the kernel
//     would also stop or fail with EFAULT. A fault in the hook while it touches a view
//     (another thread unmapped it, or an emulating read wrote into read-only memory) ends
//     the method and the program gets EFAULT. A hook must not keep a view, a *Call or its
//     Regs after the method returned: the memory belongs to the program, and the Call is
//     reused.
//
// Results: (v, 0) returns v to the program; (_, e) with e != 0 returns -e, so the program
// sees -1 with errno e (e must be 1..4095). Call.Default performs the real call with
// c.Regs and returns its result the same way, (v, 0) or (-1, errno). To change a call,
// change c.Regs before Default (memory a changed pointer argument refers to must stay
// alive until Default returns: use runtime.KeepAlive).
//
// Paths are whatever the program passed: relative paths are relative to its working
// directory or to dirfd. ResolvePath makes them absolute. Reading a path and the kernel
// reading it again are two reads: another thread of the program may change the string in
// between (as with every in-process or seccomp-notify filter), so a typed hook is a
// policy for cooperating programs, not a sandbox.
//
// Everything a typed hook sees is subject to the rules of the package comment: the calls
// Go cannot see (fork and vfork children, runtime threads, nested calls, the clone
// family) go to the loader's C hook instead and are counted in Bypassed.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zpoline-go/zpoline/decode"
)

// The interfaces of typed hooks, one per system call. Each method returns the call's
// result as (value, errno); see the file comment for how arguments are decoded.
type (
	// ReadHook sees read(fd, buf, count); buf is a view of the caller's buffer.
	ReadHook interface {
		Read(c *Call, fd int, buf []byte) (int64, syscall.Errno)
	}
	// WriteHook sees write(fd, buf, count); buf is a view of the caller's buffer.
	WriteHook interface {
		Write(c *Call, fd int, buf []byte) (int64, syscall.Errno)
	}
	// OpenHook sees open(path, flags, mode).
	OpenHook interface {
		Open(c *Call, path string, flags int, mode uint32) (int64, syscall.Errno)
	}
	// OpenatHook sees openat(dirfd, path, flags, mode); dirfd may be unix.AT_FDCWD.
	OpenatHook interface {
		Openat(c *Call, dirfd int, path string, flags int, mode uint32) (int64, syscall.Errno)
	}
	// CloseHook sees close(fd).
	CloseHook interface {
		Close(c *Call, fd int) (int64, syscall.Errno)
	}
	// StatHook sees stat(path, statbuf); statbuf is c.Regs.Args[1].
	StatHook interface {
		Stat(c *Call, path string) (int64, syscall.Errno)
	}
	// LstatHook sees lstat(path, statbuf); statbuf is c.Regs.Args[1].
	LstatHook interface {
		Lstat(c *Call, path string) (int64, syscall.Errno)
	}
	// NewfstatatHook sees newfstatat(dirfd, path, statbuf, flags) (glibc's stat, lstat
	// and fstatat); statbuf is c.Regs.Args[2].
	NewfstatatHook interface {
		Newfstatat(c *Call, dirfd int, path string, flags int) (int64, syscall.Errno)
	}
	// StatxHook sees statx(dirfd, path, flags, mask, statxbuf); statxbuf is c.Regs.Args[4].
	StatxHook interface {
		Statx(c *Call, dirfd int, path string, flags int, mask uint32) (int64, syscall.Errno)
	}
	// AccessHook sees access(path, mode).
	AccessHook interface {
		Access(c *Call, path string, mode uint32) (int64, syscall.Errno)
	}
	// Faccessat2Hook sees faccessat2(dirfd, path, mode, flags).
	Faccessat2Hook interface {
		Faccessat2(c *Call, dirfd int, path string, mode uint32, flags int) (int64, syscall.Errno)
	}
	// UnlinkHook sees unlink(path).
	UnlinkHook interface {
		Unlink(c *Call, path string) (int64, syscall.Errno)
	}
	// UnlinkatHook sees unlinkat(dirfd, path, flags); flags may hold AT_REMOVEDIR.
	UnlinkatHook interface {
		Unlinkat(c *Call, dirfd int, path string, flags int) (int64, syscall.Errno)
	}
	// RmdirHook sees rmdir(path).
	RmdirHook interface {
		Rmdir(c *Call, path string) (int64, syscall.Errno)
	}
	// MkdirHook sees mkdir(path, mode).
	MkdirHook interface {
		Mkdir(c *Call, path string, mode uint32) (int64, syscall.Errno)
	}
	// MkdiratHook sees mkdirat(dirfd, path, mode).
	MkdiratHook interface {
		Mkdirat(c *Call, dirfd int, path string, mode uint32) (int64, syscall.Errno)
	}
	// RenameHook sees rename(oldpath, newpath).
	RenameHook interface {
		Rename(c *Call, oldpath, newpath string) (int64, syscall.Errno)
	}
	// RenameatHook sees renameat(olddirfd, oldpath, newdirfd, newpath).
	RenameatHook interface {
		Renameat(c *Call, olddirfd int, oldpath string, newdirfd int, newpath string) (int64, syscall.Errno)
	}
	// Renameat2Hook sees renameat2(olddirfd, oldpath, newdirfd, newpath, flags) (glibc's
	// rename and renameat use it where the kernel has it).
	Renameat2Hook interface {
		Renameat2(c *Call, olddirfd int, oldpath string, newdirfd int, newpath string, flags uint32) (int64, syscall.Errno)
	}
	// ChdirHook sees chdir(path).
	ChdirHook interface {
		Chdir(c *Call, path string) (int64, syscall.Errno)
	}
	// ExecveHook sees execve(path, argv, envp); envp is c.Regs.Args[2]. A successful
	// Default does not return: the process image is replaced.
	ExecveHook interface {
		Execve(c *Call, path string, argv []string) (int64, syscall.Errno)
	}
	// ExecveatHook sees execveat(dirfd, path, argv, envp, flags); envp is c.Regs.Args[3].
	ExecveatHook interface {
		Execveat(c *Call, dirfd int, path string, argv []string, flags int) (int64, syscall.Errno)
	}
	// ConnectHook sees connect(fd, addr, addrlen): addr is a copy of the struct sockaddr
	// (nil for a NULL pointer or a zero length); decode.FormatArg(*c.Decoded(), 1, ...)
	// prints it.
	ConnectHook interface {
		Connect(c *Call, fd int, addr []byte) (int64, syscall.Errno)
	}
	// GetpidHook sees getpid().
	GetpidHook interface {
		Getpid(c *Call) (int64, syscall.Errno)
	}
	// GetppidHook sees getppid().
	GetppidHook interface {
		Getppid(c *Call) (int64, syscall.Errno)
	}
	// GettidHook sees gettid().
	GettidHook interface {
		Gettid(c *Call) (int64, syscall.Errno)
	}
	// KillHook sees kill(pid, sig).
	KillHook interface {
		Kill(c *Call, pid int, sig syscall.Signal) (int64, syscall.Errno)
	}
	// SyscallHook, when implemented, makes the hook see every system call Go may see:
	// Syscall is called for each call without a typed method in the hook, and for calls
	// whose arguments could not be decoded. Without it those calls never enter Go.
	SyscallHook interface {
		Syscall(c *Call) (int64, syscall.Errno)
	}
)

// Errors of Typed and RegisterTyped.
var (
	// ErrNotTyped: the value implements none of the typed hook interfaces.
	ErrNotTyped = errors.New("implements no typed hook interface")
	// ErrMemory: the process cannot read its own memory with process_vm_readv (a seccomp
	// filter may forbid it), so paths and buffers cannot be decoded.
	ErrMemory = errors.New("cannot read the process's own memory with process_vm_readv")
)

// Call is one system call as a typed hook sees it. It is valid only while the method
// runs.
type Call struct {
	// Regs are the registers of the call: the number, the raw arguments, the return
	// address. Default performs the call they describe.
	Regs *Regs

	env       *typedEnv
	dec       decode.Call
	collected bool   // dec.In holds the entry copies
	exitCopy  bool   // dec.Out holds the exit copies
	viewLo    uint64 // the memory of the view handed to the method, [viewLo, viewHi)
	viewHi    uint64
}

// Default performs the real system call described by c.Regs and returns (result, 0), or
// (-1, errno) when it failed.
func (c *Call) Default() (int64, syscall.Errno) {
	r := c.env.sys(c.Regs)
	c.dec.Ret, c.dec.Done = r, true
	return split(r)
}

// Name returns the system call's name ("unlinkat").
func (c *Call) Name() string { return decode.Name(c.Regs.Nr) }

// Decoded returns the call as the decode package sees it, with copies of the memory its
// arguments point to at entry (paths in full, data up to decode.DefaultStrSize+1 bytes)
// and, once Default returned, its result. The arguments are those the program passed,
// before any change the hook made to c.Regs.
func (c *Call) Decoded() *decode.Call {
	c.collect(0)
	if c.dec.Done && !c.exitCopy {
		c.exitCopy = true
		decode.Collect(&c.dec, decode.Exit, c.env.read, 0)
	}
	return &c.dec
}

// String prints the call as strace does: `unlinkat(AT_FDCWD, "a", 0)` before Default
// and `unlinkat(AT_FDCWD, "a", 0) = -1 EPERM (Operation not permitted)` after it.
func (c *Call) String() string {
	d := c.Decoded()
	if !d.Done {
		return decode.FormatCall(*d, decode.Options{})
	}
	return decode.Format(*d, decode.Options{})
}

// collect makes the entry copies once; limit bounds data copies (argv strings).
func (c *Call) collect(limit int) {
	if !c.collected {
		c.collected = true
		decode.Collect(&c.dec, decode.Entry, c.env.read, limit)
	}
}

// fd, cint and u32 read argument i as the kernel's int, int and unsigned int.
func (c *Call) fd(i int) int             { return decode.Fd(c.dec, i) }
func (c *Call) cint(i int) int           { return int(decode.Int(c.dec, i)) }
func (c *Call) u32(i int) uint32         { return uint32(c.dec.Args[i]) }
func (c *Call) arg(i int) uint64         { return c.dec.Args[i] }
func (c *Call) pid(i int) int            { return c.cint(i) }
func (c *Call) sig(i int) syscall.Signal { return syscall.Signal(c.cint(i)) }

// path returns the path argument i; emptyOK says the call accepts NULL for "" (its
// flags argument holds AT_EMPTY_PATH).
func (c *Call) path(i int, emptyOK bool) (string, bool) {
	if c.dec.Args[i] == 0 {
		return "", emptyOK
	}
	c.collect(0)
	return decode.Path(c.dec, i)
}

// argv returns the string array argument i (NULL is an empty array, as Linux takes it).
func (c *Call) argv(i int) ([]string, bool) {
	if c.dec.Args[i] == 0 {
		return nil, true
	}
	c.collect(maxArgStrlen)
	return splitStrings(c.dec.In[i])
}

// view returns the readable part of the count bytes at argument i as a slice of the
// program's memory.
func (c *Call) view(i, count int) []byte {
	addr, n := c.dec.Args[i], c.dec.Args[count]
	if n > maxRWCount {
		n = maxRWCount
	}
	if addr == 0 || n == 0 {
		return nil
	}
	if addr+n < addr {
		n = -addr
	}
	n = c.env.probe(addr, n)
	if n == 0 {
		return nil
	}
	c.viewLo, c.viewHi = addr, addr+n
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), uintptr(addr))), int(n))
}

// Kernel limits the decoding follows.
const (
	maxArgStrlen = 32 * 4096  // MAX_ARG_STRLEN: the longest argv string execve accepts
	maxArgCount  = 1 << 16    // argv entries decode.Collect counts at most
	maxRWCount   = 0x7ffff000 // MAX_RW_COUNT: read and write transfer at most this much
	probeBatch   = 128        // pages checked per process_vm_readv
	pageSize     = 4096
	emptyPath    = unix.AT_EMPTY_PATH
)

// splitStrings parses a decode Strings copy (a uint32 count, then for each string a
// uint32 length and its bytes with the NUL): the strings, and false when the array or a
// string was cut short.
func splitStrings(m []byte) ([]string, bool) {
	if len(m) < 4 {
		return nil, false
	}
	n := int(uint32(m[0]) | uint32(m[1])<<8 | uint32(m[2])<<16 | uint32(m[3])<<24)
	if n >= maxArgCount {
		return nil, false
	}
	m = m[4:]
	out := make([]string, 0, n)
	for range n {
		if len(m) < 4 {
			return nil, false
		}
		l := int(uint32(m[0]) | uint32(m[1])<<8 | uint32(m[2])<<16 | uint32(m[3])<<24)
		m = m[4:]
		if l == 0 || l > len(m) || m[l-1] != 0 {
			return nil, false
		}
		out = append(out, string(m[:l-1]))
		m = m[l:]
	}
	return out, true
}

// split turns a raw result (-errno for an error) into (value, errno).
func split(r int64) (int64, syscall.Errno) {
	if r < 0 && r >= -4095 {
		return -1, syscall.Errno(-r)
	}
	return r, 0
}

// join turns (value, errno) into a raw result.
func join(v int64, e syscall.Errno) int64 {
	if e != 0 {
		return -int64(e)
	}
	return v
}

// typedEnv is what the typed layer needs from the process: memory and the real call.
// Tests replace it with fakes.
type typedEnv struct {
	read  decode.MemReader            // copies memory; never faults
	probe func(addr, n uint64) uint64 // the readable prefix of [addr, addr+n)
	sys   func(r *Regs) int64         // the real call
}

// handler runs one system call for a typed hook; false: the arguments could not be
// decoded and the method was not called.
type handler func(c *Call) (int64, bool)

// binding is one system call of the typed interface.
type binding struct {
	nr   int
	name string              // the method's name
	bind func(h any) handler // nil if h lacks the method
}

// pathCall adapts a method whose argument i is a path and that takes no other decoded
// memory.
func pathCall(i int, f func(c *Call, p string) (int64, syscall.Errno)) handler {
	return func(c *Call) (int64, bool) {
		p, ok := c.path(i, false)
		if !ok {
			return 0, false
		}
		return join(f(c, p)), true
	}
}

// bindings lists every typed system call.
var bindings = []binding{
	{unix.SYS_READ, "Read", func(h any) handler {
		x, ok := h.(ReadHook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) { return join(x.Read(c, c.fd(0), c.view(1, 2))), true }
	}},
	{unix.SYS_WRITE, "Write", func(h any) handler {
		x, ok := h.(WriteHook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) { return join(x.Write(c, c.fd(0), c.view(1, 2))), true }
	}},
	{unix.SYS_OPEN, "Open", func(h any) handler {
		x, ok := h.(OpenHook)
		if !ok {
			return nil
		}
		return pathCall(0, func(c *Call, p string) (int64, syscall.Errno) { return x.Open(c, p, c.cint(1), c.u32(2)) })
	}},
	{unix.SYS_OPENAT, "Openat", func(h any) handler {
		x, ok := h.(OpenatHook)
		if !ok {
			return nil
		}
		return pathCall(1, func(c *Call, p string) (int64, syscall.Errno) {
			return x.Openat(c, c.fd(0), p, c.cint(2), c.u32(3))
		})
	}},
	{unix.SYS_CLOSE, "Close", func(h any) handler {
		x, ok := h.(CloseHook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) { return join(x.Close(c, c.fd(0))), true }
	}},
	{unix.SYS_STAT, "Stat", func(h any) handler {
		x, ok := h.(StatHook)
		if !ok {
			return nil
		}
		return pathCall(0, func(c *Call, p string) (int64, syscall.Errno) { return x.Stat(c, p) })
	}},
	{unix.SYS_LSTAT, "Lstat", func(h any) handler {
		x, ok := h.(LstatHook)
		if !ok {
			return nil
		}
		return pathCall(0, func(c *Call, p string) (int64, syscall.Errno) { return x.Lstat(c, p) })
	}},
	{unix.SYS_NEWFSTATAT, "Newfstatat", func(h any) handler {
		x, ok := h.(NewfstatatHook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) {
			p, ok := c.path(1, c.cint(3)&emptyPath != 0)
			if !ok {
				return 0, false
			}
			return join(x.Newfstatat(c, c.fd(0), p, c.cint(3))), true
		}
	}},
	{unix.SYS_STATX, "Statx", func(h any) handler {
		x, ok := h.(StatxHook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) {
			p, ok := c.path(1, c.cint(2)&emptyPath != 0)
			if !ok {
				return 0, false
			}
			return join(x.Statx(c, c.fd(0), p, c.cint(2), c.u32(3))), true
		}
	}},
	{unix.SYS_ACCESS, "Access", func(h any) handler {
		x, ok := h.(AccessHook)
		if !ok {
			return nil
		}
		return pathCall(0, func(c *Call, p string) (int64, syscall.Errno) { return x.Access(c, p, c.u32(1)) })
	}},
	{unix.SYS_FACCESSAT2, "Faccessat2", func(h any) handler {
		x, ok := h.(Faccessat2Hook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) {
			p, ok := c.path(1, c.cint(3)&emptyPath != 0)
			if !ok {
				return 0, false
			}
			return join(x.Faccessat2(c, c.fd(0), p, c.u32(2), c.cint(3))), true
		}
	}},
	{unix.SYS_UNLINK, "Unlink", func(h any) handler {
		x, ok := h.(UnlinkHook)
		if !ok {
			return nil
		}
		return pathCall(0, func(c *Call, p string) (int64, syscall.Errno) { return x.Unlink(c, p) })
	}},
	{unix.SYS_UNLINKAT, "Unlinkat", func(h any) handler {
		x, ok := h.(UnlinkatHook)
		if !ok {
			return nil
		}
		return pathCall(1, func(c *Call, p string) (int64, syscall.Errno) { return x.Unlinkat(c, c.fd(0), p, c.cint(2)) })
	}},
	{unix.SYS_RMDIR, "Rmdir", func(h any) handler {
		x, ok := h.(RmdirHook)
		if !ok {
			return nil
		}
		return pathCall(0, func(c *Call, p string) (int64, syscall.Errno) { return x.Rmdir(c, p) })
	}},
	{unix.SYS_MKDIR, "Mkdir", func(h any) handler {
		x, ok := h.(MkdirHook)
		if !ok {
			return nil
		}
		return pathCall(0, func(c *Call, p string) (int64, syscall.Errno) { return x.Mkdir(c, p, c.u32(1)) })
	}},
	{unix.SYS_MKDIRAT, "Mkdirat", func(h any) handler {
		x, ok := h.(MkdiratHook)
		if !ok {
			return nil
		}
		return pathCall(1, func(c *Call, p string) (int64, syscall.Errno) { return x.Mkdirat(c, c.fd(0), p, c.u32(2)) })
	}},
	{unix.SYS_RENAME, "Rename", func(h any) handler {
		x, ok := h.(RenameHook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) {
			o, ok1 := c.path(0, false)
			n, ok2 := c.path(1, false)
			if !ok1 || !ok2 {
				return 0, false
			}
			return join(x.Rename(c, o, n)), true
		}
	}},
	{unix.SYS_RENAMEAT, "Renameat", func(h any) handler {
		x, ok := h.(RenameatHook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) {
			o, ok1 := c.path(1, false)
			n, ok2 := c.path(3, false)
			if !ok1 || !ok2 {
				return 0, false
			}
			return join(x.Renameat(c, c.fd(0), o, c.fd(2), n)), true
		}
	}},
	{unix.SYS_RENAMEAT2, "Renameat2", func(h any) handler {
		x, ok := h.(Renameat2Hook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) {
			o, ok1 := c.path(1, false)
			n, ok2 := c.path(3, false)
			if !ok1 || !ok2 {
				return 0, false
			}
			return join(x.Renameat2(c, c.fd(0), o, c.fd(2), n, c.u32(4))), true
		}
	}},
	{unix.SYS_CHDIR, "Chdir", func(h any) handler {
		x, ok := h.(ChdirHook)
		if !ok {
			return nil
		}
		return pathCall(0, func(c *Call, p string) (int64, syscall.Errno) { return x.Chdir(c, p) })
	}},
	{unix.SYS_EXECVE, "Execve", func(h any) handler {
		x, ok := h.(ExecveHook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) {
			argv, ok1 := c.argv(1)
			p, ok2 := c.path(0, false)
			if !ok1 || !ok2 {
				return 0, false
			}
			return join(x.Execve(c, p, argv)), true
		}
	}},
	{unix.SYS_EXECVEAT, "Execveat", func(h any) handler {
		x, ok := h.(ExecveatHook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) {
			argv, ok1 := c.argv(2)
			p, ok2 := c.path(1, c.cint(4)&emptyPath != 0)
			if !ok1 || !ok2 {
				return 0, false
			}
			return join(x.Execveat(c, c.fd(0), p, argv, c.cint(4))), true
		}
	}},
	{unix.SYS_CONNECT, "Connect", func(h any) handler {
		x, ok := h.(ConnectHook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) {
			var addr []byte
			if n := uint32(c.arg(2)); c.arg(1) != 0 && n != 0 {
				c.collect(0)
				m, ok := c.dec.In[1]
				if !ok || len(m) < int(min(n, sizeofSockaddrStorage)) {
					return 0, false // unreadable: the kernel answers EFAULT
				}
				addr = m
			}
			return join(x.Connect(c, c.fd(0), addr)), true
		}
	}},
	{unix.SYS_GETPID, "Getpid", func(h any) handler {
		x, ok := h.(GetpidHook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) { return join(x.Getpid(c)), true }
	}},
	{unix.SYS_GETPPID, "Getppid", func(h any) handler {
		x, ok := h.(GetppidHook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) { return join(x.Getppid(c)), true }
	}},
	{unix.SYS_GETTID, "Gettid", func(h any) handler {
		x, ok := h.(GettidHook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) { return join(x.Gettid(c)), true }
	}},
	{unix.SYS_KILL, "Kill", func(h any) handler {
		x, ok := h.(KillHook)
		if !ok {
			return nil
		}
		return func(c *Call) (int64, bool) { return join(x.Kill(c, c.pid(0), c.sig(1))), true }
	}},
}

// sizeofSockaddrStorage is the largest address connect accepts (and decode copies).
const sizeofSockaddrStorage = 128

// numbers is the size of the table of system call numbers (as core.GoHook.Want).
const numbers = 512

// typed is a typed hook bound to its methods.
type typed struct {
	env   *typedEnv
	table [numbers]handler
	other SyscallHook // nil: no catch-all
}

var callPool = sync.Pool{New: func() any { return new(Call) }}

// run handles one call.
func (t *typed) run(r *Regs) (ret int64) {
	c := callPool.Get().(*Call)
	*c = Call{Regs: r, env: t.env, dec: decode.Call{Nr: r.Nr, Args: r.Args}}
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		p := recover()
		lo, hi := c.viewLo, c.viewHi
		*c = Call{}
		callPool.Put(c)
		if p == nil {
			return
		}
		// A fault inside the view handed to the hook is the program's bad buffer (the
		// kernel would answer EFAULT); anything else is a bug in the hook, for the
		// SDK's panic report and abort.
		if f, ok := p.(interface{ Addr() uintptr }); ok && uint64(f.Addr()) >= lo && uint64(f.Addr()) < hi {
			ret = -int64(unix.EFAULT)
			return
		}
		panic(p)
	}()
	if r.Nr >= 0 && r.Nr < numbers {
		if h := t.table[r.Nr]; h != nil {
			if v, ok := h(c); ok {
				return v
			}
		}
	}
	if t.other != nil {
		return join(t.other.Syscall(c))
	}
	return t.env.sys(r)
}

// Typed binds h's typed methods and returns the hook function and the numbers it must
// be registered for (nil: every number, when h implements SyscallHook), for callers that
// combine it with hooks of their own. Most callers use RegisterTyped.
func Typed(h any) (Func, []int, error) {
	env, err := processEnv()
	if err != nil {
		return nil, nil, err
	}
	t, nrs, err := bindTyped(h, env)
	if err != nil {
		return nil, nil, err
	}
	return t.run, nrs, nil
}

// RegisterTyped registers h as the Go hook for the system calls of the typed interfaces
// it implements (every call if it implements SyscallHook); it replaces any hook
// registered before. It returns an error matching ErrNotTyped when h implements none,
// and ErrMemory when the process cannot read its own memory.
func RegisterTyped(h any) error {
	fn, nrs, err := Typed(h)
	if err != nil {
		return err
	}
	Register(fn, nrs...)
	return nil
}

// bindTyped builds the table for h.
func bindTyped(h any, env *typedEnv) (*typed, []int, error) {
	t := &typed{env: env}
	var nrs []int
	for _, b := range bindings {
		if f := b.bind(h); f != nil {
			t.table[b.nr] = f
			nrs = append(nrs, b.nr)
		}
	}
	if o, ok := h.(SyscallHook); ok {
		t.other = o
		nrs = nil
	} else if len(nrs) == 0 {
		return nil, nil, fmt.Errorf("register typed hook %T: %w", h, ErrNotTyped)
	}
	return t, nrs, nil
}

// procEnv is the environment of the running process, made once.
var procEnv struct {
	once sync.Once
	env  *typedEnv
	err  error
}

// processEnv returns the environment of this process after checking that
// process_vm_readv works on it. (The pid is fixed: Go hooks never run in a fork child.)
func processEnv() (*typedEnv, error) {
	procEnv.once.Do(func() {
		pid := os.Getpid()
		read := decode.ProcessReader(pid)
		probe := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
		var got [8]byte
		if read(uint64(uintptr(unsafe.Pointer(&probe[0]))), got[:]) != len(got) || got != probe {
			_, err := unix.ProcessVMReadv(pid, []unix.Iovec{{Base: &got[0], Len: 1}},
				[]unix.RemoteIovec{{Base: uintptr(unsafe.Pointer(&probe[0])), Len: 1}}, 0)
			procEnv.err = fmt.Errorf("register typed hook: %w (%v)", ErrMemory, err)
			return
		}
		procEnv.env = &typedEnv{
			read:  read,
			probe: func(addr, n uint64) uint64 { return readablePrefix(pid, addr, n) },
			sys:   Syscall,
		}
	})
	return procEnv.env, procEnv.err
}

// readablePrefix returns how many of the n bytes at addr are readable, checking one byte
// of every page with process_vm_readv (which fails an iovec on an unreadable page instead
// of faulting), probeBatch pages per call.
func readablePrefix(pid int, addr, n uint64) uint64 {
	var local [probeBatch]byte
	var remote [probeBatch]unix.RemoteIovec
	end := addr + n
	for a := addr; a < end; {
		k := 0
		for ; k < probeBatch && a < end; k++ {
			remote[k] = unix.RemoteIovec{Base: uintptr(a), Len: 1}
			a = a&^(pageSize-1) + pageSize
		}
		liov := unix.Iovec{Base: &local[0]}
		liov.SetLen(k)
		got, _, e := unix.RawSyscall6(unix.SYS_PROCESS_VM_READV, uintptr(pid),
			uintptr(unsafe.Pointer(&liov)), 1, uintptr(unsafe.Pointer(&remote[0])), uintptr(k), 0)
		if e != 0 || int(got) < k {
			if e != 0 {
				got = 0
			}
			return uint64(remote[got].Base) - addr
		}
	}
	return n
}

// ResolvePath returns the absolute, lexically cleaned form of a path a system call
// received with dirfd: path itself if absolute, else joined to the working directory
// (dirfd == unix.AT_FDCWD) or to the directory open as dirfd (read from
// /proc/self/fd/dirfd). An empty path names dirfd itself (AT_EMPTY_PATH). Symbolic
// links are not resolved and ".." is applied lexically.
func ResolvePath(dirfd int, path string) (string, error) {
	if filepath.IsAbs(path) {
		return filepath.Clean(path), nil
	}
	var base string
	if dirfd == unix.AT_FDCWD {
		wd, err := unix.Getwd()
		if err != nil {
			return "", fmt.Errorf("resolve %q: getcwd: %w", path, err)
		}
		base = wd
	} else {
		link := "/proc/self/fd/" + strconv.Itoa(dirfd)
		d, err := os.Readlink(link)
		if err != nil {
			return "", fmt.Errorf("resolve %q: %w", path, err)
		}
		if !filepath.IsAbs(d) {
			return "", fmt.Errorf("resolve %q: fd %d is not a directory path (%s)", path, dirfd, d)
		}
		base = d
	}
	return filepath.Join(base, path), nil
}
