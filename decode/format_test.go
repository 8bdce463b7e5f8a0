package decode_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/zpoline-go/zpoline/decode"
)

// cb builds a Call for the tables below.
type cb struct{ c decode.Call }

const atFdcwd = 0xffffffffffffff9c // AT_FDCWD as a sign-extended register

// C returns a finished call of the named system call with result ret.
func C(name string, ret int64, args ...uint64) *cb {
	nr, ok := decode.Number(name)
	if !ok {
		panic("unknown system call " + name)
	}
	b := &cb{c: decode.Call{Nr: nr, Ret: ret, Done: true}}
	copy(b.c.Args[:], args)
	return b
}

// Entered returns the call as not finished.
func (b *cb) Entered() *cb { b.c.Done = false; return b }

// In adds an entry copy of argument i.
func (b *cb) In(i int, m []byte) *cb {
	if b.c.In == nil {
		b.c.In = map[int][]byte{}
	}
	b.c.In[i] = m
	return b
}

// Out adds an exit copy of argument i.
func (b *cb) Out(i int, m []byte) *cb {
	if b.c.Out == nil {
		b.c.Out = map[int][]byte{}
	}
	b.c.Out[i] = m
	return b
}

func cstr(s string) []byte { return append([]byte(s), 0) }

// le builds little-endian memory from integers of the given sizes: pairs of (size, value).
func le(fields ...uint64) []byte {
	var m []byte
	for i := 0; i+1 < len(fields); i += 2 {
		switch fields[i] {
		case 1:
			m = append(m, byte(fields[i+1]))
		case 2:
			m = binary.LittleEndian.AppendUint16(m, uint16(fields[i+1]))
		case 4:
			m = binary.LittleEndian.AppendUint32(m, uint32(fields[i+1]))
		case 8:
			m = binary.LittleEndian.AppendUint64(m, fields[i+1])
		}
	}
	return m
}

func pad(m []byte, n int) []byte { return append(m, make([]byte, n-len(m))...) }

func stat(mode uint32, size, rdev uint64) []byte {
	m := make([]byte, 144)
	binary.LittleEndian.PutUint32(m[24:], mode)
	binary.LittleEndian.PutUint64(m[40:], rdev)
	binary.LittleEndian.PutUint64(m[48:], size)
	return m
}

func strs(ss ...string) []byte {
	m := le(4, uint64(len(ss)))
	for _, s := range ss {
		m = append(m, le(4, uint64(len(s)+1))...)
		m = append(m, cstr(s)...)
	}
	return m
}

const neg1 = 0xffffffffffffffff

func TestFormat(t *testing.T) {
	sigset := func(sigs ...int) []byte {
		var v uint64
		for _, s := range sigs {
			v |= 1 << (s - 1)
		}
		return le(8, v)
	}
	tests := []struct {
		name string
		c    *cb
		opts decode.Options
		want string
	}{
		// Paths, flags, AT_FDCWD, errors.
		{"openat", C("openat", 3, atFdcwd, 0x1000, 0x80000).In(1, cstr("/etc/passwd")), decode.Options{},
			`openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3`},
		{"openat ENOENT", C("openat", -2, atFdcwd, 0x1000, 0).In(1, cstr("/nope")), decode.Options{},
			`openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)`},
		{"openat O_CREAT with unknown bit", C("openat", 4, 5, 0x1000, 0x40000241, 0o644).In(1, cstr("x")), decode.Options{},
			`openat(5, "x", O_WRONLY|O_CREAT|O_TRUNC|0x40000000, 0644) = 4`},
		{"openat O_TMPFILE", C("openat", -22, atFdcwd, 0x1000, 0x410002, 0o600).In(1, cstr("/tmp")), decode.Options{},
			`openat(AT_FDCWD, "/tmp", O_RDWR|O_TMPFILE, 0600) = -1 EINVAL (Invalid argument)`},
		{"openat O_ACCMODE O_SYNC", C("openat", 3, atFdcwd, 0x1000, 0x101003).In(1, cstr("f")), decode.Options{},
			`openat(AT_FDCWD, "f", O_ACCMODE|O_SYNC) = 3`},
		{"open NULL path", C("open", -14, 0, 0), decode.Options{}, `open(NULL, O_RDONLY) = -1 EFAULT (Bad address)`},
		{"path not copied", C("open", 3, 0x7ffc1000, 0), decode.Options{}, `open(0x7ffc1000, O_RDONLY) = 3`},
		{"path cut short", C("open", 3, 0x7ffc1000, 0).In(0, []byte("/very/lo")), decode.Options{},
			`open("/very/lo"..., O_RDONLY) = 3`},
		{"long path printed in full", C("chdir", 0, 0x1000).In(0, cstr(strings.Repeat("d/", 30))), decode.Options{},
			`chdir("` + strings.Repeat("d/", 30) + `") = 0`},
		{"path escapes", C("unlink", 0, 0x1000).In(0, cstr("a\"b\\c\nd\x01"+"7\x7f")), decode.Options{},
			`unlink("a\"b\\c\nd\0017\177") = 0`},
		{"newfstatat", C("newfstatat", 0, 3, 0x1000, 0x2000, 0x1000).In(1, cstr("")).Out(2, stat(0o100644, 33519, 0)), decode.Options{},
			`newfstatat(3, "", {st_mode=S_IFREG|0644, st_size=33519, ...}, AT_EMPTY_PATH) = 0`},
		{"stat char device", C("stat", 0, 0x1000, 0x2000).In(0, cstr("/dev/null")).Out(1, stat(0o20666, 0, 0x103)), decode.Options{},
			`stat("/dev/null", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}) = 0`},
		{"stat setuid dir sticky", C("lstat", 0, 0x1000, 0x2000).In(0, cstr("/tmp")).Out(1, stat(0o41777, 4096, 0)), decode.Options{},
			`lstat("/tmp", {st_mode=S_IFDIR|S_ISVTX|0777, st_size=4096, ...}) = 0`},
		{"stat failed prints pointer", C("stat", -2, 0x1000, 0x7ffe0).In(0, cstr("/x")).Out(1, stat(0o100644, 1, 0)), decode.Options{},
			`stat("/x", 0x7ffe0) = -1 ENOENT (No such file or directory)`},
		{"newfstatat unknown at flag", C("newfstatat", -22, atFdcwd, 0x1000, 0x2000, 0x10100).In(1, cstr("/tmp")), decode.Options{},
			`newfstatat(AT_FDCWD, "/tmp", 0x2000, AT_SYMLINK_NOFOLLOW|0x10000) = -1 EINVAL (Invalid argument)`},
		{"unlinkat removedir", C("unlinkat", 0, atFdcwd, 0x1000, 0x200).In(1, cstr("d")), decode.Options{},
			`unlinkat(AT_FDCWD, "d", AT_REMOVEDIR) = 0`},
		{"faccessat2", C("faccessat2", 0, atFdcwd, 0x1000, 1, 0x200).In(1, cstr("/etc")), decode.Options{},
			`faccessat2(AT_FDCWD, "/etc", X_OK, AT_EACCESS) = 0`},
		{"access modes", C("access", 0, 0x1000, 7).In(0, cstr("/etc")), decode.Options{}, `access("/etc", R_OK|W_OK|X_OK) = 0`},
		{"access F_OK", C("access", -2, 0x1000, 0).In(0, cstr("/x")), decode.Options{},
			`access("/x", F_OK) = -1 ENOENT (No such file or directory)`},
		{"renameat2", C("renameat2", -2, atFdcwd, 0x1000, 3, 0x2000, 1).In(1, cstr("/a")).In(3, cstr("/b")), decode.Options{},
			`renameat2(AT_FDCWD, "/a", 3, "/b", RENAME_NOREPLACE) = -1 ENOENT (No such file or directory)`},
		{"mkdir mode", C("mkdir", 0, 0x1000, 0o755).In(0, cstr("d")), decode.Options{}, `mkdir("d", 0755) = 0`},
		{"chmod setuid", C("chmod", 0, 0x1000, 0o4755).In(0, cstr("f")), decode.Options{}, `chmod("f", 04755) = 0`},
		{"fchmod zero", C("fchmod", 0, 4, 0), decode.Options{}, `fchmod(4, 000) = 0`},
		{"umask", C("umask", 0o22, 0o2), decode.Options{}, `umask(002) = 022`},
		{"chown -1", C("chown", 0, 0x1000, 0, 0xffffffff).In(0, cstr("f")), decode.Options{}, `chown("f", 0, -1) = 0`},
		{"mknodat fifo", C("mknodat", 0, atFdcwd, 0x1000, 0o10644, 0).In(1, cstr("p")), decode.Options{},
			`mknodat(AT_FDCWD, "p", S_IFIFO|0644) = 0`},
		{"mknod char", C("mknod", 0, 0x1000, 0o20600, 0x103).In(0, cstr("n")), decode.Options{},
			`mknod("n", S_IFCHR|0600, makedev(0x1, 0x3)) = 0`},
		{"readlink", C("readlink", 1, 0x1000, 0x2000, 256).In(0, cstr("/l")).Out(1, []byte("t")), decode.Options{},
			`readlink("/l", "t", 256) = 1`},
		{"getcwd", C("getcwd", 14, 0x1000, 256).Out(0, cstr("/tmp/dscratch")), decode.Options{},
			`getcwd("/tmp/dscratch", 256) = 14`},
		{"getdents64", C("getdents64", 48, 3, 0x5000, 32768).Out(1, append(pad(le(8, 1, 8, 1, 2, 24), 24), pad(le(8, 2, 8, 2, 2, 24), 24)...)), decode.Options{},
			`getdents64(3, 0x5000 /* 2 entries */, 32768) = 48`},
		{"getdents64 end", C("getdents64", 0, 3, 0x5000, 32768), decode.Options{},
			`getdents64(3, 0x5000 /* 0 entries */, 32768) = 0`},

		// Buffers and the string size limit.
		{"read binary", C("read", 832, 3, 0x1000, 832).Out(1, pad([]byte("\x7fELF\x02\x01\x01\x03"), 832)), decode.Options{},
			`read(3, "\177ELF\2\1\1\3\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"..., 832) = 832`},
		{"read octal before digit", C("read", 4, 3, 0x1000, 100).Out(1, []byte("\x012\x00\x00")), decode.Options{},
			`read(3, "\0012\0\0", 100) = 4`},
		{"read at eof", C("read", 0, 3, 0x1000, 4096), decode.Options{}, `read(3, "", 4096) = 0`},
		{"read failed", C("read", -11, 3, 0x1000, 4096), decode.Options{},
			`read(3, 0x1000, 4096) = -1 EAGAIN (Resource temporarily unavailable)`},
		{"write escapes", C("write", 18, 1, 0x1000, 18).In(1, []byte("\x012\x00\x00abc\"\\\t\n\r\v\f\a\x7f\xff\x00")), decode.Options{},
			`write(1, "\0012\0\0abc\"\\\t\n\r\v\f\7\177\377\0", 18) = 18`},
		{"write 33 bytes", C("write", 33, 2, 0x1000, 33).In(1, []byte("0123456789012345678901234567890\x012")), decode.Options{},
			`write(2, "0123456789012345678901234567890\1"..., 33) = 33`},
		{"write 32 bytes", C("write", 32, 2, 0x1000, 32).In(1, []byte("0123456789012345678901234567890\x01")), decode.Options{},
			`write(2, "0123456789012345678901234567890\1", 32) = 32`},
		{"write -s 5", C("write", 11, 1, 0x1000, 11).In(1, []byte("hello world")), decode.Options{StrSize: 5},
			`write(1, "hello"..., 11) = 11`},
		{"write short copy", C("write", 100, 1, 0x1000, 100).In(1, []byte("abc")), decode.Options{},
			`write(1, "abc"..., 100) = 100`},
		{"write NULL", C("write", -14, 1, 0, 10), decode.Options{}, `write(1, NULL, 10) = -1 EFAULT (Bad address)`},
		{"getrandom hex", C("getrandom", 4, 0x1000, 4, 1).Out(0, []byte{0x21, 0xc9, 0, 0x5e}), decode.Options{},
			`getrandom("\x21\xc9\x00\x5e", 4, GRND_NONBLOCK) = 4`},
		{"writev", C("writev", 5, 1, 0x1000, 2).In(1, append(le(8, 0xa, 8, 2, 8, 0xb, 8, 3), append(le(4, 2), append([]byte("ab"), append(le(4, 3), "cde"...)...)...)...)), decode.Options{},
			`writev(1, [{iov_base="ab", iov_len=2}, {iov_base="cde", iov_len=3}], 2) = 5`},
		{"readv partial", C("readv", 3, 4, 0x1000, 2).Out(1, append(le(8, 0xa, 8, 2, 8, 0xb, 8, 3), append(le(4, 2), append([]byte("vm"), append(le(4, 1), "\n"...)...)...)...)), decode.Options{},
			`readv(4, [{iov_base="vm", iov_len=2}, {iov_base="\n", iov_len=3}], 2) = 3`},
		{"writev without data", C("writev", 5, 1, 0x1000, 1).In(1, le(8, 0xa, 8, 5)), decode.Options{},
			`writev(1, [{iov_base=0xa, iov_len=5}], 1) = 5`},

		// Memory.
		{"mmap", C("mmap", 0x7fc2d7409000, 0, 8192, 3, 0x22, neg1, 0), decode.Options{},
			`mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7fc2d7409000`},
		{"mmap file", C("mmap", 0x7fc2d7244000, 0x7fc2d7244000, 1400832, 5, 0x812, 3, 0x26000), decode.Options{},
			`mmap(0x7fc2d7244000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000) = 0x7fc2d7244000`},
		{"mmap huge and unknown prot", C("mmap", -9, 0, 4096, 0x103, 0x10008021, neg1, 0), decode.Options{},
			`mmap(NULL, 4096, PROT_READ|PROT_WRITE|0x100, MAP_SHARED|MAP_ANONYMOUS|MAP_POPULATE|4<<MAP_HUGE_SHIFT, -1, 0) = -1 EBADF (Bad file descriptor)`},
		{"mprotect none", C("mprotect", 0, 0x7000, 4096, 0), decode.Options{}, `mprotect(0x7000, 4096, PROT_NONE) = 0`},
		{"mprotect unknown only", C("mprotect", -22, 0x7000, 4096, 0x100), decode.Options{},
			`mprotect(0x7000, 4096, 0x100 /* PROT_??? */) = -1 EINVAL (Invalid argument)`},
		{"madvise unknown", C("madvise", -22, 0x7000, 4096, 1234), decode.Options{},
			`madvise(0x7000, 4096, 0x4d2 /* MADV_??? */) = -1 EINVAL (Invalid argument)`},
		{"brk", C("brk", 0x564279bcd000, 0), decode.Options{}, `brk(NULL) = 0x564279bcd000`},
		{"mremap", C("mremap", 0x7fa713ca7000, 0x7fa713ca9000, 4096, 8192, 1, 0), decode.Options{},
			`mremap(0x7fa713ca9000, 4096, 8192, MREMAP_MAYMOVE) = 0x7fa713ca7000`},
		{"mremap fixed", C("mremap", 0x9000, 0x7000, 4096, 8192, 3, 0x9000), decode.Options{},
			`mremap(0x7000, 4096, 8192, MREMAP_MAYMOVE|MREMAP_FIXED, 0x9000) = 0x9000`},
		{"mincore", C("mincore", 0, 0x7000, 8192, 0x9000).Out(2, []byte{1, 0}), decode.Options{},
			`mincore(0x7000, 8192, [1, 0]) = 0`},

		// Signals.
		{"rt_sigaction", C("rt_sigaction", 0, 10, 0x1000, 0, 8).In(1, le(8, 1, 8, 0x14000004, 8, 0x7fa713afb050, 8, 1<<1|1<<36)), decode.Options{},
			`rt_sigaction(SIGUSR1, {sa_handler=SIG_IGN, sa_mask=[INT RT_5], sa_flags=SA_RESTORER|SA_RESTART|SA_SIGINFO, sa_restorer=0x7fa713afb050}, NULL, 8) = 0`},
		{"rt_sigaction bad signal", C("rt_sigaction", -22, 100, 0, 0, 8), decode.Options{},
			`rt_sigaction(100, NULL, NULL, 8) = -1 EINVAL (Invalid argument)`},
		{"rt_sigprocmask complement", C("rt_sigprocmask", 0, 0, 0x1000, 0, 8).In(1, le(8, ^uint64(1|1<<31|1<<32))), decode.Options{},
			`rt_sigprocmask(SIG_BLOCK, ~[HUP RTMIN RT_1], NULL, 8) = 0`},
		{"rt_sigprocmask old", C("rt_sigprocmask", 0, 2, 0x1000, 0x2000, 8).In(1, sigset()).Out(2, le(8, ^uint64(1|1<<8|1<<18|1<<31|1<<32))), decode.Options{},
			`rt_sigprocmask(SIG_SETMASK, [], ~[HUP KILL STOP RTMIN RT_1], 8) = 0`},
		{"rt_sigprocmask bad how", C("rt_sigprocmask", -22, 7, 0, 0, 8), decode.Options{},
			`rt_sigprocmask(0x7 /* SIG_??? */, NULL, NULL, 8) = -1 EINVAL (Invalid argument)`},
		{"kill", C("kill", 0, 18093, 28), decode.Options{}, `kill(18093, SIGWINCH) = 0`},
		{"kill killed", C("kill", 0, 18099, 9).Entered(), decode.Options{}, `kill(18099, SIGKILL) = ?`},
		{"tgkill rt", C("tgkill", 0, 1, 2, 35), decode.Options{}, `tgkill(1, 2, SIGRT_3) = 0`},
		{"sigaltstack", C("sigaltstack", 0, 0, 0x1000).Out(1, le(8, 0, 4, 2, 4, 0, 8, 0)), decode.Options{},
			`sigaltstack(NULL, {ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}) = 0`},
		{"signalfd4", C("signalfd4", 19, neg1, 0x1000, 8, 0x80000).In(1, sigset(17)), decode.Options{},
			`signalfd4(-1, [CHLD], 8, SFD_CLOEXEC) = 19`},

		// Descriptors.
		{"close EBADF", C("close", -9, neg1), decode.Options{}, `close(-1) = -1 EBADF (Bad file descriptor)`},
		{"lseek bad whence", C("lseek", -22, 4, neg1, 7), decode.Options{},
			`lseek(4, -1, 0x7 /* SEEK_??? */) = -1 EINVAL (Invalid argument)`},
		{"pipe2", C("pipe2", 0, 0x1000, 0x80800).Out(0, le(4, 7, 4, 8)), decode.Options{},
			`pipe2([7, 8], O_NONBLOCK|O_CLOEXEC) = 0`},
		{"pipe2 no flags", C("pipe2", 0, 0x1000, 0).Out(0, le(4, 5, 4, 6)), decode.Options{}, `pipe2([5, 6], 0) = 0`},
		{"dup3", C("dup3", 101, 4, 101, 0x80000), decode.Options{}, `dup3(4, 101, O_CLOEXEC) = 101`},
		{"fcntl F_GETFL", C("fcntl", 0x8000, 4, 3), decode.Options{}, `fcntl(4, F_GETFL) = 0x8000 (flags O_RDONLY|O_LARGEFILE)`},
		{"fcntl F_GETFD", C("fcntl", 1, 4, 1), decode.Options{}, `fcntl(4, F_GETFD) = 0x1 (flags FD_CLOEXEC)`},
		{"fcntl F_SETFD", C("fcntl", 0, 4, 2, 1), decode.Options{}, `fcntl(4, F_SETFD, FD_CLOEXEC) = 0`},
		{"fcntl F_SETFL", C("fcntl", 0, 4, 4, 0x800), decode.Options{}, `fcntl(4, F_SETFL, O_RDONLY|O_NONBLOCK) = 0`},
		{"fcntl F_DUPFD_CLOEXEC", C("fcntl", 15, 4, 1030, 10), decode.Options{}, `fcntl(4, F_DUPFD_CLOEXEC, 10) = 15`},
		{"fcntl F_SETLK", C("fcntl", 0, 4, 6, 0x1000).In(2, pad(le(2, 1, 2, 0, 4, 0, 8, 0, 8, 100), 32)), decode.Options{},
			`fcntl(4, F_SETLK, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=100}) = 0`},
		{"fcntl unknown", C("fcntl", -22, 4, 999, 5), decode.Options{}, `fcntl(4, 0x3e7 /* F_??? */, 0x5) = -1 EINVAL (Invalid argument)`},
		{"ioctl TCGETS ENOTTY", C("ioctl", -25, 1, 0x5401, 0x7ffd0), decode.Options{},
			`ioctl(1, TCGETS, 0x7ffd0) = -1 ENOTTY (Inappropriate ioctl for device)`},
		{"ioctl TIOCGWINSZ", C("ioctl", 0, 1, 0x5413, 0x7ffd0).Out(2, le(2, 24, 2, 80, 2, 0, 2, 0)), decode.Options{},
			`ioctl(1, TIOCGWINSZ, {ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}) = 0`},
		{"ioctl FIOCLEX", C("ioctl", 0, 5, 0x5451, 0), decode.Options{}, `ioctl(5, FIOCLEX) = 0`},
		{"ioctl unknown", C("ioctl", -25, 5, 0xc0084299, 0), decode.Options{},
			`ioctl(5, _IOC(_IOC_READ|_IOC_WRITE, 0x42, 0x99, 0x8), 0) = -1 ENOTTY (Inappropriate ioctl for device)`},
		{"flock", C("flock", 0, 4, 6), decode.Options{}, `flock(4, LOCK_EX|LOCK_NB) = 0`},
		{"poll", C("poll", 2, 0x1000, 2, 0).In(0, le(4, 4, 2, 3, 2, 0, 4, 1, 2, 4, 2, 0)).Out(0, le(4, 4, 2, 3, 2, 1, 4, 1, 2, 4, 2, 4)), decode.Options{},
			`poll([{fd=4, events=POLLIN|POLLPRI}, {fd=1, events=POLLOUT}], 2, 0) = 2 ([{fd=4, revents=POLLIN}, {fd=1, revents=POLLOUT}])`},
		{"poll timeout", C("poll", 0, 0, 0, 0), decode.Options{}, `poll(NULL, 0, 0) = 0 (Timeout)`},
		{"pselect6 timeout", C("pselect6", 0, 2, 0, 0, 0, 0x1000, 0).In(4, le(8, 0, 8, 5000)), decode.Options{},
			`pselect6(2, NULL, NULL, NULL, {tv_sec=0, tv_nsec=5000}, NULL) = 0 (Timeout)`},
		{"select ready", C("select", 1, 4, 0x1000, 0, 0, 0).In(1, pad([]byte{0x8}, 8)).Out(1, pad([]byte{0x8}, 8)), decode.Options{},
			`select(4, [3], NULL, NULL, NULL) = 1 (in [3])`},
		{"epoll_ctl", C("epoll_ctl", 0, 16, 1, 7, 0x1000).In(3, le(4, 0x80000001, 8, 7)), decode.Options{},
			`epoll_ctl(16, EPOLL_CTL_ADD, 7, {events=EPOLLIN|EPOLLET, data={u32=7, u64=7}}) = 0`},
		{"epoll_wait", C("epoll_wait", 1, 16, 0x1000, 4, neg1).Out(1, le(4, 1, 8, 0x100000007)), decode.Options{},
			`epoll_wait(16, [{events=EPOLLIN, data={u32=7, u64=4294967303}}], 4, -1) = 1`},
		{"epoll_wait none", C("epoll_wait", 0, 16, 0x1000, 4, 0), decode.Options{}, `epoll_wait(16, [], 4, 0) = 0`},
		{"eventfd2", C("eventfd2", 17, 3, 0x80800), decode.Options{}, `eventfd2(3, EFD_CLOEXEC|EFD_NONBLOCK) = 17`},
		{"inotify_add_watch", C("inotify_add_watch", 1, 20, 0x1000, 0x10000300).In(1, cstr("/tmp")), decode.Options{},
			`inotify_add_watch(20, "/tmp", IN_CREATE|IN_DELETE|IN_MASK_CREATE) = 1`},
		{"memfd_create", C("memfd_create", 21, 0x1000, 3).In(0, cstr("test")), decode.Options{},
			`memfd_create("test", MFD_CLOEXEC|MFD_ALLOW_SEALING) = 21`},
		{"close_range", C("close_range", 0, 200, 0xffffffff, 0), decode.Options{}, `close_range(200, 4294967295, 0) = 0`},
		{"sendfile offset", C("sendfile", 5, 1, 3, 0x1000, 5).In(2, le(8, 0)).Out(2, le(8, 5)), decode.Options{},
			`sendfile(1, 3, [0] => [5], 5) = 5`},

		// Sockets.
		{"socket", C("socket", 11, 2, 0x80001, 0), decode.Options{}, `socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 11`},
		{"socket netlink", C("socket", 14, 16, 3, 0), decode.Options{}, `socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) = 14`},
		{"socket unknown", C("socket", -22, 12345, 77, 0), decode.Options{},
			`socket(0x3039 /* AF_??? */, 0x4d /* SOCK_??? */, 0) = -1 EINVAL (Invalid argument)`},
		{"connect inet", C("connect", -111, 11, 0x1000, 16).In(1, pad(le(2, 2, 2, 0x5000, 4, 0x0100007f), 16)), decode.Options{},
			`connect(11, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 ECONNREFUSED (Connection refused)`},
		{"connect inet6", C("connect", 0, 12, 0x1000, 28).In(1, pad(append(le(2, 10, 2, 0xbb01, 4, 0), append(make([]byte, 15), 1)...), 28)), decode.Options{},
			`connect(12, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0`},
		{"bind unix", C("bind", 0, 13, 0x1000, 110).In(1, pad(append(le(2, 1), "/tmp/sock"...), 110)), decode.Options{},
			`bind(13, {sa_family=AF_UNIX, sun_path="/tmp/sock"}, 110) = 0`},
		{"getsockname abstract", C("getsockname", 0, 5, 0x1000, 0x2000).Out(1, pad(append(le(2, 1, 1, 0), "abstract"...), 110)).In(2, le(4, 110)).Out(2, le(4, 11)), decode.Options{},
			`getsockname(5, {sa_family=AF_UNIX, sun_path=@"abstract"}, [110 => 11]) = 0`},
		{"getsockname unnamed", C("getsockname", 0, 3, 0x1000, 0x2000).Out(1, pad(le(2, 1), 110)).In(2, le(4, 110)).Out(2, le(4, 2)), decode.Options{},
			`getsockname(3, {sa_family=AF_UNIX}, [110 => 2]) = 0`},
		{"setsockopt int", C("setsockopt", 0, 11, 6, 1, 0x1000, 4).In(3, le(4, 1)), decode.Options{},
			`setsockopt(11, SOL_TCP, TCP_NODELAY, [1], 4) = 0`},
		{"getsockopt", C("getsockopt", 0, 11, 1, 4, 0x1000, 0x2000).Out(3, le(4, 0)).In(4, le(4, 4)).Out(4, le(4, 4)), decode.Options{},
			`getsockopt(11, SOL_SOCKET, SO_ERROR, [0], [4]) = 0`},
		{"sendto", C("sendto", 2, 12, 0x1000, 2, 0x4040, 0, 0).In(1, []byte("hi")), decode.Options{},
			`sendto(12, "hi", 2, MSG_DONTWAIT|MSG_NOSIGNAL, NULL, 0) = 2`},
		{"recvfrom failed", C("recvfrom", -111, 12, 0x7ffe2719, 10, 2, 0, 0), decode.Options{},
			`recvfrom(12, 0x7ffe2719, 10, MSG_PEEK, NULL, NULL) = -1 ECONNREFUSED (Connection refused)`},
		{"sendmsg", C("sendmsg", 5, 3, 0x1000, 0x4000).In(1, le(8, 0, 4, 0, 4, 0, 8, 0x2000, 8, 1, 8, 0, 8, 0, 4, 0, 4, 0)), decode.Options{},
			`sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=0x2000, msg_iovlen=1, msg_controllen=0, msg_flags=0}, MSG_NOSIGNAL) = 5`},
		{"accept4 no address", C("accept4", 5, 3, 0, 0, 0x80000), decode.Options{}, `accept4(3, NULL, NULL, SOCK_CLOEXEC) = 5`},
		{"socketpair", C("socketpair", 0, 1, 1, 0, 0x1000).Out(3, le(4, 3, 4, 4)), decode.Options{},
			`socketpair(AF_UNIX, SOCK_STREAM, 0, [3, 4]) = 0`},

		// Processes.
		{"clone fork", C("clone", 18098, 0x1200011, 0, 0, 0x7fa713abca10, 0), decode.Options{},
			`clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7fa713abca10) = 18098`},
		{"clone thread", C("clone", 1235, 0x3d0f00, 0x7f00, 0x7f10, 0x7f10, 0x7f20).Out(2, le(4, 1235)), decode.Options{},
			`clone(child_stack=0x7f00, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=[1235], child_tidptr=0x7f10, tls=0x7f20) = 1235`},
		{"clone3", C("clone3", 4718, 0x1000, 88).In(0, pad(le(8, 0x3d0f00, 8, 0, 8, 0x7f10, 8, 0x7f10, 8, 0, 8, 0x7f00, 8, 0x7fff80, 8, 0x7f20), 88)), decode.Options{},
			`clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f10, parent_tid=0x7f10, exit_signal=0, stack=0x7f00, stack_size=0x7fff80, tls=0x7f20}, 88) = 4718`},
		{"vfork", C("vfork", 100), decode.Options{}, `vfork() = 100`},
		{"execve", C("execve", -2, 0x1000, 0x2000, 0x7ffe27193d00).In(0, cstr("/nonexist")).In(1, strs("/nonexist", "a b")).In(2, le(4, 2)), decode.Options{},
			`execve("/nonexist", ["/nonexist", "a b"], 0x7ffe27193d00 /* 2 vars */) = -1 ENOENT (No such file or directory)`},
		{"execve running", C("execve", 0, 0x1000, 0x2000, 0x3000).In(0, cstr("/bin/cat")).In(1, strs("cat", "/etc/hostname")).In(2, le(4, 1)).Entered(), decode.Options{},
			`execve("/bin/cat", ["cat", "/etc/hostname"], 0x3000 /* 1 var */) = ?`},
		{"execve argv cut", C("execve", -2, 0x1000, 0x2000, 0).In(0, cstr("/x")).In(1, append(le(4, 3), strs("a", "b")[4:]...)), decode.Options{},
			`execve("/x", ["a", "b", ...], NULL) = -1 ENOENT (No such file or directory)`},
		{"exit_group", C("exit_group", 0, 0).Entered(), decode.Options{}, `exit_group(0) = ?`},
		{"wait4 exited", C("wait4", 18098, 18098, 0x1000, 0, 0).Out(1, le(4, 3<<8)), decode.Options{},
			`wait4(18098, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 18098`},
		{"wait4 signaled", C("wait4", 18099, 18099, 0x1000, 0x40000001, 0).Out(1, le(4, 9)), decode.Options{},
			`wait4(18099, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], WNOHANG|__WALL, NULL) = 18099`},
		{"wait4 core", C("wait4", 7, neg1, 0x1000, 0, 0).Out(1, le(4, 0x8b)), decode.Options{},
			`wait4(-1, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}], 0, NULL) = 7`},
		{"wait4 nohang", C("wait4", 0, 18099, 0x7ffe, 1, 0).Out(1, le(4, 0)), decode.Options{},
			`wait4(18099, 0x7ffe, WNOHANG, NULL) = 0`},
		{"getpid", C("getpid", 18093), decode.Options{}, `getpid() = 18093`},
		{"uname", C("uname", 0, 0x1000).Out(0, pad(append(pad([]byte("Linux"), 65), cstr("vm")...), 390)), decode.Options{},
			`uname({sysname="Linux", nodename="vm", ...}) = 0`},
		{"prlimit64", C("prlimit64", 0, 0, 3, 0, 0x1000).Out(3, le(8, 8<<20, 8, neg1)), decode.Options{},
			`prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0`},
		{"prlimit64 plain", C("prlimit64", 0, 0, 7, 0x1000, 0).In(2, le(8, 1024, 8, 20000)), decode.Options{},
			`prlimit64(0, RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=20000}, NULL) = 0`},
		{"times", C("times", 1718215422, 0x1000).Out(0, le(8, 0, 8, 250, 8, 0, 8, 0)), decode.Options{},
			`times({tms_utime=0, tms_stime=250 /* 2.50 s */, tms_cutime=0, tms_cstime=0}) = 1718215422`},
		{"arch_prctl set", C("arch_prctl", 0, 0x1002, 0x7fc2d721b740), decode.Options{},
			`arch_prctl(ARCH_SET_FS, 0x7fc2d721b740) = 0`},
		{"arch_prctl get", C("arch_prctl", 0, 0x1003, 0x1000).Out(1, le(8, 0x7f4eb2b53740)), decode.Options{},
			`arch_prctl(ARCH_GET_FS, [0x7f4eb2b53740]) = 0`},
		{"set_tid_address", C("set_tid_address", 17519, 0x7fc2d721ba10), decode.Options{}, `set_tid_address(0x7fc2d721ba10) = 17519`},
		{"set_robust_list", C("set_robust_list", 0, 0x7fc2d721ba20, 24), decode.Options{}, `set_robust_list(0x7fc2d721ba20, 24) = 0`},
		{"rseq", C("rseq", 0, 0x7fc2d721c060, 0x20, 0, 0x53053053), decode.Options{}, `rseq(0x7fc2d721c060, 0x20, 0, 0x53053053) = 0`},
		{"prctl set name", C("prctl", 0, 15, 0x1000, 0, 0, 0).In(1, []byte("abcdefghijklmnopqrstu")), decode.Options{},
			`prctl(PR_SET_NAME, "abcdefghijklmno"...) = 0`},
		{"prctl get dumpable", C("prctl", 1, 3), decode.Options{}, `prctl(PR_GET_DUMPABLE) = 1 (SUID_DUMP_USER)`},
		{"prctl unknown", C("prctl", -22, 999, 1, 2, 3, 4), decode.Options{},
			`prctl(0x3e7 /* PR_??? */, 0x1, 0x2, 0x3, 0x4) = -1 EINVAL (Invalid argument)`},
		{"ptrace traceme", C("ptrace", 0, 0), decode.Options{}, `ptrace(PTRACE_TRACEME) = 0`},
		{"futex wake", C("futex", 0, 0x7fc2d73f2a4c, 0x81, 2147483647), decode.Options{},
			`futex(0x7fc2d73f2a4c, FUTEX_WAKE_PRIVATE, 2147483647) = 0`},
		{"futex wait bitset", C("futex", -11, 0x7ffe, 0x189, 5, 0x1000, 0, 0xffffffff).In(3, le(8, 1796320770, 8, 695423527)), decode.Options{},
			`futex(0x7ffe, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 5, {tv_sec=1796320770, tv_nsec=695423527}, FUTEX_BITSET_MATCH_ANY) = -1 EAGAIN (Resource temporarily unavailable)`},
		{"futex wait", C("futex", -11, 0x7ffe, 0, 5, 0), decode.Options{}, `futex(0x7ffe, FUTEX_WAIT, 5, NULL) = -1 EAGAIN (Resource temporarily unavailable)`},
		{"futex unknown op", C("futex", -38, 0x7ffe, 99, 1, 2, 3, 4), decode.Options{},
			`futex(0x7ffe, 0x63 /* FUTEX_??? */, 0x1, 0x2, 0x3, 0x4) = -1 ENOSYS (Function not implemented)`},
		{"sched_getaffinity", C("sched_getaffinity", 8, 0, 128, 0x1000).Out(2, pad([]byte{0xf}, 128)), decode.Options{},
			`sched_getaffinity(0, 128, [0 1 2 3]) = 8`},

		// Time.
		{"clock_nanosleep", C("clock_nanosleep", 0, 1, 1, 0x1000, 0).In(2, le(8, 0, 8, 1000)), decode.Options{},
			`clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, {tv_sec=0, tv_nsec=1000}, NULL) = 0`},
		{"clock_gettime", C("clock_gettime", 0, 0, 0x1000).Out(1, le(8, 1700000000, 8, 5)), decode.Options{},
			`clock_gettime(CLOCK_REALTIME, {tv_sec=1700000000, tv_nsec=5}) = 0`},
		{"gettimeofday", C("gettimeofday", 0, 0x1000, 0).Out(0, le(8, 1, 8, 2)), decode.Options{},
			`gettimeofday({tv_sec=1, tv_usec=2}, NULL) = 0`},
		{"utimensat", C("utimensat", 0, atFdcwd, 0x1000, 0x2000, 0).In(1, cstr("f")).In(2, le(8, 0, 8, 1<<30-1, 8, 5, 8, 6)), decode.Options{},
			`utimensat(AT_FDCWD, "f", [UTIME_NOW, {tv_sec=5, tv_nsec=6}], 0) = 0`},
		{"timerfd_settime", C("timerfd_settime", 0, 18, 1, 0x1000, 0).In(2, le(8, 0, 8, 0, 8, 1, 8, 0)), decode.Options{},
			`timerfd_settime(18, TFD_TIMER_ABSTIME, {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=1, tv_nsec=0}}, NULL) = 0`},

		// Unknown numbers, raw output, kernel-internal errors, never-failing calls.
		{"unknown number", C("syscall_600", -38, 1, 2, 3), decode.Options{},
			`syscall_600(0x1, 0x2, 0x3, 0, 0, 0) = -1 ENOSYS (Function not implemented)`},
		{"negative number", C("syscall_-1", -38), decode.Options{},
			`syscall_-1(0, 0, 0, 0, 0, 0) = -1 ENOSYS (Function not implemented)`},
		{"raw", C("openat", 3, atFdcwd, 0x7ffd5c3b1e20, 0x80000).In(1, cstr("/x")), decode.Options{Raw: true},
			`openat(0xffffffffffffff9c, 0x7ffd5c3b1e20, 0x80000, 0) = 0x3`},
		{"raw error", C("close", -9, 99), decode.Options{Raw: true}, `close(0x63) = -1 (errno 9)`},
		{"ERESTARTSYS", C("read", -512, 0, 0x1000, 10), decode.Options{},
			`read(0, 0x1000, 10) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)`},
		{"unknown errno", C("close", -4000, 3), decode.Options{}, `close(3) = -1 errno_4000 (Unknown error 4000)`},
		{"getpid never fails", C("getpid", -5), decode.Options{}, `getpid() = -5`},
		{"mmap high address", C("mmap", -4096, 0, 4096, 1, 2, 3, 0), decode.Options{},
			`mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0) = 0xfffffffffffff000`},
		{"personality", C("personality", 0, 0xffffffff), decode.Options{}, `personality(0xffffffff) = 0 (PER_LINUX)`},
		{"sched_getscheduler", C("sched_getscheduler", 0, 0), decode.Options{}, `sched_getscheduler(0) = 0 (SCHED_OTHER)`},
		{"membarrier query", C("membarrier", 0x1ff, 0, 0, 0), decode.Options{},
			`membarrier(MEMBARRIER_CMD_QUERY, 0) = 0x1ff (MEMBARRIER_CMD_GLOBAL|MEMBARRIER_CMD_GLOBAL_EXPEDITED|MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED|MEMBARRIER_CMD_PRIVATE_EXPEDITED|MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED|MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE|MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE|MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ|MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decode.Format(tt.c.c, tt.opts)
			if got != tt.want {
				t.Errorf("Format:\n got  %s\n want %s", got, tt.want)
			}
		})
	}
}

func TestFormatParts(t *testing.T) {
	c := C("close", 0, 3).c
	if got := decode.FormatCall(c, decode.Options{}); got != "close(3)" {
		t.Errorf("FormatCall = %q", got)
	}
	if got := decode.FormatResult(c, decode.Options{}); got != "= 0" {
		t.Errorf("FormatResult = %q", got)
	}
}
