package procmaps

import (
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Mapping
	}{
		{
			name: "file text",
			line: "7f0a00200000-7f0a00375000 r-xp 00026000 fe:00 131293                     /usr/lib/x86_64-linux-gnu/libc.so.6",
			want: Mapping{Start: 0x7f0a00200000, End: 0x7f0a00375000, Read: true, Exec: true, Private: true,
				Offset: 0x26000, DevMajor: 0xfe, Inode: 131293, Path: "/usr/lib/x86_64-linux-gnu/libc.so.6"},
		},
		{
			name: "anonymous with trailing space",
			line: "7f0a003c1000-7f0a003c3000 rw-p 00000000 00:00 0 ",
			want: Mapping{Start: 0x7f0a003c1000, End: 0x7f0a003c3000, Read: true, Write: true, Private: true},
		},
		{
			name: "anonymous without trailing space",
			line: "7f0a003c1000-7f0a003c3000 rw-p 00000000 00:00 0",
			want: Mapping{Start: 0x7f0a003c1000, End: 0x7f0a003c3000, Read: true, Write: true, Private: true},
		},
		{
			name: "vdso",
			line: "7ffc2b3f6000-7ffc2b3f8000 r-xp 00000000 00:00 0                          [vdso]",
			want: Mapping{Start: 0x7ffc2b3f6000, End: 0x7ffc2b3f8000, Read: true, Exec: true, Private: true, Path: "[vdso]"},
		},
		{
			name: "shared, spaces and deleted",
			line: "7f0000000000-7f0000001000 rw-s 00001000 08:1f 42   /tmp/my file  name.so (deleted)",
			want: Mapping{Start: 0x7f0000000000, End: 0x7f0000001000, Read: true, Write: true,
				Offset: 0x1000, DevMajor: 8, DevMinor: 0x1f, Inode: 42, Path: "/tmp/my file  name.so (deleted)"},
		},
		{
			name: "vsyscall, upper bound of the address space",
			line: "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
			want: Mapping{Start: 0xffffffffff600000, End: 0xffffffffff601000, Exec: true, Private: true, Path: "[vsyscall]"},
		},
		{
			name: "named anonymous memory with spaces",
			line: "7f0a00000000-7f0a00001000 ---p 00000000 00:00 0    [anon:go heap arena]",
			want: Mapping{Start: 0x7f0a00000000, End: 0x7f0a00001000, Private: true, Path: "[anon:go heap arena]"},
		},
		{
			name: "large device numbers and inode",
			line: "00400000-00401000 r--p 00000000 103:0a 18446744073709551615 /bin/x",
			want: Mapping{Start: 0x400000, End: 0x401000, Read: true, Private: true, DevMajor: 0x103, DevMinor: 0xa,
				Inode: 1<<64 - 1, Path: "/bin/x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLine(tt.line)
			if err != nil {
				t.Fatalf("ParseLine(%q): %v", tt.line, err)
			}
			if got != tt.want {
				t.Fatalf("ParseLine(%q)\n got %+v\nwant %+v", tt.line, got, tt.want)
			}
			// String must round-trip.
			again, err := ParseLine(got.String())
			if err != nil || again != got {
				t.Fatalf("round trip of %q via %q: %+v, %v", tt.line, got.String(), again, err)
			}
		})
	}
}

func TestParseLineErrors(t *testing.T) {
	tests := []struct {
		line  string
		field string
	}{
		{"", "address range"},
		{"   ", "address range"},
		{"7f00", "address range"},
		{"7f00-", "end address"},
		{"-7f00", "start address"},
		{"0x10-20 r-xp 0 00:00 0", "start address"},
		{"zz-20 r-xp 0 00:00 0", "start address"},
		{"10-2g r-xp 0 00:00 0", "end address"},
		{"20-10 r-xp 0 00:00 0", "address range"},
		{"10000000000000000-10000000000000001 r-xp 0 00:00 0", "start address"},
		{"10-20", "permissions"},
		{"10-20 r-x 0 00:00 0", "permissions"},
		{"10-20 r-xpp 0 00:00 0", "permissions"},
		{"10-20 x-rp 0 00:00 0", "permissions"},
		{"10-20 r-xq 0 00:00 0", "permissions"},
		{"10-20 r-xp", "offset"},
		{"10-20 r-xp -1 00:00 0", "offset"},
		{"10-20 r-xp 0", "device"},
		{"10-20 r-xp 0 0000 0", "device"},
		{"10-20 r-xp 0 :00 0", "device major"},
		{"10-20 r-xp 0 00: 0", "device minor"},
		{"10-20 r-xp 0 100000000:00 0", "device major"},
		{"10-20 r-xp 0 00:00", "inode"},
		{"10-20 r-xp 0 00:00 x /bin/ls", "inode"},
		{"10-20 r-xp 0 00:00 -1", "inode"},
		{"10-20 r-xp 0 00:00 1 /a\nb", "line"},
	}
	for _, tt := range tests {
		_, err := ParseLine(tt.line)
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseLine(%q) = %v, want ErrSyntax", tt.line, err)
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) || se.Field != tt.field {
			t.Errorf("ParseLine(%q): error %q names field %q, want %q", tt.line, err, se.Field, tt.field)
		}
	}
}

func TestParse(t *testing.T) {
	const text = "00400000-00401000 r--p 00000000 fe:00 1 /bin/a\n" +
		"\n" +
		"00401000-00402000 r-xp 00001000 fe:00 1 /bin/a\n" +
		"7ffc2b3f6000-7ffc2b3f8000 r-xp 00000000 00:00 0                          [vdso]" // no final newline
	ms, err := Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 || ms[1].Offset != 0x1000 || ms[2].Path != "[vdso]" {
		t.Fatalf("Parse = %+v", ms)
	}

	// The line number of a bad line is reported.
	bad := "00400000-00401000 r--p 00000000 fe:00 1 /bin/a\n00401000-00402000 r-xp nothex fe:00 1 /bin/a\n"
	ms, err = Parse(strings.NewReader(bad))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 2 || se.Field != "offset" || !errors.Is(err, ErrSyntax) {
		t.Fatalf("Parse(bad) = %v, want a SyntaxError on line 2 naming the offset", err)
	}
	if !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error %q does not name the line", err)
	}
	if len(ms) != 1 {
		t.Errorf("Parse(bad) returned %d mappings before the error, want 1", len(ms))
	}

	// Read errors are passed through, wrapped.
	_, err = Parse(iotest.TimeoutReader(iotest.OneByteReader(strings.NewReader(text))))
	if !errors.Is(err, iotest.ErrTimeout) || errors.Is(err, ErrSyntax) {
		t.Fatalf("Parse(failing reader) = %v, want ErrTimeout", err)
	}

	// A path longer than bufio's default buffer.
	long := "10-20 r-xp 0 00:00 1 /" + strings.Repeat("x", 10000)
	ms, err = Parse(strings.NewReader(long + "\n"))
	if err != nil || len(ms) != 1 || len(ms[0].Path) != 10001 {
		t.Fatalf("long path: %v %d", err, len(ms))
	}
}

func TestSelf(t *testing.T) {
	ms, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	// The mapping holding this function's code is executable and backed by the test binary.
	pc := uint64(reflect.ValueOf(TestSelf).Pointer())
	data := uint64(reflect.ValueOf(&err).Pointer()) // heap or goroutine stack: some rw- mapping
	exe, _ := os.Executable()
	var sawText, sawData, sawVDSO bool
	for i, m := range ms {
		if i > 0 && m.Start < ms[i-1].End {
			t.Errorf("mappings out of order or overlapping: %v after %v", m, ms[i-1])
		}
		if m.Contains(pc) {
			sawText = true
			if !m.Exec || !m.Read || m.Path != exe {
				t.Errorf("text mapping %v: want r-x backed by %s", m, exe)
			}
		}
		if m.Contains(data) {
			sawData = m.Read && m.Write
		}
		if m.Path == "[vdso]" {
			sawVDSO = m.Exec
		}
	}
	if !sawText || !sawData || !sawVDSO {
		t.Fatalf("text %v, data %v, vdso %v in %d mappings", sawText, sawData, sawVDSO, len(ms))
	}
}

func TestParseRealFile(t *testing.T) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	raw, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := Parse(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), "\n"); n != len(ms) {
		t.Fatalf("%d lines, %d mappings", n, len(ms))
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"7f0a00200000-7f0a00375000 r-xp 00026000 fe:00 131293                     /usr/lib/x86_64-linux-gnu/libc.so.6",
		"7f0a003c1000-7f0a003c3000 rw-p 00000000 00:00 0 ",
		"7ffc2b3f6000-7ffc2b3f8000 r-xp 00000000 00:00 0                          [vdso]",
		"7f0000000000-7f0000001000 rw-s 00001000 08:1f 42   /tmp/a b (deleted)",
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
		"10-20 r-xp 0 00:00",
		"-",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m, err := ParseLine(line)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("ParseLine(%q): error %v does not match ErrSyntax", line, err)
			}
			return
		}
		if m.End < m.Start {
			t.Fatalf("ParseLine(%q) accepted end < start: %+v", line, m)
		}
		// Whatever was accepted must survive a round trip, except for a
		// path the line format cannot carry (leading spaces are padding).
		if strings.HasPrefix(m.Path, " ") || strings.Contains(m.Path, "\n") {
			t.Fatalf("ParseLine(%q): path %q", line, m.Path)
		}
		again, err := ParseLine(m.String())
		if err != nil || again != m {
			t.Fatalf("round trip %q -> %q: %+v, %v", line, m.String(), again, err)
		}
		if _, err := Parse(strings.NewReader(line)); err != nil && !errors.Is(err, ErrSyntax) {
			t.Fatalf("Parse(%q): %v", line, err)
		}
	})
}
