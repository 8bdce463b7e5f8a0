package systab

import (
	"errors"
	"testing"
)

func TestParseSyscallsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want error
		line int
	}{
		{"empty", "", ErrEmpty, 0},
		{"comments only", "# x\n\n", ErrEmpty, 0},
		{"two fields", "0\tread\n", ErrSyntax, 1},
		{"four fields", "0\tread\t3\tx\n", ErrSyntax, 1},
		{"spaces", "0 read 3\n", ErrSyntax, 1},
		{"bad number", "x\tread\t3\n", ErrSyntax, 1},
		{"leading zero", "01\tread\t3\n", ErrSyntax, 1},
		{"negative", "-1\tread\t3\n", ErrSyntax, 1},
		{"too large", "1024\tread\t3\n", ErrRange, 1},
		{"huge", "99999999999999999999\tread\t3\n", ErrRange, 1},
		{"seven args", "0\tread\t7\n", ErrRange, 1},
		{"bad name", "0\tRead\t3\n", ErrSyntax, 1},
		{"empty name", "0\t\t3\n", ErrSyntax, 1},
		{"digit first", "0\t1read\t3\n", ErrSyntax, 1},
		{"fallback name", "0\tsyscall_0\t3\n", ErrSyntax, 1},
		{"crlf", "0\tread\t3\r\n", ErrSyntax, 1},
		{"unsorted", "# c\n1\twrite\t3\n0\tread\t3\n", ErrOrder, 3},
		{"duplicate nr", "0\tread\t3\n0\twrite\t3\n", ErrOrder, 2},
		{"duplicate name", "0\tread\t3\n1\tread\t3\n", ErrDuplicate, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSyscalls([]byte(tc.in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line != tc.line {
				t.Fatalf("err = %#v, want *ParseError at line %d", err, tc.line)
			}
		})
	}
	got, err := ParseSyscalls([]byte("# c\n\n0\tread\t3\n2\topen\t3"))
	if err != nil || len(got) != 2 || got[1] != (Syscall{2, "open", 3}) {
		t.Fatalf("ParseSyscalls = %v, %v", got, err)
	}
}

func TestParseErrnosErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrEmpty},
		{"zero", "0\tEZERO\n", ErrRange},
		{"too large", "4096\tEBIG\n", ErrRange},
		{"lower case", "1\teperm\n", ErrSyntax},
		{"no E", "1\tPERM\n", ErrSyntax},
		{"just E", "1\tE\n", ErrSyntax},
		{"three fields", "1\tEPERM\t1\n", ErrSyntax},
		{"unsorted", "2\tENOENT\n1\tEPERM\n", ErrOrder},
		{"duplicate", "1\tEPERM\n2\tEPERM\n", ErrDuplicate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseErrnos([]byte(tc.in)); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func FuzzParseSyscalls(f *testing.F) {
	f.Add(syscallsTSV)
	f.Add([]byte("0\tread\t3\n1\twrite\t3\n"))
	f.Add([]byte("0\tread\t3\n0\tread\t3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ParseSyscalls(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			return
		}
		seen := map[string]bool{}
		for i, r := range rows {
			if r.Nr < 0 || r.Nr > MaxSyscallNr || r.Args < 0 || r.Args > MaxArgs || seen[r.Name] || !isSyscallName(r.Name) {
				t.Fatalf("invalid row accepted: %+v", r)
			}
			if i > 0 && r.Nr <= rows[i-1].Nr {
				t.Fatalf("unsorted rows accepted")
			}
			seen[r.Name] = true
		}
	})
}

func FuzzParseErrnos(f *testing.F) {
	f.Add(errnosTSV)
	f.Add([]byte("1\tEPERM\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ParseErrnos(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			return
		}
		for i, r := range rows {
			if r.Nr < 1 || r.Nr > MaxErrnoNr || !isErrnoName(r.Name) || i > 0 && r.Nr <= rows[i-1].Nr {
				t.Fatalf("invalid row accepted: %+v", r)
			}
		}
	})
}
