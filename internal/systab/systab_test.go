package systab

import (
	"bufio"
	"bytes"
	"os"
	"regexp"
	"strconv"
	"testing"
)

func TestEmbeddedTablesParse(t *testing.T) {
	if _, err := ParseSyscalls(syscallsTSV); err != nil {
		t.Fatalf("syscalls.tsv: %v", err)
	}
	if _, err := ParseErrnos(errnosTSV); err != nil {
		t.Fatalf("errnos.tsv: %v", err)
	}
}

func TestSyscallTableShape(t *testing.T) {
	all := All()
	if all[0].Nr != 0 || all[0].Name != "read" {
		t.Errorf("first row = %+v, want 0 read", all[0])
	}
	names := map[string]bool{}
	for i, s := range all {
		if i > 0 && s.Nr <= all[i-1].Nr {
			t.Errorf("row %d: %d after %d: not sorted or duplicate", i, s.Nr, all[i-1].Nr)
		}
		if names[s.Name] {
			t.Errorf("duplicate name %q", s.Name)
		}
		names[s.Name] = true
		if s.Args < 0 || s.Args > MaxArgs {
			t.Errorf("%s: %d arguments", s.Name, s.Args)
		}
	}
	// Dense where the kernel is dense: 0..336 (rseq 334, uretprobe 335, uprobe 336) and
	// 424..Max; 337..423 are unused on x86-64.
	for nr := int64(0); nr <= Max(); nr++ {
		_, ok := Lookup(nr)
		want := nr <= 336 || nr >= 424
		if ok != want {
			t.Errorf("Lookup(%d) known = %v, want %v", nr, ok, want)
		}
	}
	if got := Max(); got != 469 {
		t.Errorf("Max() = %d, want 469 (file_setattr, Linux 6.18)", got)
	}
	if got, want := len(all), 337+(469-424+1); got != want {
		t.Errorf("%d rows, want %d", got, want)
	}
	all[0].Name = "changed"
	if Name(0) != "read" {
		t.Error("All returned the table itself, not a copy")
	}
}

// Numbers newer than the installed headers that fall below the header's largest number
// (the headers on the development machine are Linux 6.1's; uretprobe and uprobe were
// given numbers in the x86-64 gap after rseq).
var newerThanHeaders = map[int64]string{
	335: "uretprobe", // Linux 6.11
	336: "uprobe",    // Linux 6.18
}

func TestTableMatchesHeader(t *testing.T) {
	hdr := readHeader(t, "/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h")
	re := regexp.MustCompile(`(?m)^#define __NR_(\w+)\s+(\d+)\s*$`)
	m := re.FindAllSubmatch(hdr, -1)
	if len(m) < 300 {
		t.Fatalf("found only %d __NR_ definitions in the header", len(m))
	}
	inHeader := map[int64]bool{}
	var hmax int64
	for _, d := range m {
		name := string(d[1])
		nr, _ := strconv.ParseInt(string(d[2]), 10, 64)
		inHeader[nr] = true
		hmax = max(hmax, nr)
		if got := Name(nr); got != name {
			t.Errorf("Name(%d) = %q, header says %q", nr, got, name)
		}
		if got, ok := Number(name); !ok || got != nr {
			t.Errorf("Number(%q) = %d, %v; header says %d", name, got, ok, nr)
		}
	}
	for _, s := range All() {
		if s.Nr > hmax || inHeader[s.Nr] {
			continue
		}
		if newerThanHeaders[s.Nr] != s.Name {
			t.Errorf("%d %s: unknown to the installed header and not listed as newer", s.Nr, s.Name)
		}
	}
	t.Logf("header knows %d numbers up to %d; table has %d up to %d", len(m), hmax, len(All()), Max())
}

func TestErrnoTableMatchesHeaders(t *testing.T) {
	var src []byte
	src = append(src, readHeader(t, "/usr/include/asm-generic/errno-base.h")...)
	src = append(src, readHeader(t, "/usr/include/asm-generic/errno.h")...)
	values := map[int64]string{}
	aliases := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(src))
	re := regexp.MustCompile(`^#define\s+(E[A-Z0-9]+)\s+(\w+)`)
	for sc.Scan() {
		d := re.FindStringSubmatch(sc.Text())
		if d == nil {
			continue
		}
		if n, err := strconv.ParseInt(d[2], 10, 64); err == nil {
			values[n] = d[1]
		} else {
			aliases[d[1]] = d[2]
		}
	}
	if len(values) < 130 {
		t.Fatalf("found only %d errno values in the headers", len(values))
	}
	for n, name := range values {
		if got := ErrnoName(n); got != name {
			t.Errorf("ErrnoName(%d) = %q, header says %q", n, got, name)
		}
		if got, ok := ErrnoNumber(name); !ok || got != n {
			t.Errorf("ErrnoNumber(%q) = %d, %v; header says %d", name, got, ok, n)
		}
	}
	for alias, target := range aliases {
		if _, ok := ErrnoNumber(alias); ok {
			t.Errorf("alias %s is in the table; only primary names belong there", alias)
		}
		if _, ok := ErrnoNumber(target); !ok {
			t.Errorf("%s (target of alias %s) missing", target, alias)
		}
	}
	if got := len(Errnos()); got != len(values) {
		t.Errorf("table has %d errnos, headers %d", got, len(values))
	}
	if ErrnoName(1) != "EPERM" || ErrnoName(133) != "EHWPOISON" {
		t.Errorf("ends of the errno table: %s, %s", ErrnoName(1), ErrnoName(133))
	}
}

func readHeader(t *testing.T, paths ...string) []byte {
	t.Helper()
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			return b
		}
	}
	t.Skipf("kernel headers not installed (%v); install linux-libc-dev", paths)
	return nil
}

func TestNamesAndFallbacks(t *testing.T) {
	for _, tc := range []struct {
		nr   int64
		name string
		args int
	}{
		{0, "read", 3},
		{9, "mmap", 6},
		{15, "rt_sigreturn", 0},
		{39, "getpid", 0},
		{56, "clone", 5},
		{231, "exit_group", 1},
		{257, "openat", 4},
		{295, "preadv", 5}, // SYSCALL_DEFINE5: pos_l, pos_h even on 64-bit
		{334, "rseq", 4},
		{335, "uretprobe", 0},
		{336, "uprobe", 0},
		{337, "syscall_337", 6},
		{423, "syscall_423", 6},
		{424, "pidfd_send_signal", 4},
		{435, "clone3", 2},
		{450, "set_mempolicy_home_node", 4},
		{451, "cachestat", 4},
		{462, "mseal", 3},
		{463, "setxattrat", 6},
		{467, "open_tree_attr", 5},
		{469, "file_setattr", 5},
		{470, "syscall_470", 6},
		{600, "syscall_600", 6},
		{0x40000027, "syscall_1073741863", 6},
		{-1, "syscall_-1", 6},
	} {
		if got := Name(tc.nr); got != tc.name {
			t.Errorf("Name(%d) = %q, want %q", tc.nr, got, tc.name)
		}
		if got := ArgCount(tc.nr); got != tc.args {
			t.Errorf("ArgCount(%d) = %d, want %d", tc.nr, got, tc.args)
		}
		if got, ok := Number(tc.name); !ok || got != tc.nr {
			t.Errorf("Number(%q) = %d, %v, want %d", tc.name, got, ok, tc.nr)
		}
	}
	for _, bad := range []string{"", "nope", "syscall_", "syscall_0600", "syscall_+1", "syscall_-0", "syscall_ 1", "Read", "errno_2", "syscall_99999999999999999999"} {
		if nr, ok := Number(bad); ok {
			t.Errorf("Number(%q) = %d, true; want false", bad, nr)
		}
	}
	for _, tc := range []struct {
		e    int64
		name string
	}{{2, "ENOENT"}, {11, "EAGAIN"}, {35, "EDEADLK"}, {38, "ENOSYS"}, {41, "errno_41"}, {58, "errno_58"}, {0, "errno_0"}, {134, "errno_134"}, {-2, "errno_-2"}} {
		if got := ErrnoName(tc.e); got != tc.name {
			t.Errorf("ErrnoName(%d) = %q, want %q", tc.e, got, tc.name)
		}
		if got, ok := ErrnoNumber(tc.name); !ok || got != tc.e {
			t.Errorf("ErrnoNumber(%q) = %d, %v, want %d", tc.name, got, ok, tc.e)
		}
	}
	for _, bad := range []string{"EWOULDBLOCK", "EDEADLOCK", "ENOTSUP", "errno_", "enoent"} {
		if e, ok := ErrnoNumber(bad); ok {
			t.Errorf("ErrnoNumber(%q) = %d, true; want false", bad, e)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for nr := int64(-5); nr < 1100; nr++ {
		if got, ok := Number(Name(nr)); !ok || got != nr {
			t.Fatalf("Number(Name(%d)) = %d, %v", nr, got, ok)
		}
	}
	for e := int64(-5); e < 4200; e++ {
		if got, ok := ErrnoNumber(ErrnoName(e)); !ok || got != e {
			t.Fatalf("ErrnoNumber(ErrnoName(%d)) = %d, %v", e, got, ok)
		}
	}
}

func BenchmarkName(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = Name(int64(i % 470))
	}
}
