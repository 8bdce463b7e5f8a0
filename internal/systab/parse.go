package systab

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// Limits the parsers enforce. They keep the dense tables built from a file small and
// catch typos such as a missing digit.
const (
	// MaxSyscallNr is the largest system call number a table may hold (the x86-64
	// table ends below 512, where the x32 numbers start).
	MaxSyscallNr = 1023
	// MaxErrnoNr is the largest errno value a table may hold (the kernel reserves
	// -4095..-1 for error results).
	MaxErrnoNr = 4095
)

// Errors returned (wrapped in a *ParseError) by ParseSyscalls and ParseErrnos.
var (
	// ErrSyntax: a line does not have the expected fields.
	ErrSyntax = errors.New("syntax error")
	// ErrRange: a number or argument count is outside its allowed range.
	ErrRange = errors.New("value out of range")
	// ErrOrder: numbers are not strictly increasing (this includes duplicate numbers).
	ErrOrder = errors.New("numbers not strictly increasing")
	// ErrDuplicate: a name appears twice.
	ErrDuplicate = errors.New("duplicate name")
	// ErrEmpty: the table has no rows.
	ErrEmpty = errors.New("empty table")
)

// ParseError reports where a table failed to parse. It matches the sentinel errors
// above through errors.Is.
type ParseError struct {
	Line   int   // 1-based line number (0 for ErrEmpty)
	Offset int   // byte offset of the start of the line
	Err    error // one of ErrSyntax, ErrRange, ErrOrder, ErrDuplicate, ErrEmpty
	Detail string
}

// Error formats the error with its line, offset and detail.
func (e *ParseError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("parse table: %v", e.Err)
	}
	return fmt.Sprintf("parse table: line %d (offset %d): %v: %s", e.Line, e.Offset, e.Err, e.Detail)
}

// Unwrap returns the sentinel error, for errors.Is.
func (e *ParseError) Unwrap() error { return e.Err }

// ParseSyscalls parses a system call table in the format of syscalls.tsv: one row per
// line, "number<TAB>name<TAB>argument count"; empty lines and lines starting with '#'
// are ignored. Numbers must be strictly increasing and 0..MaxSyscallNr, names unique
// identifiers ([a-z_][a-z0-9_]*) that do not start with "syscall_", argument counts
// 0..6. It never panics; errors are *ParseError.
func ParseSyscalls(data []byte) ([]Syscall, error) {
	var out []Syscall
	seen := map[string]bool{}
	err := eachRow(data, 3, func(line, off int, f [][]byte) error {
		nr, err := parseNum(f[0], 0, MaxSyscallNr)
		if err != nil {
			return &ParseError{line, off, err, fmt.Sprintf("number %q", f[0])}
		}
		name := string(f[1])
		if !isSyscallName(name) {
			return &ParseError{line, off, ErrSyntax, fmt.Sprintf("bad system call name %q", name)}
		}
		args, err := parseNum(f[2], 0, MaxArgs)
		if err != nil {
			return &ParseError{line, off, err, fmt.Sprintf("argument count %q", f[2])}
		}
		if len(out) > 0 && nr <= out[len(out)-1].Nr {
			return &ParseError{line, off, ErrOrder, fmt.Sprintf("%d after %d", nr, out[len(out)-1].Nr)}
		}
		if seen[name] {
			return &ParseError{line, off, ErrDuplicate, name}
		}
		seen[name] = true
		out = append(out, Syscall{Nr: nr, Name: name, Args: int(args)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, &ParseError{Err: ErrEmpty}
	}
	return out, nil
}

// ParseErrnos parses an errno table in the format of errnos.tsv: one row per line,
// "number<TAB>NAME"; empty lines and lines starting with '#' are ignored. Numbers must
// be strictly increasing and 1..MaxErrnoNr, names unique and of the form E[A-Z0-9]+.
// It never panics; errors are *ParseError.
func ParseErrnos(data []byte) ([]Errno, error) {
	var out []Errno
	seen := map[string]bool{}
	err := eachRow(data, 2, func(line, off int, f [][]byte) error {
		nr, err := parseNum(f[0], 1, MaxErrnoNr)
		if err != nil {
			return &ParseError{line, off, err, fmt.Sprintf("number %q", f[0])}
		}
		name := string(f[1])
		if !isErrnoName(name) {
			return &ParseError{line, off, ErrSyntax, fmt.Sprintf("bad errno name %q", name)}
		}
		if len(out) > 0 && nr <= out[len(out)-1].Nr {
			return &ParseError{line, off, ErrOrder, fmt.Sprintf("%d after %d", nr, out[len(out)-1].Nr)}
		}
		if seen[name] {
			return &ParseError{line, off, ErrDuplicate, name}
		}
		seen[name] = true
		out = append(out, Errno{Nr: nr, Name: name})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, &ParseError{Err: ErrEmpty}
	}
	return out, nil
}

// eachRow splits data into lines and calls fn with the tab-separated fields of every
// line that is not empty or a comment. A trailing '\r' is not accepted: the files are
// Unix text.
func eachRow(data []byte, nfields int, fn func(line, off int, fields [][]byte) error) error {
	off := 0
	for line := 1; off < len(data); line++ {
		start := off
		text := data[off:]
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			text = text[:i]
			off += i + 1
		} else {
			off = len(data)
		}
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		f := bytes.Split(text, []byte{'\t'})
		if len(f) != nfields {
			return &ParseError{line, start, ErrSyntax, fmt.Sprintf("%d fields, want %d", len(f), nfields)}
		}
		if err := fn(line, start, f); err != nil {
			return err
		}
	}
	return nil
}

// parseNum parses a canonical non-negative decimal number in [lo, hi].
func parseNum(b []byte, lo, hi int64) (int64, error) {
	if len(b) == 0 || len(b) > 1 && b[0] == '0' {
		return 0, ErrSyntax
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, ErrSyntax
		}
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, ErrRange
	}
	return n, nil
}

func isSyscallName(s string) bool {
	if s == "" || len(s) > 64 || len(s) >= len(SyscallPrefix) && s[:len(SyscallPrefix)] == SyscallPrefix {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isErrnoName(s string) bool {
	if len(s) < 2 || len(s) > 32 || s[0] != 'E' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
