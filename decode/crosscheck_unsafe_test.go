package decode_test

// The strace cross-check: the test binary re-runs itself under strace as a subject
// that makes real system calls, records each one as a decode.Call (arguments, result,
// memory copied with decode.Collect through process_vm_readv), and the parent compares
// decode.Format of every record with the line strace printed for the same call.
// This file uses unsafe to pass pointers to system calls.

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zpoline-go/zpoline/decode"
)

const subjectEnv = "ZPOLINE_DECODE_SUBJECT"

// record is one system call made by the subject.
type record struct {
	Tid  int
	Call decode.Call
	Note string // why the call is there, for failure messages
}

// subject makes system calls and records them.
type subject struct {
	t    *testing.T
	tid  int
	recs []record
	read decode.MemReader
}

// sys makes system call nr, recording it with its memory.
func (s *subject) sys(note string, nr uintptr, args ...uintptr) int64 {
	var c decode.Call
	c.Nr = int64(nr)
	for i, a := range args {
		c.Args[i] = uint64(a)
	}
	decode.Collect(&c, decode.Entry, s.read, 4096)
	var a [6]uintptr
	copy(a[:], args)
	r1, _, errno := unix.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	c.Done = true
	c.Ret = int64(r1)
	if errno != 0 {
		c.Ret = -int64(errno)
	}
	decode.Collect(&c, decode.Exit, s.read, 4096)
	s.recs = append(s.recs, record{Tid: s.tid, Call: c, Note: note})
	return c.Ret
}

func p[T any](v *T) uintptr { pinned = append(pinned, v); return uintptr(unsafe.Pointer(v)) }
func bp(b []byte) uintptr   { pinned = append(pinned, b); return uintptr(unsafe.Pointer(&b[0])) }
func sp(s string) uintptr {
	b := append([]byte(s), 0)
	keep = append(keep, b)
	return uintptr(unsafe.Pointer(&b[0]))
}
func neg(v int) uintptr { return uintptr(v) }
func iov(bufs ...[]byte) []unix.Iovec {
	v := make([]unix.Iovec, len(bufs))
	for i, b := range bufs {
		v[i].Base = &b[0]
		v[i].SetLen(len(b))
	}
	return v
}

// TestStraceSubject is the subject process; it does nothing unless run by
// TestStraceCrossCheck.
func TestStraceSubject(t *testing.T) {
	out := os.Getenv(subjectEnv)
	if out == "" {
		t.Skip("run by TestStraceCrossCheck")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := &subject{t: t, tid: unix.Gettid(), read: decode.ProcessReader(0)}
	dir := filepath.Dir(out)
	runSubject(s, dir)
	data, err := json.Marshal(s.recs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// keep holds every buffer passed to the kernel until the subject is done.
var keep [][]byte

func buf(n int) []byte { b := make([]byte, n); keep = append(keep, b); return b }

func runSubject(s *subject, dir string) {
	const atFdcwd = -100
	file := filepath.Join(dir, "data.bin")
	content := append([]byte("\x7fELF\x02\x01\x01\x03\x00\x00\x001\x00\"quoted\" and \\ back\tslash\n"), []byte(strings.Repeat("0123456789", 10))...)
	if err := os.WriteFile(file, content, 0o640); err != nil {
		s.t.Fatal(err)
	}
	pathFile := []byte(file + "\x00")
	keep = append(keep, pathFile)

	// Files.
	fd := uintptr(s.sys("openat", unix.SYS_OPENAT, neg(atFdcwd), bp(pathFile), unix.O_RDONLY|unix.O_CLOEXEC))
	rb := buf(832)
	s.sys("read binary", unix.SYS_READ, fd, bp(rb), 832)
	s.sys("read at eof", unix.SYS_READ, fd, bp(rb), 832)
	s.sys("lseek", unix.SYS_LSEEK, fd, 3, unix.SEEK_SET)
	s.sys("lseek bad whence", unix.SYS_LSEEK, fd, 3, 7)
	s.sys("read 4", unix.SYS_READ, fd, bp(rb), 4)
	s.sys("pread64", unix.SYS_PREAD64, fd, bp(rb), 16, 64)
	st := buf(256)
	s.sys("fstat", unix.SYS_FSTAT, fd, bp(st))
	s.sys("newfstatat empty path", unix.SYS_NEWFSTATAT, fd, sp(""), bp(st), unix.AT_EMPTY_PATH)
	s.sys("newfstatat dir", unix.SYS_NEWFSTATAT, neg(atFdcwd), sp("/tmp"), bp(st), 0)
	s.sys("newfstatat char device", unix.SYS_NEWFSTATAT, neg(atFdcwd), sp("/dev/null"), bp(st), unix.AT_SYMLINK_NOFOLLOW)
	s.sys("newfstatat ENOENT", unix.SYS_NEWFSTATAT, neg(atFdcwd), sp("/nonexistent/x"), bp(st), 0)
	s.sys("statx", unix.SYS_STATX, neg(atFdcwd), bp(pathFile), unix.AT_STATX_SYNC_AS_STAT, unix.STATX_BASIC_STATS, bp(st))
	s.sys("statfs", unix.SYS_FSTATFS, fd, bp(st))
	rv1, rv2 := buf(5), buf(100)
	s.sys("lseek 0", unix.SYS_LSEEK, fd, 0, unix.SEEK_SET)
	iv := iov(rv1, rv2)
	s.sys("readv", unix.SYS_READV, fd, uintptr(unsafe.Pointer(&iv[0])), 2)
	s.sys("fcntl F_GETFL", unix.SYS_FCNTL, fd, unix.F_GETFL)
	s.sys("fcntl F_GETFD", unix.SYS_FCNTL, fd, unix.F_GETFD)
	s.sys("fcntl F_SETFD", unix.SYS_FCNTL, fd, unix.F_SETFD, unix.FD_CLOEXEC)
	s.sys("fcntl F_SETFL", unix.SYS_FCNTL, fd, unix.F_SETFL, unix.O_NONBLOCK)
	lk := (*unix.Flock_t)(unsafe.Pointer(&buf(32)[0]))
	lk.Type = unix.F_RDLCK
	s.sys("fcntl F_SETLK", unix.SYS_FCNTL, fd, unix.F_SETLK, p(lk))
	s.sys("fcntl F_GETLK", unix.SYS_FCNTL, fd, unix.F_GETLK, p(lk))
	fd2 := s.sys("fcntl F_DUPFD_CLOEXEC", unix.SYS_FCNTL, fd, unix.F_DUPFD_CLOEXEC, 10)
	s.sys("flock", unix.SYS_FLOCK, fd, unix.LOCK_SH|unix.LOCK_NB)
	s.sys("dup", unix.SYS_DUP, fd)
	s.sys("dup3", unix.SYS_DUP3, fd, 200, unix.O_CLOEXEC)
	s.sys("close 200", unix.SYS_CLOSE, 200)
	s.sys("close dup", unix.SYS_CLOSE, uintptr(fd2))
	s.sys("close bad", unix.SYS_CLOSE, neg(-1))
	s.sys("openat ENOENT", unix.SYS_OPENAT, neg(atFdcwd), sp("/nonexistent"), unix.O_RDONLY)
	newf := filepath.Join(dir, "new")
	wfd := uintptr(s.sys("openat O_CREAT unknown bit", unix.SYS_OPENAT, neg(atFdcwd), sp(newf), unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|0x40000000, 0o644))
	s.sys("openat O_TMPFILE", unix.SYS_OPENAT, neg(-5), sp("x"), unix.O_RDWR|unix.O_APPEND|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_PATH|unix.O_TMPFILE, 0o600)
	s.sys("open NULL", unix.SYS_OPEN, 0, unix.O_RDONLY)
	s.sys("open bad pointer", unix.SYS_OPEN, 1, unix.O_RDONLY)
	long := []byte("0123456789012345678901234567890\x01" + "2")
	keep = append(keep, long)
	s.sys("write escapes", unix.SYS_WRITE, wfd, bp(content), 40)
	s.sys("write 33", unix.SYS_WRITE, wfd, bp(long), 33)
	s.sys("write 32", unix.SYS_WRITE, wfd, bp(long), 32)
	s.sys("write 31", unix.SYS_WRITE, wfd, bp(long), 31)
	w1, w2 := []byte("ab"), []byte("cde")
	keep = append(keep, w1, w2)
	wv := iov(w1, w2)
	s.sys("writev", unix.SYS_WRITEV, wfd, uintptr(unsafe.Pointer(&wv[0])), 2)
	s.sys("pwrite64", unix.SYS_PWRITE64, wfd, bp(w1), 2, 100)
	s.sys("ftruncate", unix.SYS_FTRUNCATE, wfd, 4096)
	s.sys("fsync", unix.SYS_FSYNC, wfd)
	s.sys("fchmod", unix.SYS_FCHMOD, wfd, 0o600)
	s.sys("close", unix.SYS_CLOSE, wfd)
	s.sys("close read fd", unix.SYS_CLOSE, fd)
	s.sys("access", unix.SYS_ACCESS, sp("/etc"), unix.R_OK|unix.W_OK|unix.X_OK)
	s.sys("access F_OK", unix.SYS_ACCESS, sp("/nonexistent"), unix.F_OK)
	s.sys("faccessat2", unix.SYS_FACCESSAT2, neg(atFdcwd), sp("/etc"), unix.X_OK, unix.AT_EACCESS)
	sub := filepath.Join(dir, "sub")
	s.sys("mkdirat", unix.SYS_MKDIRAT, neg(atFdcwd), sp(sub), 0o755)
	s.sys("mkdir EEXIST", unix.SYS_MKDIR, sp(sub), 0o700)
	link := filepath.Join(dir, "link")
	s.sys("symlinkat", unix.SYS_SYMLINKAT, sp("new"), neg(atFdcwd), sp(link))
	lb := buf(256)
	s.sys("readlinkat", unix.SYS_READLINKAT, neg(atFdcwd), sp(link), bp(lb), 256)
	s.sys("readlink EINVAL", unix.SYS_READLINK, sp(newf), bp(lb), 256)
	s.sys("renameat2 NOREPLACE", unix.SYS_RENAMEAT2, neg(atFdcwd), sp(link), neg(atFdcwd), sp(newf), unix.RENAME_NOREPLACE)
	s.sys("rename", unix.SYS_RENAME, sp(link), sp(link+"2"))
	s.sys("fchmodat", unix.SYS_FCHMODAT, neg(atFdcwd), sp(newf), 0o4755)
	s.sys("chmod", unix.SYS_CHMOD, sp(newf), 0)
	s.sys("fchownat", unix.SYS_FCHOWNAT, neg(atFdcwd), sp(newf), uintptr(os.Getuid()), neg(-1), unix.AT_SYMLINK_NOFOLLOW)
	s.sys("unlinkat", unix.SYS_UNLINKAT, neg(atFdcwd), sp(link+"2"), 0)
	s.sys("unlink", unix.SYS_UNLINK, sp(newf))
	s.sys("unlinkat AT_REMOVEDIR", unix.SYS_UNLINKAT, neg(atFdcwd), sp(sub), unix.AT_REMOVEDIR)
	s.sys("rmdir ENOENT", unix.SYS_RMDIR, sp(sub))
	cwd := buf(4096)
	s.sys("getcwd", unix.SYS_GETCWD, bp(cwd), 4096)
	dfd := uintptr(s.sys("open dir", unix.SYS_OPENAT, neg(atFdcwd), sp(dir), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC))
	de := buf(32768)
	s.sys("getdents64", unix.SYS_GETDENTS64, dfd, bp(de), 32768)
	s.sys("getdents64 end", unix.SYS_GETDENTS64, dfd, bp(de), 32768)
	s.sys("fchdir", unix.SYS_FCHDIR, dfd)
	s.sys("close dir", unix.SYS_CLOSE, dfd)
	s.sys("umask", unix.SYS_UMASK, 0o22)
	s.sys("umask 2", unix.SYS_UMASK, 0o2)
	s.sys("umask restore", unix.SYS_UMASK, 0o22)
	mfd := uintptr(s.sys("memfd_create", unix.SYS_MEMFD_CREATE, sp("test"), unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING))
	s.sys("fcntl F_ADD_SEALS", unix.SYS_FCNTL, mfd, unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW)
	s.sys("fcntl F_GET_SEALS", unix.SYS_FCNTL, mfd, unix.F_GET_SEALS)
	s.sys("close memfd", unix.SYS_CLOSE, mfd)

	// Memory.
	addr := uintptr(s.sys("mmap anon", unix.SYS_MMAP, 0, 8192, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, neg(-1), 0))
	s.sys("mmap fixed noreplace", unix.SYS_MMAP, addr, 4096, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_STACK|unix.MAP_FIXED_NOREPLACE, 99, 4096)
	s.sys("mmap huge", unix.SYS_MMAP, 0, 4096, unix.PROT_READ|unix.PROT_WRITE|0x100, unix.MAP_SHARED|unix.MAP_ANONYMOUS|unix.MAP_POPULATE|0x10000000, neg(-1), 0)
	s.sys("mprotect", unix.SYS_MPROTECT, addr, 4096, unix.PROT_READ)
	s.sys("madvise", unix.SYS_MADVISE, addr, 4096, unix.MADV_DONTNEED)
	s.sys("madvise unknown", unix.SYS_MADVISE, addr, 4096, 1234)
	addr2 := uintptr(s.sys("mremap", unix.SYS_MREMAP, addr, 8192, 16384, unix.MREMAP_MAYMOVE, 0))
	s.sys("munmap", unix.SYS_MUNMAP, addr2, 16384)
	s.sys("brk", unix.SYS_BRK, 0)

	// Signals.
	set := buf(8)
	old := buf(8)
	binary.LittleEndian.PutUint64(set, 1<<(unix.SIGUSR2-1)|1<<(34+3-1))
	s.sys("rt_sigprocmask block", unix.SYS_RT_SIGPROCMASK, unix.SIG_BLOCK, bp(set), bp(old), 8)
	s.sys("rt_sigprocmask unblock", unix.SYS_RT_SIGPROCMASK, unix.SIG_UNBLOCK, bp(set), 0, 8)
	s.sys("rt_sigprocmask query", unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, 0, bp(old), 8)
	s.sys("rt_sigprocmask bad how", unix.SYS_RT_SIGPROCMASK, 7, 0, 0, 8)
	act := buf(32)
	s.sys("rt_sigaction query", unix.SYS_RT_SIGACTION, uintptr(unix.SIGUSR2), 0, bp(act), 8)
	s.sys("rt_sigaction set same", unix.SYS_RT_SIGACTION, uintptr(unix.SIGUSR2), bp(act), 0, 8)
	s.sys("rt_sigaction bad signal", unix.SYS_RT_SIGACTION, 100, 0, 0, 8)
	ss := buf(24)
	s.sys("sigaltstack", unix.SYS_SIGALTSTACK, 0, bp(ss))
	pid := uintptr(unix.Getpid())
	s.sys("kill 0", unix.SYS_KILL, pid, 0)
	s.sys("tgkill", unix.SYS_TGKILL, pid, uintptr(s.tid), 0)
	s.sys("kill ESRCH", unix.SYS_KILL, neg(-2147483647), uintptr(unix.SIGTERM))

	// Descriptors: pipes, polling, events.
	pfd := buf(8)
	s.sys("pipe2", unix.SYS_PIPE2, bp(pfd), unix.O_CLOEXEC|unix.O_NONBLOCK)
	r, w := uintptr(binary.LittleEndian.Uint32(pfd)), uintptr(binary.LittleEndian.Uint32(pfd[4:]))
	s.sys("write pipe", unix.SYS_WRITE, w, bp(w1), 2)
	pollfds := buf(16)
	binary.LittleEndian.PutUint32(pollfds[0:], uint32(r))
	binary.LittleEndian.PutUint16(pollfds[4:], unix.POLLIN|unix.POLLPRI)
	binary.LittleEndian.PutUint32(pollfds[8:], uint32(w))
	binary.LittleEndian.PutUint16(pollfds[12:], unix.POLLOUT)
	s.sys("poll", unix.SYS_POLL, bp(pollfds), 2, 0)
	s.sys("poll timeout", unix.SYS_POLL, 0, 0, 0)
	ts := buf(16)
	binary.LittleEndian.PutUint64(ts[8:], 1000)
	s.sys("ppoll", unix.SYS_PPOLL, bp(pollfds), 2, bp(ts), 0, 8)
	fds := buf(128)
	fds[r/8] |= 1 << (r % 8)
	s.sys("pselect6", unix.SYS_PSELECT6, r+1, bp(fds), 0, 0, bp(ts), 0)
	ep := uintptr(s.sys("epoll_create1", unix.SYS_EPOLL_CREATE1, unix.EPOLL_CLOEXEC))
	ev := buf(12)
	binary.LittleEndian.PutUint32(ev, unix.EPOLLIN|unix.EPOLLET)
	binary.LittleEndian.PutUint64(ev[4:], 7)
	s.sys("epoll_ctl", unix.SYS_EPOLL_CTL, ep, unix.EPOLL_CTL_ADD, r, bp(ev))
	evs := buf(48)
	s.sys("epoll_wait", unix.SYS_EPOLL_WAIT, ep, bp(evs), 4, 0)
	s.sys("epoll_pwait", unix.SYS_EPOLL_PWAIT, ep, bp(evs), 4, 0, 0, 8)
	s.sys("read pipe", unix.SYS_READ, r, bp(rb), 100)
	s.sys("read pipe EAGAIN", unix.SYS_READ, r, bp(rb), 100)
	s.sys("epoll_wait empty", unix.SYS_EPOLL_WAIT, ep, bp(evs), 4, 0)
	efd := uintptr(s.sys("eventfd2", unix.SYS_EVENTFD2, 3, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK))
	tfd := uintptr(s.sys("timerfd_create", unix.SYS_TIMERFD_CREATE, unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC|unix.TFD_NONBLOCK))
	its := buf(32)
	binary.LittleEndian.PutUint64(its[16:], 100)
	oits := buf(32)
	s.sys("timerfd_settime", unix.SYS_TIMERFD_SETTIME, tfd, 0, bp(its), bp(oits))
	s.sys("timerfd_gettime", unix.SYS_TIMERFD_GETTIME, tfd, bp(oits))
	sigs := buf(8)
	binary.LittleEndian.PutUint64(sigs, 1<<(unix.SIGCHLD-1))
	sfd := uintptr(s.sys("signalfd4", unix.SYS_SIGNALFD4, neg(-1), bp(sigs), 8, unix.SFD_CLOEXEC))
	ifd := uintptr(s.sys("inotify_init1", unix.SYS_INOTIFY_INIT1, unix.IN_CLOEXEC))
	s.sys("inotify_add_watch", unix.SYS_INOTIFY_ADD_WATCH, ifd, sp(dir), unix.IN_CREATE|unix.IN_DELETE|0x10000000)
	for _, f := range []uintptr{r, w, ep, efd, tfd, sfd, ifd} {
		s.sys("close", unix.SYS_CLOSE, f)
	}
	s.sys("close_range", unix.SYS_CLOSE_RANGE, 1000, 0xffffffff, 0)

	// Sockets.
	sfd4 := uintptr(s.sys("socket inet", unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0))
	sin := buf(16)
	binary.LittleEndian.PutUint16(sin, unix.AF_INET)
	sin[2], sin[3] = 0, 1 // port 1
	copy(sin[4:], []byte{127, 0, 0, 1})
	s.sys("connect refused", unix.SYS_CONNECT, sfd4, bp(sin), 16)
	one := buf(4)
	binary.LittleEndian.PutUint32(one, 1)
	s.sys("setsockopt SO_REUSEADDR", unix.SYS_SETSOCKOPT, sfd4, unix.SOL_SOCKET, unix.SO_REUSEADDR, bp(one), 4)
	s.sys("setsockopt TCP_NODELAY", unix.SYS_SETSOCKOPT, sfd4, unix.IPPROTO_TCP, unix.TCP_NODELAY, bp(one), 4)
	optlen := buf(4)
	binary.LittleEndian.PutUint32(optlen, 4)
	s.sys("getsockopt SO_ERROR", unix.SYS_GETSOCKOPT, sfd4, unix.SOL_SOCKET, unix.SO_ERROR, bp(one), bp(optlen))
	sa := buf(128)
	salen := buf(4)
	binary.LittleEndian.PutUint32(salen, 128)
	s.sys("getsockname", unix.SYS_GETSOCKNAME, sfd4, bp(sa), bp(salen))
	sfd6 := uintptr(s.sys("socket inet6", unix.SYS_SOCKET, unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, unix.IPPROTO_UDP))
	sin6 := buf(28)
	binary.LittleEndian.PutUint16(sin6, unix.AF_INET6)
	sin6[2], sin6[3] = 0x01, 0xbb
	sin6[23] = 1
	s.sys("connect inet6", unix.SYS_CONNECT, sfd6, bp(sin6), 28)
	s.sys("sendto", unix.SYS_SENDTO, sfd6, bp(w1), 2, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, bp(sin6), 28)
	s.sys("recvfrom error", unix.SYS_RECVFROM, sfd6, bp(rb), 10, unix.MSG_PEEK, 0, 0)
	ufd := uintptr(s.sys("socket unix", unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_SEQPACKET, 0))
	sun := buf(110)
	binary.LittleEndian.PutUint16(sun, unix.AF_UNIX)
	copy(sun[2:], filepath.Join(dir, "sock"))
	s.sys("bind unix", unix.SYS_BIND, ufd, bp(sun), 110)
	s.sys("listen", unix.SYS_LISTEN, ufd, 5)
	abs := buf(12)
	binary.LittleEndian.PutUint16(abs, unix.AF_UNIX)
	copy(abs[3:], "zpdecode")
	afd := uintptr(s.sys("socket unix abstract", unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM, 0))
	s.sys("bind abstract", unix.SYS_BIND, afd, bp(abs), 11)
	binary.LittleEndian.PutUint32(salen, 110)
	s.sys("getsockname abstract", unix.SYS_GETSOCKNAME, afd, bp(sa), bp(salen))
	sv := buf(8)
	s.sys("socketpair", unix.SYS_SOCKETPAIR, unix.AF_UNIX, unix.SOCK_STREAM, 0, bp(sv))
	binary.LittleEndian.PutUint32(salen, 128)
	s.sys("getsockname unnamed", unix.SYS_GETSOCKNAME, uintptr(binary.LittleEndian.Uint32(sv)), bp(sa), bp(salen))
	s.sys("socket netlink", unix.SYS_SOCKET, unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	s.sys("socket unknown", unix.SYS_SOCKET, 12345, 77, 0)
	s.sys("shutdown", unix.SYS_SHUTDOWN, sfd4, unix.SHUT_RDWR)
	for _, f := range []uintptr{sfd4, sfd6, ufd, afd, uintptr(binary.LittleEndian.Uint32(sv)), uintptr(binary.LittleEndian.Uint32(sv[4:]))} {
		s.sys("close socket", unix.SYS_CLOSE, f)
	}

	// Time.
	s.sys("clock_gettime", unix.SYS_CLOCK_GETTIME, unix.CLOCK_MONOTONIC, bp(ts))
	binary.LittleEndian.PutUint64(ts, 0)
	binary.LittleEndian.PutUint64(ts[8:], 1000)
	s.sys("nanosleep", unix.SYS_NANOSLEEP, bp(ts), 0)
	s.sys("clock_nanosleep", unix.SYS_CLOCK_NANOSLEEP, unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, bp(ts), 0)
	s.sys("clock_getres", unix.SYS_CLOCK_GETRES, unix.CLOCK_REALTIME, bp(ts))
	tv := buf(16)
	s.sys("gettimeofday", unix.SYS_GETTIMEOFDAY, bp(tv), 0)
	itv := buf(32)
	s.sys("getitimer", unix.SYS_GETITIMER, unix.ITIMER_REAL, bp(itv))

	// Processes and resources.
	s.sys("getpid", unix.SYS_GETPID)
	s.sys("getppid", unix.SYS_GETPPID)
	s.sys("gettid", unix.SYS_GETTID)
	s.sys("getuid", unix.SYS_GETUID)
	s.sys("geteuid", unix.SYS_GETEUID)
	s.sys("getgid", unix.SYS_GETGID)
	rids := buf(12)
	s.sys("getresuid", unix.SYS_GETRESUID, bp(rids), bp(rids[4:]), bp(rids[8:]))
	uts := buf(390)
	s.sys("uname", unix.SYS_UNAME, bp(uts))
	rl := buf(16)
	s.sys("getrlimit", unix.SYS_GETRLIMIT, unix.RLIMIT_NOFILE, bp(rl))
	s.sys("prlimit64 get", unix.SYS_PRLIMIT64, 0, unix.RLIMIT_STACK, 0, bp(rl))
	s.sys("prlimit64 set", unix.SYS_PRLIMIT64, 0, unix.RLIMIT_STACK, bp(rl), 0)
	ru := buf(144)
	s.sys("getrusage", unix.SYS_GETRUSAGE, unix.RUSAGE_SELF, bp(ru))
	si := buf(112)
	s.sys("sysinfo", unix.SYS_SYSINFO, bp(si))
	tms := buf(32)
	s.sys("times", unix.SYS_TIMES, bp(tms))
	cpus := buf(128)
	s.sys("sched_getaffinity", unix.SYS_SCHED_GETAFFINITY, 0, 128, bp(cpus))
	s.sys("sched_yield", unix.SYS_SCHED_YIELD)
	s.sys("prctl PR_GET_DUMPABLE", unix.SYS_PRCTL, unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	name := buf(16)
	s.sys("prctl PR_GET_NAME", unix.SYS_PRCTL, unix.PR_GET_NAME, bp(name), 0, 0, 0)
	s.sys("prctl PR_SET_NAME", unix.SYS_PRCTL, unix.PR_SET_NAME, bp(name), 0, 0, 0)
	fsb := buf(8)
	s.sys("arch_prctl ARCH_GET_FS", unix.SYS_ARCH_PRCTL, 0x1003, bp(fsb))
	wst := buf(4)
	s.sys("wait4 ECHILD", unix.SYS_WAIT4, neg(-1), bp(wst), unix.WNOHANG|unix.WALL, 0)
	fw := buf(4)
	binary.LittleEndian.PutUint32(fw, 1)
	s.sys("futex wake", unix.SYS_FUTEX, bp(fw), 1|128, 1, 0, 0, 0)
	s.sys("futex wait EAGAIN", unix.SYS_FUTEX, bp(fw), 0, 5, 0, 0, 0)
	s.sys("futex wait bitset", unix.SYS_FUTEX, bp(fw), 9|128|256, 5, bp(ts), 0, 0xffffffff)
	rnd := buf(8)
	s.sys("getrandom", unix.SYS_GETRANDOM, bp(rnd), 8, unix.GRND_NONBLOCK)
	pidfd := uintptr(s.sys("pidfd_open", unix.SYS_PIDFD_OPEN, pid, 0))
	s.sys("close pidfd", unix.SYS_CLOSE, pidfd)
	runMore(s, dir)
	argv := []uintptr{sp("/nonexistent/prog"), sp("a b"), sp("\"quoted\"\n"), 0}
	envp := []uintptr{sp("A=1"), sp("B=2"), 0}
	s.sys("execve ENOENT", unix.SYS_EXECVE, sp("/nonexistent/prog"), uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envp[0])))
	runtime.KeepAlive(argv)
	runtime.KeepAlive(envp)
	runtime.KeepAlive(iv)
	runtime.KeepAlive(wv)
}

// straceLine is one system call line of strace -f output, resumed parts joined.
type straceLine struct {
	tid  int
	name string
	text string // "name(args) = result", padding before '=' removed
}

var (
	lineRe    = regexp.MustCompile(`^(\d+) +(.*)$`)
	resumedRe = regexp.MustCompile(`^<\.\.\. (\w+) resumed>(.*)$`)
	padRe     = regexp.MustCompile(`\) +(= .*)$`)
)

// parseStrace reads strace -f output into lines per call.
func parseStrace(t *testing.T, path string) []straceLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pending := map[int]string{}
	var out []straceLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := lineRe.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		tid, _ := strconv.Atoi(m[1])
		text := m[2]
		if strings.HasPrefix(text, "---") || strings.HasPrefix(text, "+++") {
			continue
		}
		if rest, ok := strings.CutSuffix(text, " <unfinished ...>"); ok {
			pending[tid] = rest
			continue
		}
		if r := resumedRe.FindStringSubmatch(text); r != nil {
			text = pending[tid] + r[2]
			delete(pending, tid)
		}
		text = padRe.ReplaceAllString(text, ") $1")
		name, _, _ := strings.Cut(text, "(")
		out = append(out, straceLine{tid: tid, name: name, text: text})
	}
	return out
}

// TestStraceCrossCheck runs the subject under strace and checks that decode.Format
// prints every recorded call exactly as strace did.
func TestStraceCrossCheck(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed")
	}
	if testing.Short() {
		t.Skip("runs strace")
	}
	dir := t.TempDir()
	recFile := filepath.Join(dir, "records.json")
	traceFile := filepath.Join(dir, "trace.txt")
	cmd := exec.Command(strace, "-f", "-qq", "-e", "signal=none", "-o", traceFile, "--",
		os.Args[0], "-test.run=^TestStraceSubject$", "-test.count=1")
	cmd.Env = append(os.Environ(), subjectEnv+"="+recFile)
	if out, err := cmd.CombinedOutput(); err != nil {
		if strings.Contains(string(out), "Operation not permitted") {
			t.Skipf("strace cannot trace here: %s", out)
		}
		t.Fatalf("subject under strace: %v\n%s", err, out)
	}
	data, err := os.ReadFile(recFile)
	if err != nil {
		t.Fatal(err)
	}
	var recs []record
	if err := json.Unmarshal(data, &recs); err != nil {
		t.Fatal(err)
	}
	lines := parseStrace(t, traceFile)
	next := 0 // strace lines before next are consumed
	matched := 0
	names := map[string]bool{}
	for _, r := range recs {
		want := decode.Format(r.Call, decode.Options{})
		name := decode.Name(r.Call.Nr)
		found := -1
		var candidate string
		for j := next; j < len(lines); j++ {
			l := lines[j]
			if l.tid != r.Tid || l.name != name {
				continue
			}
			if candidate == "" {
				candidate = l.text
			}
			if l.text == want {
				found = j
				break
			}
		}
		if found < 0 {
			t.Errorf("%s:\n got  %s\n strace %s", r.Note, want, candidate)
			continue
		}
		next = found + 1
		matched++
		names[name] = true
	}
	t.Logf("%d of %d calls (%d different system calls) formatted exactly as strace printed them", matched, len(recs), len(names))
}

// runMore makes the less common calls of the subject.
func runMore(s *subject, dir string) {
	const atFdcwd = -100
	f := filepath.Join(dir, "more")
	fd := uintptr(s.sys("openat O_RDWR|O_CREAT|O_EXCL", unix.SYS_OPENAT, neg(atFdcwd), sp(f), unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600))
	data := []byte(strings.Repeat("abcdefgh", 64))
	keep = append(keep, data)
	a, b := buf(3), buf(300)
	wv := iov(data[:10], data[10:20])
	s.sys("pwritev", unix.SYS_PWRITEV, fd, uintptr(unsafe.Pointer(&wv[0])), 2, 0)
	rv := iov(a, b)
	s.sys("preadv", unix.SYS_PREADV, fd, uintptr(unsafe.Pointer(&rv[0])), 2, 0)
	s.sys("fallocate", unix.SYS_FALLOCATE, fd, unix.FALLOC_FL_KEEP_SIZE, 0, 8192)
	s.sys("fadvise64", unix.SYS_FADVISE64, fd, 0, 0, unix.FADV_DONTNEED)
	s.sys("sync_file_range", unix.SYS_SYNC_FILE_RANGE, fd, 0, 0, unix.SYNC_FILE_RANGE_WRITE)
	s.sys("readahead", unix.SYS_READAHEAD, fd, 0, 4096)
	s.sys("fdatasync", unix.SYS_FDATASYNC, fd)
	off := buf(8)
	null := uintptr(s.sys("open /dev/null", unix.SYS_OPEN, sp("/dev/null"), unix.O_WRONLY))
	s.sys("sendfile", unix.SYS_SENDFILE, null, fd, bp(off), 5)
	s.sys("copy_file_range", unix.SYS_COPY_FILE_RANGE, fd, 0, null, 0, 5, 0)
	s.sys("ioctl FIONREAD ENOTTY", unix.SYS_IOCTL, null, 0x541b, bp(off))
	s.sys("ioctl TCGETS ENOTTY", unix.SYS_IOCTL, fd, unix.TCGETS, bp(b))
	s.sys("ioctl FIOCLEX", unix.SYS_IOCTL, fd, 0x5451, 0)
	s.sys("ioctl unknown", unix.SYS_IOCTL, fd, 0xc0084299, 0)
	s.sys("truncate", unix.SYS_TRUNCATE, sp(f), 100)
	s.sys("linkat", unix.SYS_LINKAT, neg(atFdcwd), sp(f), neg(atFdcwd), sp(f+".link"), 0)
	s.sys("mknodat fifo", unix.SYS_MKNODAT, neg(atFdcwd), sp(f+".fifo"), unix.S_IFIFO|0o644, 0)
	st := buf(144)
	s.sys("lstat fifo", unix.SYS_LSTAT, sp(f+".fifo"), bp(st))
	times := buf(32)
	binary.LittleEndian.PutUint64(times[8:], unix.UTIME_NOW)
	binary.LittleEndian.PutUint64(times[24:], unix.UTIME_OMIT)
	s.sys("utimensat", unix.SYS_UTIMENSAT, neg(atFdcwd), sp(f), bp(times), 0)
	s.sys("utimensat NULL", unix.SYS_UTIMENSAT, fd, 0, 0, 0)
	xv := buf(64)
	s.sys("getxattr ENODATA", unix.SYS_GETXATTR, sp(f), sp("user.nothing"), bp(xv), 64)
	s.sys("listxattr", unix.SYS_LISTXATTR, sp(f), bp(xv), 64)
	how := buf(24)
	binary.LittleEndian.PutUint64(how, unix.O_RDONLY|unix.O_CLOEXEC)
	binary.LittleEndian.PutUint64(how[16:], unix.RESOLVE_BENEATH)
	ofd := s.sys("openat2", unix.SYS_OPENAT2, neg(atFdcwd), sp(f), bp(how), 24)
	if ofd >= 0 {
		s.sys("close openat2", unix.SYS_CLOSE, uintptr(ofd))
	}
	for _, x := range []string{f + ".link", f + ".fifo", f} {
		s.sys("unlink", unix.SYS_UNLINK, sp(x))
	}
	s.sys("close", unix.SYS_CLOSE, fd)
	s.sys("close null", unix.SYS_CLOSE, null)

	m := uintptr(s.sys("mmap", unix.SYS_MMAP, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, neg(-1), 0))
	s.sys("mlock", unix.SYS_MLOCK, m, 4096)
	s.sys("munlock", unix.SYS_MUNLOCK, m, 4096)
	s.sys("msync", unix.SYS_MSYNC, m, 4096, unix.MS_SYNC|unix.MS_INVALIDATE)
	vec := buf(1)
	s.sys("mincore", unix.SYS_MINCORE, m, 4096, bp(vec))
	s.sys("munmap", unix.SYS_MUNMAP, m, 4096)

	s.sys("getpriority", unix.SYS_GETPRIORITY, unix.PRIO_PROCESS, 0)
	s.sys("sched_getscheduler", unix.SYS_SCHED_GETSCHEDULER, 0)
	s.sys("sched_get_priority_max", unix.SYS_SCHED_GET_PRIORITY_MAX, unix.SCHED_FIFO)
	s.sys("getpgid", unix.SYS_GETPGID, 0)
	s.sys("getsid", unix.SYS_GETSID, 0)
	s.sys("getpgrp", unix.SYS_GETPGRP)
	s.sys("getegid", unix.SYS_GETEGID)
	set := buf(8)
	s.sys("rt_sigpending", unix.SYS_RT_SIGPENDING, bp(set), 8)
	binary.LittleEndian.PutUint64(set, 1<<(unix.SIGUSR2-1))
	ts := buf(16)
	s.sys("rt_sigtimedwait EAGAIN", unix.SYS_RT_SIGTIMEDWAIT, bp(set), 0, bp(ts), 8)
	s.sys("alarm", unix.SYS_ALARM, 0)
	itv := buf(32)
	s.sys("setitimer", unix.SYS_SETITIMER, unix.ITIMER_REAL, bp(itv), 0)
	s.sys("waitid ECHILD", unix.SYS_WAITID, unix.P_ALL, 0, bp(b), unix.WEXITED|unix.WNOHANG, 0)
	cpu := buf(4)
	s.sys("getcpu", unix.SYS_GETCPU, bp(cpu), 0, 0)
	s.sys("personality query", unix.SYS_PERSONALITY, 0xffffffff)
	s.sys("sched_setaffinity EINVAL", unix.SYS_SCHED_SETAFFINITY, 0, 8, bp(make([]byte, 8)))
	s.sys("sethostname EPERM?", unix.SYS_SETHOSTNAME, 0, 0)
	s.sys("select timeout", unix.SYS_SELECT, 0, 0, 0, 0, bp(buf(16)))
	s.sys("chdir", unix.SYS_CHDIR, sp("."))
}

// pinned keeps the memory whose address addrOf and addrOf64 take: storing it in a
// global makes it escape to the heap, where it does not move, as it could on a stack
// that grows.
var pinned []any

// addrOf returns the address of a byte slice's first element.
func addrOf(b []byte) uint64 {
	pinned = append(pinned, b)
	return uint64(uintptr(unsafe.Pointer(&b[0])))
}

// addrOf64 returns the address of a uint64 slice's first element.
func addrOf64(v []uint64) uint64 {
	pinned = append(pinned, v)
	return uint64(uintptr(unsafe.Pointer(&v[0])))
}

func hexAddr(a uint64) string { return "0x" + strconv.FormatUint(a, 16) }

// keepAlive keeps memory whose address was taken reachable until the call.
func keepAlive(v ...any) { runtime.KeepAlive(v) }
