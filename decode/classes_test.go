package decode_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/zpoline-go/zpoline/decode"
)

func nr(t *testing.T, name string) int64 {
	t.Helper()
	n, ok := decode.Number(name)
	if !ok {
		t.Fatalf("unknown system call %q", name)
	}
	return n
}

func TestParseTraceSet(t *testing.T) {
	tests := []struct {
		spec    string
		in, out []string
	}{
		{"openat,read,write,close", []string{"openat", "read", "write", "close"}, []string{"open", "mmap"}},
		{"%file", []string{"open", "openat", "execve", "stat", "newfstatat", "statx", "unlink", "chdir"}, []string{"read", "close", "fstat"}},
		{"file", []string{"openat", "access"}, []string{"write"}},
		{"%network", []string{"socket", "connect", "sendto", "accept4", "sendfile"}, []string{"read", "open"}},
		{"%net", []string{"socket"}, []string{"pipe"}},
		{"%process", []string{"clone", "clone3", "fork", "vfork", "execve", "exit_group", "wait4", "kill"}, []string{"getpid", "read"}},
		{"process", []string{"exit"}, []string{"getppid"}},
		{"%signal", []string{"rt_sigaction", "rt_sigprocmask", "kill", "sigaltstack", "signalfd4"}, []string{"read"}},
		{"%desc", []string{"read", "write", "close", "openat", "mmap", "epoll_wait", "dup3"}, []string{"stat", "getpid"}},
		{"%memory", []string{"mmap", "munmap", "mprotect", "brk", "madvise", "mremap"}, []string{"read"}},
		{"%ipc", []string{"shmget", "semop", "msgsnd"}, []string{"socket"}},
		{"%stat", []string{"stat"}, []string{"fstat", "lstat"}},
		{"%%stat", []string{"stat", "fstat", "lstat", "newfstatat", "statx"}, []string{"statfs"}},
		{"%pure", []string{"getpid", "gettid", "getuid"}, []string{"setuid"}},
		{"%creds", []string{"setuid", "getresuid", "capget"}, []string{"getpid"}},
		{"%clock", []string{"clock_gettime", "gettimeofday", "time"}, []string{"nanosleep"}},
		{"!read,write", []string{"openat", "close", "syscall_600"}, []string{"read", "write"}},
		{"!%file", []string{"read"}, []string{"openat"}},
		{"all", []string{"read", "syscall_600"}, nil},
		{"none", nil, []string{"read", "openat"}},
		{"/^open", []string{"open", "openat", "openat2", "open_tree"}, []string{"close", "mq_open"}},
		{"?nosuchcall,read", []string{"read"}, []string{"write"}},
		{"syscall_600,0", []string{"syscall_600", "read"}, []string{"write"}},
		{" read , write ", []string{"read", "write"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := decode.ParseTraceSet(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tt.in {
				if !s.Has(nr(t, n)) {
					t.Errorf("%s not in set", n)
				}
			}
			for _, n := range tt.out {
				if s.Has(nr(t, n)) {
					t.Errorf("%s in set", n)
				}
			}
		})
	}
}

func TestParseTraceSetErrors(t *testing.T) {
	tests := []struct {
		spec string
		err  error
		text string
	}{
		{"foo", decode.ErrUnknownSyscall, `unknown system call "foo"`},
		{"read,foo", decode.ErrUnknownSyscall, `unknown system call "foo"`},
		{"%nope", decode.ErrUnknownClass, `unknown system call class "%nope"`},
		{"/[", decode.ErrBadRegexp, `invalid regular expression "/["`},
		{"/^zzz", decode.ErrUnknownSyscall, `unknown system call "/^zzz"`},
		{"", decode.ErrEmptySpec, "empty system call list"},
		{"!", decode.ErrEmptySpec, "empty system call list"},
		{"syscall_x", decode.ErrUnknownSyscall, `unknown system call "syscall_x"`},
		{"-1", decode.ErrUnknownSyscall, `unknown system call "-1"`},
	}
	for _, tt := range tests {
		_, err := decode.ParseTraceSet(tt.spec)
		if !errors.Is(err, tt.err) {
			t.Errorf("ParseTraceSet(%q) = %v, want %v", tt.spec, err, tt.err)
			continue
		}
		var se *decode.SpecError
		if !errors.As(err, &se) || err.Error() != tt.text {
			t.Errorf("ParseTraceSet(%q) error text %q, want %q", tt.spec, err, tt.text)
		}
	}
}

func TestSet(t *testing.T) {
	var s decode.Set
	for _, n := range []int64{0, 63, 64, 639, 640, 100000, -5} {
		if s.Has(n) {
			t.Fatalf("empty set has %d", n)
		}
		s.Add(n)
		if !s.Has(n) {
			t.Fatalf("set lacks %d after Add", n)
		}
	}
	if got, want := s.Numbers(), []int64{-5, 0, 63, 64, 639, 640, 100000}; !slices.Equal(got, want) {
		t.Errorf("Numbers = %v, want %v", got, want)
	}
	c := s.Clone()
	c.Remove(100000)
	if !s.Has(100000) || c.Has(100000) {
		t.Error("Clone shares numbers")
	}
	s.Remove(640)
	s.Invert()
	if s.Has(0) || !s.Has(1) || !s.Has(640) || s.Has(100000) {
		t.Error("Invert")
	}
	all := decode.AllSet()
	all.Remove(3)
	if all.Has(3) || !all.Has(4) || !all.Has(1<<40) {
		t.Error("All/Remove")
	}
}

func TestClasses(t *testing.T) {
	cl := decode.Classes()
	for _, name := range []string{"file", "network", "net", "process", "signal", "desc", "memory", "ipc"} {
		s, ok := cl[name]
		if !ok || len(s.Numbers()) == 0 {
			t.Errorf("class %q missing or empty", name)
		}
	}
	file := cl["file"]
	if !file.Has(nr(t, "openat")) || file.Has(nr(t, "read")) {
		t.Error("file class membership")
	}
	if decode.ClassOf(nr(t, "openat")) != decode.ClassFile|decode.ClassDesc {
		t.Errorf("ClassOf(openat) = %b", decode.ClassOf(nr(t, "openat")))
	}
	if decode.ClassOf(600) != 0 {
		t.Error("ClassOf(unknown) != 0")
	}
}
