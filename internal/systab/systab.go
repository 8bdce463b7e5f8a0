// Package systab is zpoline-go's one table of x86-64 Linux system call names, argument
// counts and errno names, shared by the Go packages (through this API) and by C code
// (through the header that cmd/gen-systab-h generates from the same files).
//
// The tables live in syscalls.tsv and errnos.tsv next to this file and are embedded in
// the binary. They are parsed once, on first use.
//
// Numbers the table does not know have a stable fallback name: Name returns
// "syscall_<n>" (decimal, with a minus sign for negative numbers, e.g. "syscall_600",
// "syscall_-1") and ErrnoName returns "errno_<n>". Number and ErrnoNumber accept these
// forms back, so Number(Name(n)) == n for every n. The C default hook library prints
// the same fallback forms.
package systab

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

//go:embed syscalls.tsv
var syscallsTSV []byte

//go:embed errnos.tsv
var errnosTSV []byte

// SyscallPrefix starts the fallback name of a system call number the table does not know.
const SyscallPrefix = "syscall_"

// ErrnoPrefix starts the fallback name of an errno value the table does not know.
const ErrnoPrefix = "errno_"

// MaxArgs is the largest argument count of a system call on x86-64 (rdi, rsi, rdx, r10,
// r8, r9). ArgCount returns it for numbers the table does not know.
const MaxArgs = 6

// Syscall is one row of the system call table.
type Syscall struct {
	Nr   int64  // system call number (the value of rax)
	Name string // kernel name, e.g. "openat"
	Args int    // argument count, 0..6 (n of the kernel's SYSCALL_DEFINEn)
}

// Errno is one row of the errno table.
type Errno struct {
	Nr   int64  // positive errno value
	Name string // symbolic name, e.g. "ENOENT"
}

// tables is the parsed, indexed form of the embedded files.
type tables struct {
	syscalls []Syscall // sorted by Nr
	byNr     []int16   // index into syscalls by number, -1 for holes
	byName   map[string]int64
	errnos   []Errno // sorted by Nr
	errByNr  []string
	errByNam map[string]int64
}

var load = sync.OnceValue(func() *tables {
	sc, err := ParseSyscalls(syscallsTSV)
	if err != nil {
		// The embedded file is part of the source; TestEmbeddedTablesParse keeps it valid.
		panic(fmt.Sprintf("systab: embedded syscalls.tsv: %v", err))
	}
	en, err := ParseErrnos(errnosTSV)
	if err != nil {
		panic(fmt.Sprintf("systab: embedded errnos.tsv: %v", err))
	}
	t := &tables{
		syscalls: sc,
		byName:   make(map[string]int64, len(sc)),
		errnos:   en,
		errByNam: make(map[string]int64, len(en)),
	}
	t.byNr = make([]int16, sc[len(sc)-1].Nr+1)
	for i := range t.byNr {
		t.byNr[i] = -1
	}
	for i, s := range sc {
		t.byNr[s.Nr] = int16(i)
		t.byName[s.Name] = s.Nr
	}
	t.errByNr = make([]string, en[len(en)-1].Nr+1)
	for _, e := range en {
		t.errByNr[e.Nr] = e.Name
		t.errByNam[e.Name] = e.Nr
	}
	return t
})

// Lookup returns the table row of system call number nr, and false if the table does
// not know nr.
func Lookup(nr int64) (Syscall, bool) {
	t := load()
	if nr < 0 || nr >= int64(len(t.byNr)) || t.byNr[nr] < 0 {
		return Syscall{}, false
	}
	return t.syscalls[t.byNr[nr]], true
}

// Name returns the name of system call number nr, or "syscall_<nr>" (decimal) if the
// table does not know nr; it never returns "".
func Name(nr int64) string {
	if s, ok := Lookup(nr); ok {
		return s.Name
	}
	return SyscallPrefix + strconv.FormatInt(nr, 10)
}

// Number returns the number of the system call called name. It also accepts the
// fallback form "syscall_<n>" that Name returns (n in canonical decimal), for any n.
// It returns false for anything else.
func Number(name string) (int64, bool) {
	if nr, ok := load().byName[name]; ok {
		return nr, true
	}
	return parseFallback(name, SyscallPrefix)
}

// Max returns the largest system call number in the table (469, file_setattr, for
// Linux 6.18).
func Max() int64 {
	t := load()
	return t.syscalls[len(t.syscalls)-1].Nr
}

// ArgCount returns the argument count of system call number nr, or MaxArgs (6) if the
// table does not know nr, so that a tracer shows every argument register of an unknown
// call. Use Lookup to tell the two apart.
func ArgCount(nr int64) int {
	if s, ok := Lookup(nr); ok {
		return s.Args
	}
	return MaxArgs
}

// All returns every row of the system call table, sorted by number. The slice is a
// copy; the caller may modify it.
func All() []Syscall {
	t := load()
	return append([]Syscall(nil), t.syscalls...)
}

// ErrnoName returns the name of the positive errno value e (e.g. 2 → "ENOENT"), or
// "errno_<e>" (decimal) if the table does not know e; it never returns "". A system
// call result r is an error when -4095 <= r <= -1; its errno is -r.
func ErrnoName(e int64) string {
	t := load()
	if e > 0 && e < int64(len(t.errByNr)) && t.errByNr[e] != "" {
		return t.errByNr[e]
	}
	return ErrnoPrefix + strconv.FormatInt(e, 10)
}

// ErrnoNumber returns the value of the errno called name (primary names only, e.g.
// "EAGAIN", not its alias "EWOULDBLOCK"). It also accepts the fallback form
// "errno_<n>" that ErrnoName returns. It returns false for anything else.
func ErrnoNumber(name string) (int64, bool) {
	if e, ok := load().errByNam[name]; ok {
		return e, true
	}
	return parseFallback(name, ErrnoPrefix)
}

// Errnos returns every row of the errno table, sorted by value. The slice is a copy.
func Errnos() []Errno {
	t := load()
	return append([]Errno(nil), t.errnos...)
}

// parseFallback parses prefix followed by a canonical decimal integer.
func parseFallback(name, prefix string) (int64, bool) {
	digits, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != digits {
		return 0, false
	}
	return n, true
}
