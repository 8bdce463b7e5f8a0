package decode_test

import (
	"bytes"
	"os"
	"slices"
	"testing"

	"github.com/zpoline-go/zpoline/decode"
	"github.com/zpoline-go/zpoline/internal/systab"
)

func TestNames(t *testing.T) {
	if decode.Name(257) != "openat" || decode.Name(600) != "syscall_600" {
		t.Error("Name")
	}
	if n, ok := decode.Number("openat"); !ok || n != 257 {
		t.Error("Number")
	}
	if decode.ArgCount(257) != 4 || decode.ArgCount(600) != 6 {
		t.Error("ArgCount")
	}
	for e, want := range map[int64][2]string{
		2:    {"ENOENT", "No such file or directory"},
		11:   {"EAGAIN", "Resource temporarily unavailable"},
		133:  {"EHWPOISON", "Memory page has hardware error"},
		512:  {"ERESTARTSYS", "To be restarted if SA_RESTART is set"},
		41:   {"errno_41", "Unknown error 41"},
		9999: {"errno_9999", "Unknown error 9999"},
	} {
		if n, txt := decode.ErrnoName(e), decode.ErrnoText(e); n != want[0] || txt != want[1] {
			t.Errorf("errno %d: %q (%q), want %q (%q)", e, n, txt, want[0], want[1])
		}
	}
	for s, want := range map[int64]string{2: "SIGINT", 17: "SIGCHLD", 31: "SIGSYS", 32: "SIGRTMIN", 34: "SIGRT_2", 64: "SIGRT_32", 0: "0", 65: "65", -1: "-1"} {
		if got := decode.SignalName(s); got != want {
			t.Errorf("SignalName(%d) = %q, want %q", s, got, want)
		}
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		k    decode.Kind
		v    uint64
		want string
	}{
		{decode.KindOpenFlags, 0x80000, "O_RDONLY|O_CLOEXEC"},
		{decode.KindOpenFlags, 0x41 | 0x40000000, "O_WRONLY|O_CREAT|0x40000000"},
		{decode.KindOFlags, 0, "0"},
		{decode.KindAtFlags, 0x1100, "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH"},
		{decode.KindAtFlags, 0, "0"},
		{decode.KindProt, 0, "PROT_NONE"},
		{decode.KindProt, 7, "PROT_READ|PROT_WRITE|PROT_EXEC"},
		{decode.KindMmapFlags, 0x22, "MAP_PRIVATE|MAP_ANONYMOUS"},
		{decode.KindCloneFlags, 0x10000 | 0x100, "CLONE_VM|CLONE_THREAD"},
		{decode.KindSignal, 9, "SIGKILL"},
		{decode.KindSigHow, 2, "SIG_SETMASK"},
		{decode.KindFutexOp, 0x80, "FUTEX_WAIT_PRIVATE"},
		{decode.KindMsgFlags, 0x4040, "MSG_DONTWAIT|MSG_NOSIGNAL"},
		{decode.KindSockType, 0x80802, "SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK"},
		{decode.KindAddrFamily, 10, "AF_INET6"},
		{decode.KindFcntlCmd, 1030, "F_DUPFD_CLOEXEC"},
		{decode.KindMadvise, 4, "MADV_DONTNEED"},
		{decode.KindWhence, 2, "SEEK_END"},
		{decode.KindWhence, 9, "0x9 /* SEEK_??? */"},
		{decode.KindMode, 0o644, "0644"},
		{decode.KindModeType, 0o100755, "S_IFREG|0755"},
		{decode.KindDirfd, 0xffffffffffffff9c, "AT_FDCWD"},
		{decode.KindDirfd, 0xffffff9c, "AT_FDCWD"},
		{decode.KindFd, 0xffffffff, "-1"},
		{decode.KindUid, 0xffffffff, "-1"},
		{decode.KindRusageWho, 0xffffffffffffffff, "RUSAGE_CHILDREN"},
		{decode.KindEpollEvent, 0x80000001, "EPOLLIN|EPOLLET"},
		{decode.KindPollfds, 0x5, "POLLIN|POLLOUT"},
		{decode.KindIoctlCmd, 0x5401, "TCGETS"},
		{decode.KindIpcFlags, 0o1600, "IPC_CREAT|0600"},
		{decode.KindMemfdFlags, 1 | 21<<26, "MFD_CLOEXEC|21<<MFD_HUGE_SHIFT"},
		{decode.KindPersonality, 0x40000, "PER_LINUX|ADDR_NO_RANDOMIZE"},
		{decode.KindPath, 0x1000, "0x1000"},
	}
	for _, tt := range tests {
		if got := decode.Flags(tt.k, tt.v); got != tt.want {
			t.Errorf("Flags(%v, %#x) = %q, want %q", tt.k, tt.v, got, tt.want)
		}
	}
}

func TestKinds(t *testing.T) {
	seen := map[string]bool{}
	for k := decode.Kind(0); k < decode.KindLast; k++ {
		n := k.String()
		if n == "" || seen[n] {
			t.Errorf("kind %d has name %q", k, n)
		}
		seen[n] = true
		decode.Flags(k, 0xdeadbeef) // must not panic
	}
	ks, ok := decode.ArgKinds(257)
	if !ok || !slices.Equal(ks, []decode.Kind{decode.KindDirfd, decode.KindPath, decode.KindOpenFlags, decode.KindOpenMode}) {
		t.Errorf("ArgKinds(openat) = %v, %v", ks, ok)
	}
	if _, ok := decode.ArgKinds(600); ok {
		t.Error("ArgKinds(600) ok")
	}
	if ks, ok := decode.ArgKinds(202); !ok || ks[1] != decode.KindFutexOp {
		t.Errorf("ArgKinds(futex) = %v", ks)
	}
	if n := decode.TypedCount(); n < 300 {
		t.Errorf("only %d system calls have signatures", n)
	}
	// A signature never has more arguments than the kernel's definition, except
	// open's and openat's optional mode, which the kernel takes too.
	for _, sc := range systab.All() {
		if ks, ok := decode.ArgKinds(sc.Nr); ok && len(ks) > sc.Args {
			t.Errorf("%s: %d kinds, %d arguments", sc.Name, len(ks), sc.Args)
		}
	}
}

func TestTyped(t *testing.T) {
	c := C("openat", 3, atFdcwd, 0x1000, 0x80000).In(1, cstr("/etc/passwd")).c
	if p, ok := decode.Path(c, 1); !ok || p != "/etc/passwd" {
		t.Errorf("Path = %q, %v", p, ok)
	}
	if decode.Fd(c, 0) != -100 || decode.Int(c, 2) != 0x80000 {
		t.Error("Fd/Int")
	}
	if _, ok := decode.Path(C("openat", 3, atFdcwd, 0x1000, 0).In(1, []byte("/etc/pas")).c, 1); ok {
		t.Error("Path of a cut copy is ok")
	}
	if _, ok := decode.Path(C("openat", 3, atFdcwd, 0, 0).c, 1); ok {
		t.Error("Path of NULL is ok")
	}
	w := C("write", 3, 1, 0x1000, 3).In(1, []byte("abcdef")).c
	if b, ok := decode.Bytes(w, 1); !ok || string(b) != "abc" {
		t.Errorf("Bytes(write) = %q, %v", b, ok)
	}
	r := C("read", 2, 1, 0x1000, 100).Out(1, []byte("xyz")).c
	if b, ok := decode.Bytes(r, 1); !ok || string(b) != "xy" {
		t.Errorf("Bytes(read) = %q, %v", b, ok)
	}
	if _, ok := decode.Bytes(C("read", -5, 1, 0x1000, 100).Out(1, []byte("x")).c, 1); ok {
		t.Error("Bytes of a failed read is ok")
	}
	if _, ok := decode.Bytes(c, 1); ok {
		t.Error("Bytes of a path is ok")
	}
	ts := C("nanosleep", 0, 0x1000, 0).In(0, le(8, 3, 8, 500)).c
	if s, ns, ok := decode.Timespec(ts, 0); !ok || s != 3 || ns != 500 {
		t.Errorf("Timespec = %d, %d, %v", s, ns, ok)
	}
	st := C("fstat", 0, 3, 0x1000).Out(1, stat(0o100644, 77, 0)).c
	if m, sz, ok := decode.StatMode(st, 1); !ok || m != 0o100644 || sz != 77 {
		t.Errorf("StatMode = %o, %d, %v", m, sz, ok)
	}
	if got := decode.FormatArg(c, 2, decode.Options{}); got != "O_RDONLY|O_CLOEXEC" {
		t.Errorf("FormatArg = %q", got)
	}
	if got := decode.FormatArg(C("fcntl", 0, 3, 3).c, 2, decode.Options{}); got != "" {
		t.Errorf("FormatArg(fcntl F_GETFL, 2) = %q", got)
	}
	cl := C("clone", 5, 0x1200011, 0, 0, 0x7f10, 0).c
	if got := decode.FormatArg(cl, 1, decode.Options{}); got != "flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD" {
		t.Errorf("FormatArg(clone, 1) = %q", got)
	}
	if got := decode.FormatArg(C("syscall_600", 0, 7).c, 0, decode.Options{}); got != "0x7" {
		t.Errorf("FormatArg(unknown) = %q", got)
	}
}

// TestCollect checks Captures and Collect against memory of this process.
func TestCollect(t *testing.T) {
	read := decode.ProcessReader(0)
	path := []byte("/etc/hostname\x00")
	var c decode.Call
	c.Nr = 257
	c.Args = [6]uint64{atFdcwd, addrOf(path), 0x80000}
	caps := decode.Captures(&c, decode.Entry)
	if len(caps) != 1 || caps[0] != (decode.Capture{Arg: 1, Phase: decode.Entry, How: decode.CString, Size: 4096}) {
		t.Fatalf("Captures(openat) = %+v", caps)
	}
	decode.Collect(&c, decode.Entry, read, 0)
	if !bytes.Equal(c.In[1], path) {
		t.Fatalf("Collect copied %q", c.In[1])
	}
	c.Done, c.Ret = true, 3
	if got := decode.Format(c, decode.Options{}); got != `openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC) = 3` {
		t.Errorf("Format = %s", got)
	}

	// A bad pointer gets no copy and prints in hex.
	bad := decode.Call{Nr: 2, Args: [6]uint64{8}, Done: true, Ret: -14}
	decode.Collect(&bad, decode.Entry, read, 0)
	if _, ok := bad.In[0]; ok {
		t.Error("copy of a bad pointer")
	}
	if got := decode.Format(bad, decode.Options{}); got != "open(0x8, O_RDONLY) = -1 EFAULT (Bad address)" {
		t.Errorf("Format = %s", got)
	}

	// Data copies respect the limit; a read's buffer is copied at exit up to the result.
	data := []byte("0123456789abcdefghij")
	w := decode.Call{Nr: 1, Args: [6]uint64{1, addrOf(data), 20}}
	decode.Collect(&w, decode.Entry, read, 8)
	if string(w.In[1]) != "01234567" {
		t.Errorf("write copy %q", w.In[1])
	}
	r := decode.Call{Nr: 0, Args: [6]uint64{1, addrOf(data), 20}, Done: true, Ret: 5}
	if caps := decode.Captures(&r, decode.Entry); len(caps) != 0 {
		t.Errorf("read entry captures %+v", caps)
	}
	decode.Collect(&r, decode.Exit, read, 0)
	if string(r.Out[1]) != "01234" {
		t.Errorf("read copy %q", r.Out[1])
	}
	r.Ret = -11
	if caps := decode.Captures(&r, decode.Exit); len(caps) != 0 {
		t.Errorf("failed read exit captures %+v", caps)
	}

	// argv: count and strings; envp: count only.
	a0, a1 := []byte("ls\x00"), []byte("-l\x00")
	argv := []uint64{addrOf(a0), addrOf(a1), 0}
	envp := []uint64{addrOf(a1), 0}
	e := decode.Call{Nr: 59, Args: [6]uint64{addrOf(a0), addrOf64(argv), addrOf64(envp)}, Done: true, Ret: -2}
	decode.Collect(&e, decode.Entry, read, 0)
	if got, want := decode.Format(e, decode.Options{}), `execve("ls", ["ls", "-l"], `+hexAddr(addrOf64(envp))+` /* 1 var */) = -1 ENOENT (No such file or directory)`; got != want {
		t.Errorf("Format:\n got  %s\n want %s", got, want)
	}
	keepAlive(path, data, a0, a1, argv, envp)
}

func TestProcessReaderOtherProcess(t *testing.T) {
	// The parent of the test binary is readable only with ptrace permission; reading
	// ourselves through our pid must work.
	read := decode.ProcessReader(os.Getpid())
	b := []byte("xyz")
	buf := make([]byte, 3)
	if n := read(addrOf(b), buf); n != 3 || string(buf) != "xyz" {
		t.Errorf("read %d %q", n, buf)
	}
	if n := read(0, buf); n != 0 {
		t.Errorf("read of address 0 returned %d", n)
	}
	keepAlive(b)
}
