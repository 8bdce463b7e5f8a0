package hook

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zpoline-go/zpoline/decode"
)

// fakeMem is the memory of a fake program: regions at their real addresses in an arena
// outside the Go heap (so views into them work, also under checkptr), and nothing else
// readable.
type fakeMem struct {
	arena   []byte   // mmap'd
	used    int      // bytes of arena handed out
	regions [][]byte // parts of arena
	sys     []int64  // numbers passed to the fake real call
	ret     int64    // what the fake real call returns
}

// cstr places a NUL-terminated string and returns its address.
func (m *fakeMem) cstr(s string) uint64 { return m.bytes(append([]byte(s), 0)) }

// bytes places a copy of b and returns its address.
func (m *fakeMem) bytes(b []byte) uint64 {
	if m.arena == nil {
		a, err := unix.Mmap(-1, 0, 1<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			panic(err)
		}
		m.arena = a
	}
	r := m.arena[m.used : m.used+len(b) : m.used+len(b)]
	copy(r, b)
	m.used += (len(b) + 15) &^ 15
	m.regions = append(m.regions, r)
	return uint64(uintptr(unsafe.Pointer(&r[0])))
}

// argv places a NULL-terminated array of strings.
func (m *fakeMem) argv(ss ...string) uint64 {
	arr := make([]byte, 8*(len(ss)+1))
	for i, s := range ss {
		p := m.cstr(s)
		for j := range 8 {
			arr[8*i+j] = byte(p >> (8 * j))
		}
	}
	return m.bytes(arr)
}

// region returns the bytes readable from addr on.
func (m *fakeMem) region(addr uint64) []byte {
	for _, r := range m.regions {
		lo := uint64(uintptr(unsafe.Pointer(&r[0])))
		if addr >= lo && addr < lo+uint64(len(r)) {
			return r[addr-lo:]
		}
	}
	return nil
}

func (m *fakeMem) env() *typedEnv {
	return &typedEnv{
		read: func(addr uint64, buf []byte) int { return copy(buf, m.region(addr)) },
		probe: func(addr, n uint64) uint64 {
			return min(n, uint64(len(m.region(addr))))
		},
		sys: func(r *Regs) int64 {
			m.sys = append(m.sys, r.Nr)
			return m.ret
		},
	}
}

// recorder implements every typed interface and records the last method call.
type recorder struct {
	got string
	ret int64
	err syscall.Errno
}

func (h *recorder) rec(name string, args ...any) (int64, syscall.Errno) {
	var b strings.Builder
	b.WriteString(name)
	for _, a := range args {
		fmt.Fprintf(&b, " %#v", a)
	}
	h.got = b.String()
	return h.ret, h.err
}

func (h *recorder) Read(c *Call, fd int, buf []byte) (int64, syscall.Errno) {
	return h.rec("Read", fd, string(buf))
}
func (h *recorder) Write(c *Call, fd int, buf []byte) (int64, syscall.Errno) {
	return h.rec("Write", fd, string(buf))
}
func (h *recorder) Open(c *Call, p string, flags int, mode uint32) (int64, syscall.Errno) {
	return h.rec("Open", p, flags, mode)
}
func (h *recorder) Openat(c *Call, dirfd int, p string, flags int, mode uint32) (int64, syscall.Errno) {
	return h.rec("Openat", dirfd, p, flags, mode)
}
func (h *recorder) Close(c *Call, fd int) (int64, syscall.Errno) { return h.rec("Close", fd) }
func (h *recorder) Stat(c *Call, p string) (int64, syscall.Errno) {
	return h.rec("Stat", p)
}
func (h *recorder) Lstat(c *Call, p string) (int64, syscall.Errno) {
	return h.rec("Lstat", p)
}
func (h *recorder) Newfstatat(c *Call, dirfd int, p string, flags int) (int64, syscall.Errno) {
	return h.rec("Newfstatat", dirfd, p, flags)
}
func (h *recorder) Statx(c *Call, dirfd int, p string, flags int, mask uint32) (int64, syscall.Errno) {
	return h.rec("Statx", dirfd, p, flags, mask)
}
func (h *recorder) Access(c *Call, p string, mode uint32) (int64, syscall.Errno) {
	return h.rec("Access", p, mode)
}
func (h *recorder) Faccessat2(c *Call, dirfd int, p string, mode uint32, flags int) (int64, syscall.Errno) {
	return h.rec("Faccessat2", dirfd, p, mode, flags)
}
func (h *recorder) Unlink(c *Call, p string) (int64, syscall.Errno) {
	return h.rec("Unlink", p)
}
func (h *recorder) Unlinkat(c *Call, dirfd int, p string, flags int) (int64, syscall.Errno) {
	return h.rec("Unlinkat", dirfd, p, flags)
}
func (h *recorder) Rmdir(c *Call, p string) (int64, syscall.Errno) {
	return h.rec("Rmdir", p)
}
func (h *recorder) Mkdir(c *Call, p string, mode uint32) (int64, syscall.Errno) {
	return h.rec("Mkdir", p, mode)
}
func (h *recorder) Mkdirat(c *Call, dirfd int, p string, mode uint32) (int64, syscall.Errno) {
	return h.rec("Mkdirat", dirfd, p, mode)
}
func (h *recorder) Rename(c *Call, o, n string) (int64, syscall.Errno) {
	return h.rec("Rename", o, n)
}
func (h *recorder) Renameat(c *Call, od int, o string, nd int, n string) (int64, syscall.Errno) {
	return h.rec("Renameat", od, o, nd, n)
}
func (h *recorder) Renameat2(c *Call, od int, o string, nd int, n string, flags uint32) (int64, syscall.Errno) {
	return h.rec("Renameat2", od, o, nd, n, flags)
}
func (h *recorder) Chdir(c *Call, p string) (int64, syscall.Errno) {
	return h.rec("Chdir", p)
}
func (h *recorder) Execve(c *Call, p string, argv []string) (int64, syscall.Errno) {
	return h.rec("Execve", p, argv)
}
func (h *recorder) Execveat(c *Call, dirfd int, p string, argv []string, flags int) (int64, syscall.Errno) {
	return h.rec("Execveat", dirfd, p, argv, flags)
}
func (h *recorder) Connect(c *Call, fd int, addr []byte) (int64, syscall.Errno) {
	return h.rec("Connect", fd, addr)
}
func (h *recorder) Getpid(c *Call) (int64, syscall.Errno)  { return h.rec("Getpid") }
func (h *recorder) Getppid(c *Call) (int64, syscall.Errno) { return h.rec("Getppid") }
func (h *recorder) Gettid(c *Call) (int64, syscall.Errno)  { return h.rec("Gettid") }
func (h *recorder) Kill(c *Call, pid int, sig syscall.Signal) (int64, syscall.Errno) {
	return h.rec("Kill", pid, sig)
}

// regs builds the registers of a call.
func regs(nr int, args ...uint64) *Regs {
	r := &Regs{Nr: int64(nr)}
	copy(r.Args[:], args)
	return r
}

const atFdcwd = uint64(0xffffff9c) // AT_FDCWD as a 32-bit register value

func TestBindingsMatchSystemCallNames(t *testing.T) {
	seen := map[int]bool{}
	for _, b := range bindings {
		if got := decode.Name(int64(b.nr)); got != strings.ToLower(b.name) {
			t.Errorf("binding %s is for number %d, which is %s", b.name, b.nr, got)
		}
		if seen[b.nr] {
			t.Errorf("number %d bound twice", b.nr)
		}
		seen[b.nr] = true
		if b.bind(struct{}{}) != nil {
			t.Errorf("binding %s accepts a value without methods", b.name)
		}
		if b.bind(&recorder{}) == nil {
			t.Errorf("binding %s does not accept the recorder", b.name)
		}
		// The interface the binding asserts has exactly the method of its name.
		if _, ok := reflect.TypeOf(&recorder{}).MethodByName(b.name); !ok {
			t.Errorf("recorder lacks %s", b.name)
		}
	}
	if len(bindings) < 20 {
		t.Errorf("only %d typed system calls", len(bindings))
	}
}

type unlinkOnly struct{}

func (unlinkOnly) Unlinkat(c *Call, dirfd int, p string, flags int) (int64, syscall.Errno) {
	return 0, 0
}
func (unlinkOnly) Rmdir(c *Call, p string) (int64, syscall.Errno) { return 0, 0 }

// notQuite has a method of the right name and the wrong signature.
type notQuite struct{}

func (notQuite) Unlink(path string) error { return nil }

type catchAll struct{ unlinkOnly }

func (catchAll) Syscall(c *Call) (int64, syscall.Errno) { return 7, 0 }

func TestTypedNumberSet(t *testing.T) {
	var m fakeMem
	for _, tc := range []struct {
		name string
		h    any
		want []int
		err  error
	}{
		{"two methods", unlinkOnly{}, []int{unix.SYS_UNLINKAT, unix.SYS_RMDIR}, nil},
		{"pointer receiver", &recorder{}, nil, nil}, // checked below: every binding
		{"catch-all means every number", catchAll{}, nil, nil},
		{"none", struct{}{}, nil, ErrNotTyped},
		{"wrong signature", notQuite{}, nil, ErrNotTyped},
		{"nil", nil, nil, ErrNotTyped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, nrs, err := bindTyped(tc.h, m.env())
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if _, ok := tc.h.(*recorder); ok {
				if len(nrs) != len(bindings) {
					t.Errorf("recorder bound to %d numbers, want %d", len(nrs), len(bindings))
				}
				return
			}
			slices.Sort(nrs)
			slices.Sort(tc.want)
			if !slices.Equal(nrs, tc.want) {
				t.Errorf("numbers %v, want %v", nrs, tc.want)
			}
			if typ.table[unix.SYS_UNLINKAT] == nil || typ.table[unix.SYS_WRITE] != nil {
				t.Errorf("table does not match the methods")
			}
		})
	}
}

func TestTypedDecodesArguments(t *testing.T) {
	m := &fakeMem{ret: 99}
	big := strings.Repeat("x", 5000)
	cases := []struct {
		r    *Regs
		want string // the method call; "" = not called (performed as is)
	}{
		{regs(unix.SYS_READ, 3, m.bytes([]byte("0123456789")), 4), `Read 3 "0123"`},
		{regs(unix.SYS_READ, 3, m.bytes([]byte("01")), 4096), `Read 3 "01"`}, // the mapped prefix
		{regs(unix.SYS_READ, 3, 0x10, 4096), `Read 3 ""`},
		{regs(unix.SYS_WRITE, 1, m.bytes([]byte("hello\n")), 6), `Write 1 "hello\n"`},
		{regs(unix.SYS_WRITE, 0xffffffff, 0, 0), `Write -1 ""`},
		{regs(unix.SYS_OPEN, m.cstr("/etc/passwd"), unix.O_RDONLY|unix.O_CLOEXEC, 0o644),
			`Open "/etc/passwd" 524288 0x1a4`},
		{regs(unix.SYS_OPENAT, atFdcwd, m.cstr("rel/a"), unix.O_CREAT|unix.O_WRONLY, 0o600),
			`Openat -100 "rel/a" 65 0x180`},
		{regs(unix.SYS_OPENAT, 5|0xdeadbeef00000000, m.cstr("a"), 0, 0), `Openat 5 "a" 0 0x0`},
		{regs(unix.SYS_CLOSE, 7), `Close 7`},
		{regs(unix.SYS_STAT, m.cstr("/s"), 0x1234), `Stat "/s"`},
		{regs(unix.SYS_LSTAT, m.cstr("/l"), 0x1234), `Lstat "/l"`},
		{regs(unix.SYS_NEWFSTATAT, 4, m.cstr(""), 0x1234, unix.AT_EMPTY_PATH), `Newfstatat 4 "" 4096`},
		{regs(unix.SYS_NEWFSTATAT, 4, 0, 0x1234, unix.AT_EMPTY_PATH), `Newfstatat 4 "" 4096`},
		{regs(unix.SYS_NEWFSTATAT, 4, 0, 0x1234, 0), ``}, // NULL without AT_EMPTY_PATH: EFAULT
		{regs(unix.SYS_STATX, atFdcwd, m.cstr("x"), unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, 0x1),
			`Statx -100 "x" 256 0x7ff`},
		{regs(unix.SYS_ACCESS, m.cstr("/a"), unix.X_OK), `Access "/a" 0x1`},
		{regs(unix.SYS_FACCESSAT2, atFdcwd, m.cstr("f"), unix.R_OK, unix.AT_EACCESS), `Faccessat2 -100 "f" 0x4 512`},
		{regs(unix.SYS_UNLINK, m.cstr("/tmp/u")), `Unlink "/tmp/u"`},
		{regs(unix.SYS_UNLINKAT, atFdcwd, m.cstr("d"), unix.AT_REMOVEDIR), `Unlinkat -100 "d" 512`},
		{regs(unix.SYS_RMDIR, m.cstr("/r")), `Rmdir "/r"`},
		{regs(unix.SYS_MKDIR, m.cstr("/m"), 0o755), `Mkdir "/m" 0x1ed`},
		{regs(unix.SYS_MKDIRAT, 3, m.cstr("m"), 0o700), `Mkdirat 3 "m" 0x1c0`},
		{regs(unix.SYS_RENAME, m.cstr("o"), m.cstr("n")), `Rename "o" "n"`},
		{regs(unix.SYS_RENAMEAT, 3, m.cstr("o"), 4, m.cstr("n")), `Renameat 3 "o" 4 "n"`},
		{regs(unix.SYS_RENAMEAT2, 3, m.cstr("o"), atFdcwd, m.cstr("n"), unix.RENAME_NOREPLACE),
			`Renameat2 3 "o" -100 "n" 0x1`},
		{regs(unix.SYS_RENAMEAT2, 3, m.cstr("o"), atFdcwd, 0x20, 0), ``}, // bad new path
		{regs(unix.SYS_CHDIR, m.cstr("/")), `Chdir "/"`},
		{regs(unix.SYS_EXECVE, m.cstr("/bin/sh"), m.argv("sh", "-c", big), 0),
			`Execve "/bin/sh" []string{"sh", "-c", "` + big + `"}`},
		{regs(unix.SYS_EXECVE, m.cstr("/bin/true"), 0, 0), `Execve "/bin/true" []string(nil)`},
		{regs(unix.SYS_EXECVE, m.cstr("/bin/true"), 0x30, 0), ``}, // bad argv
		{regs(unix.SYS_EXECVEAT, 3, 0, m.argv("p"), 0, unix.AT_EMPTY_PATH),
			`Execveat 3 "" []string{"p"} 4096`},
		{regs(unix.SYS_CONNECT, 3, m.bytes([]byte{1, 0, '/', 's', 0}), 5), `Connect 3 []byte{0x1, 0x0, 0x2f, 0x73, 0x0}`},
		{regs(unix.SYS_CONNECT, 3, 0, 0), `Connect 3 []byte(nil)`},
		{regs(unix.SYS_CONNECT, 3, 0x40, 16), ``}, // unreadable address
		{regs(unix.SYS_GETPID), `Getpid`},
		{regs(unix.SYS_GETPPID), `Getppid`},
		{regs(unix.SYS_GETTID), `Gettid`},
		{regs(unix.SYS_KILL, 0xffffffff, 9), `Kill -1 9`},
		{regs(unix.SYS_UNLINK, m.cstr(big)), ``}, // no NUL within PATH_MAX: ENAMETOOLONG
		{regs(unix.SYS_UNLINK, 0x1000), ``},      // unreadable: EFAULT
		{regs(unix.SYS_GETUID), ``},              // no method: never registered, performed
		{regs(-1), ``},                           // out of the table
		{regs(100000), ``},                       // out of the table
	}
	h := &recorder{ret: 42}
	typ, _, err := bindTyped(h, m.env())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		name := decode.Name(tc.r.Nr)
		h.got, m.sys = "", nil
		got := typ.run(tc.r)
		if h.got != tc.want {
			t.Errorf("%s%v: method call\n  got  %q\n  want %q", name, tc.r.Args, h.got, tc.want)
		}
		switch {
		case tc.want != "" && (got != 42 || len(m.sys) != 0):
			t.Errorf("%s: result %d, real calls %v; want 42 and none", name, got, m.sys)
		case tc.want == "" && (got != 99 || !slices.Equal(m.sys, []int64{tc.r.Nr})):
			t.Errorf("%s: result %d, real calls %v; want 99 from the real call", name, got, m.sys)
		}
	}
}

// A call whose arguments cannot be decoded goes to the catch-all when there is one.
func TestTypedCatchAll(t *testing.T) {
	m := &fakeMem{ret: 99}
	typ, nrs, err := bindTyped(catchAll{}, m.env())
	if err != nil || nrs != nil {
		t.Fatalf("nrs %v, err %v; want every number", nrs, err)
	}
	for _, r := range []*Regs{regs(unix.SYS_GETUID), regs(unix.SYS_UNLINKAT, atFdcwd, 0x10, 0)} {
		if got := typ.run(r); got != 7 || len(m.sys) != 0 {
			t.Errorf("%s: %d, real calls %v; want 7 from Syscall", decode.Name(r.Nr), got, m.sys)
		}
	}
	if got := typ.run(regs(unix.SYS_UNLINKAT, atFdcwd, m.cstr("a"), 0)); got != 0 {
		t.Errorf("unlinkat with a good path: %d, want 0 from the typed method", got)
	}
}

func TestResults(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		e    syscall.Errno
		want int64
	}{
		{5, 0, 5}, {0, 0, 0}, {-1, syscall.EPERM, -1}, {123, syscall.ENOENT, -2},
		{0, syscall.Errno(4095), -4095}, {-1 << 40, 0, -1 << 40},
	} {
		if got := join(tc.v, tc.e); got != tc.want {
			t.Errorf("join(%d, %d) = %d, want %d", tc.v, tc.e, got, tc.want)
		}
	}
	for _, tc := range []struct {
		r int64
		v int64
		e syscall.Errno
	}{
		{3, 3, 0}, {0, 0, 0}, {-1, -1, syscall.EPERM}, {-4095, -1, syscall.Errno(4095)},
		{-4096, -4096, 0}, {-1 << 40, -1 << 40, 0},
	} {
		if v, e := split(tc.r); v != tc.v || e != tc.e {
			t.Errorf("split(%d) = (%d, %d), want (%d, %d)", tc.r, v, e, tc.v, tc.e)
		}
	}
}

// defaultHook passes through and reports what Default and String saw.
type defaultHook struct {
	v      int64
	e      syscall.Errno
	before string
	after  string
}

func (h *defaultHook) Unlinkat(c *Call, dirfd int, p string, flags int) (int64, syscall.Errno) {
	h.before = c.String()
	h.v, h.e = c.Default()
	h.after = c.String()
	return h.v, h.e
}

func TestDefaultAndString(t *testing.T) {
	m := &fakeMem{ret: -int64(syscall.EPERM)}
	h := &defaultHook{}
	typ, _, err := bindTyped(h, m.env())
	if err != nil {
		t.Fatal(err)
	}
	got := typ.run(regs(unix.SYS_UNLINKAT, atFdcwd, m.cstr("a/b"), 0))
	if got != -int64(syscall.EPERM) || h.v != -1 || h.e != syscall.EPERM {
		t.Errorf("result %d, Default (%d, %v); want -EPERM and (-1, EPERM)", got, h.v, h.e)
	}
	if want := `unlinkat(AT_FDCWD, "a/b", 0)`; h.before != want {
		t.Errorf("String before Default = %q, want %q", h.before, want)
	}
	if want := `unlinkat(AT_FDCWD, "a/b", 0) = -1 EPERM (Operation not permitted)`; h.after != want {
		t.Errorf("String after Default = %q, want %q", h.after, want)
	}
}

// faulty touches its buffer, or panics for another reason.
type faulty struct{ other bool }

func (h faulty) Write(c *Call, fd int, buf []byte) (int64, syscall.Errno) {
	if h.other {
		var p *[1 << 20]byte
		_ = p[len(buf)] // a nil dereference that is no bad buffer (beyond page 0's reach)
	}
	return int64(buf[len(buf)-1]), 0
}

// A fault on a view the program passed becomes EFAULT; other panics go on.
func TestTypedFaultOnView(t *testing.T) {
	mem, err := unix.Mmap(-1, 0, pageSize, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	addr := uint64(uintptr(unsafe.Pointer(&mem[0])))
	env := &typedEnv{
		read:  func(uint64, []byte) int { return 0 },
		probe: func(addr, n uint64) uint64 { return n }, // lies: the page went away
		sys:   func(*Regs) int64 { t.Error("real call made"); return 0 },
	}
	typ, _, err := bindTyped(faulty{}, env)
	if err != nil {
		t.Fatal(err)
	}
	if got := typ.run(regs(unix.SYS_WRITE, 1, addr, 10)); got != -int64(unix.EFAULT) {
		t.Errorf("write of an unreadable buffer: %d, want -EFAULT", got)
	}
	typ, _, _ = bindTyped(faulty{other: true}, env)
	func() {
		defer func() {
			if p := recover(); p == nil {
				t.Error("a nil dereference in the hook was swallowed")
			}
		}()
		typ.run(regs(unix.SYS_WRITE, 1, addr+4096*512, 10))
	}()
}

func TestReadablePrefix(t *testing.T) {
	const pages = 300 // more than one batch of probes
	mem, err := unix.Mmap(-1, 0, pages*pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	const hole = 200
	if err := unix.Mprotect(mem[hole*pageSize:(hole+1)*pageSize], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	base := uint64(uintptr(unsafe.Pointer(&mem[0])))
	pid := os.Getpid()
	for _, tc := range []struct{ off, n, want uint64 }{
		{0, 10, 10},
		{100, 2 * pageSize, 2 * pageSize},
		{pageSize - 1, 2, 2},
		{0, hole * pageSize, hole * pageSize},
		{0, pages * pageSize, hole * pageSize},
		{5, pages * pageSize, hole*pageSize - 5},
		{hole * pageSize, 1, 0},
		{(hole + 1) * pageSize, 3 * pageSize, 3 * pageSize},
		{0, 0, 0},
	} {
		if got := readablePrefix(pid, base+tc.off, tc.n); got != tc.want {
			t.Errorf("readablePrefix(+%d, %d) = %d, want %d", tc.off, tc.n, got, tc.want)
		}
	}
	if got := readablePrefix(pid, 8, 100); got != 0 {
		t.Errorf("readablePrefix(8, 100) = %d, want 0", got)
	}
}

func TestProcessEnvReadsOwnMemory(t *testing.T) {
	env, err := processEnv()
	if err != nil {
		t.Fatal(err)
	}
	s := []byte("/some/path\x00")
	typ, _, err := bindTyped(&recorder{}, env)
	if err != nil {
		t.Fatal(err)
	}
	h := typ.table[unix.SYS_UNLINK]
	c := &Call{Regs: regs(unix.SYS_UNLINK, uint64(uintptr(unsafe.Pointer(&s[0])))), env: env}
	c.dec = decode.Call{Nr: c.Regs.Nr, Args: c.Regs.Args}
	if _, ok := h(c); !ok {
		t.Fatal("path in own memory not decoded")
	}
	if p, ok := c.path(0, false); !ok || p != "/some/path" {
		t.Errorf("path = %q, %v", p, ok)
	}
}

func TestResolvePath(t *testing.T) {
	dir := t.TempDir()
	dir, _ = filepath.EvalSymlinks(dir)
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	wd, err := unix.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dirfd int
		path  string
		want  string
	}{
		{unix.AT_FDCWD, "/a/../b//c/", "/b/c"},
		{unix.AT_FDCWD, "x/y", filepath.Join(wd, "x/y")},
		{unix.AT_FDCWD, "..", filepath.Dir(wd)},
		{int(f.Fd()), "sub/../f", filepath.Join(dir, "f")},
		{int(f.Fd()), "", dir},
		{int(f.Fd()), "/abs", "/abs"},
	} {
		got, err := ResolvePath(tc.dirfd, tc.path)
		if err != nil || got != tc.want {
			t.Errorf("ResolvePath(%d, %q) = %q, %v; want %q", tc.dirfd, tc.path, got, err, tc.want)
		}
	}
	if _, err := ResolvePath(99999, "x"); err == nil {
		t.Error("ResolvePath with a closed dirfd did not fail")
	}
}

type ppidHook struct{}

func (ppidHook) Getppid(c *Call) (int64, syscall.Errno) { return 424242, 0 }

// The typed path of a call without memory arguments does not allocate.
func TestTypedGetppidAllocs(t *testing.T) {
	var m fakeMem
	typ, _, err := bindTyped(ppidHook{}, m.env())
	if err != nil {
		t.Fatal(err)
	}
	r := regs(unix.SYS_GETPPID)
	if n := testing.AllocsPerRun(1000, func() { typ.run(r) }); n != 0 {
		t.Errorf("%v allocations per typed getppid", n)
	}
}

func BenchmarkTypedGetppid(b *testing.B) {
	var m fakeMem
	typ, _, _ := bindTyped(ppidHook{}, m.env())
	r := regs(unix.SYS_GETPPID)
	b.ReportAllocs()
	for b.Loop() {
		typ.run(r)
	}
}

func BenchmarkTypedUnlinkatPath(b *testing.B) {
	env, err := processEnv()
	if err != nil {
		b.Fatal(err)
	}
	typ, _, _ := bindTyped(unlinkOnly{}, env)
	s := []byte("/tmp/some/file\x00")
	r := regs(unix.SYS_UNLINKAT, atFdcwd, uint64(uintptr(unsafe.Pointer(&s[0]))), 0)
	b.ReportAllocs()
	for b.Loop() {
		typ.run(r)
	}
}

func BenchmarkTypedWriteView(b *testing.B) {
	env, err := processEnv()
	if err != nil {
		b.Fatal(err)
	}
	typ, _, _ := bindTyped(faulty{}, env)
	s, err := unix.Mmap(-1, 0, 8192, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Munmap(s)
	s = s[100:]
	r := regs(unix.SYS_WRITE, 1, uint64(uintptr(unsafe.Pointer(&s[0]))), 4096)
	b.ReportAllocs()
	for b.Loop() {
		typ.run(r)
	}
}
