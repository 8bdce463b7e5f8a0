package procmaps

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ErrSyntax is matched (with errors.Is) by every error that reports a
// malformed line. The concrete error is a *SyntaxError.
var ErrSyntax = errors.New("malformed maps line")

// Mapping is one line of /proc/<pid>/maps: a contiguous range of virtual
// memory with uniform permissions and backing.
type Mapping struct {
	Start, End uint64 // the half-open address range [Start, End)
	Read       bool   // 'r': readable
	Write      bool   // 'w': writable
	Exec       bool   // 'x': executable
	Private    bool   // 'p': private copy-on-write; false for 's' (shared)
	Offset     uint64 // offset of Start in the backing file (0 for anonymous memory)
	DevMajor   uint32 // major device number of the backing file
	DevMinor   uint32 // minor device number of the backing file
	Inode      uint64 // inode of the backing file, 0 for anonymous memory
	// Path is the backing file or a pseudo-name such as "[vdso]", "[heap]"
	// or "[anon:name]", verbatim: it may be empty, contain spaces or end in
	// " (deleted)".
	Path string
}

// Size returns the length of the mapping in bytes.
func (m Mapping) Size() uint64 { return m.End - m.Start }

// Contains reports whether addr lies in [m.Start, m.End).
func (m Mapping) Contains(addr uint64) bool { return m.Start <= addr && addr < m.End }

// Perms returns the permission column as the kernel prints it, e.g. "r-xp".
func (m Mapping) Perms() string {
	b := []byte("---s")
	if m.Read {
		b[0] = 'r'
	}
	if m.Write {
		b[1] = 'w'
	}
	if m.Exec {
		b[2] = 'x'
	}
	if m.Private {
		b[3] = 'p'
	}
	return string(b)
}

// String formats m as a line of /proc/<pid>/maps (without the kernel's
// column padding and without a trailing newline). ParseLine(m.String())
// returns m.
func (m Mapping) String() string {
	s := fmt.Sprintf("%08x-%08x %s %08x %02x:%02x %d", m.Start, m.End, m.Perms(), m.Offset, m.DevMajor, m.DevMinor, m.Inode)
	if m.Path != "" {
		s += " " + m.Path
	}
	return s
}

// SyntaxError describes a malformed line. It matches ErrSyntax.
type SyntaxError struct {
	Line  int    // 1-based line number; 0 when the line was parsed alone by ParseLine
	Field string // the column that was wrong, e.g. "address range"
	Text  string // the offending text
	Msg   string // what was wrong with it
}

// Error implements error.
func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("procmaps: line %d: %s %q: %s", e.Line, e.Field, e.Text, e.Msg)
	}
	return fmt.Sprintf("procmaps: %s %q: %s", e.Field, e.Text, e.Msg)
}

// Unwrap returns ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Parse reads a whole maps file and returns its mappings in order. Empty
// lines are ignored. On the first malformed line it returns the mappings
// parsed so far and a *SyntaxError (matching ErrSyntax) carrying the line
// number; read errors from r are returned wrapped.
func Parse(r io.Reader) ([]Mapping, error) {
	br := bufio.NewReader(r)
	var out []Mapping
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return out, fmt.Errorf("read maps line %d: %w", n, err)
		}
		if len(line) > 0 {
			line = strings.TrimSuffix(line, "\n")
			if line != "" {
				m, perr := ParseLine(line)
				if perr != nil {
					var se *SyntaxError
					if errors.As(perr, &se) {
						se.Line = n
					}
					return out, perr
				}
				out = append(out, m)
			}
		}
		if err == io.EOF {
			return out, nil
		}
	}
}

// ParseLine parses one line of a maps file (without its newline). Errors
// are *SyntaxError values matching ErrSyntax, with Line 0.
func ParseLine(line string) (Mapping, error) {
	var m Mapping
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		return m, &SyntaxError{Field: "line", Text: line, Msg: fmt.Sprintf("newline at position %d", i+1)}
	}
	rest := line
	field := func(name string) (string, error) {
		tok, r, ok := strings.Cut(strings.TrimLeft(rest, " "), " ")
		if tok == "" {
			return "", &SyntaxError{Field: name, Text: line, Msg: "missing"}
		}
		if ok {
			rest = r
		} else {
			rest = ""
		}
		return tok, nil
	}

	// start-end
	tok, err := field("address range")
	if err != nil {
		return m, err
	}
	lo, hi, ok := strings.Cut(tok, "-")
	if !ok {
		return m, &SyntaxError{Field: "address range", Text: tok, Msg: "no '-'"}
	}
	if m.Start, err = parseHex(lo, 64); err != nil {
		return m, &SyntaxError{Field: "start address", Text: lo, Msg: err.Error()}
	}
	if m.End, err = parseHex(hi, 64); err != nil {
		return m, &SyntaxError{Field: "end address", Text: hi, Msg: err.Error()}
	}
	if m.End < m.Start {
		return m, &SyntaxError{Field: "address range", Text: tok, Msg: "end before start"}
	}

	// perms
	if tok, err = field("permissions"); err != nil {
		return m, err
	}
	if len(tok) != 4 {
		return m, &SyntaxError{Field: "permissions", Text: tok, Msg: "want 4 characters"}
	}
	flags := [...]struct {
		set  byte
		dst  *bool
		none byte
	}{{'r', &m.Read, '-'}, {'w', &m.Write, '-'}, {'x', &m.Exec, '-'}, {'p', &m.Private, 's'}}
	for i, f := range flags {
		switch tok[i] {
		case f.set:
			*f.dst = true
		case f.none:
		default:
			return m, &SyntaxError{Field: "permissions", Text: tok, Msg: fmt.Sprintf("unexpected %q at position %d", tok[i], i+1)}
		}
	}

	// offset
	if tok, err = field("offset"); err != nil {
		return m, err
	}
	if m.Offset, err = parseHex(tok, 64); err != nil {
		return m, &SyntaxError{Field: "offset", Text: tok, Msg: err.Error()}
	}

	// major:minor
	if tok, err = field("device"); err != nil {
		return m, err
	}
	maj, min, ok := strings.Cut(tok, ":")
	if !ok {
		return m, &SyntaxError{Field: "device", Text: tok, Msg: "no ':'"}
	}
	v, err := parseHex(maj, 32)
	if err != nil {
		return m, &SyntaxError{Field: "device major", Text: maj, Msg: err.Error()}
	}
	m.DevMajor = uint32(v)
	if v, err = parseHex(min, 32); err != nil {
		return m, &SyntaxError{Field: "device minor", Text: min, Msg: err.Error()}
	}
	m.DevMinor = uint32(v)

	// inode
	if tok, err = field("inode"); err != nil {
		return m, err
	}
	if m.Inode, err = strconv.ParseUint(tok, 10, 64); err != nil {
		return m, &SyntaxError{Field: "inode", Text: tok, Msg: numErr(err)}
	}

	// The path is everything after the padding; it is kept verbatim.
	m.Path = strings.TrimLeft(rest, " ")
	return m, nil
}

// parseHex parses a non-empty, unsigned, unprefixed hexadecimal number.
func parseHex(s string, bits int) (uint64, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return 0, fmt.Errorf("not hexadecimal (%q at position %d)", c, i+1)
		}
	}
	v, err := strconv.ParseUint(s, 16, bits)
	if err != nil {
		return 0, errors.New(numErr(err))
	}
	return v, nil
}

// numErr turns a strconv error into a short reason.
func numErr(err error) string {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err.Error()
	}
	return err.Error()
}

// Self returns the mappings of the calling process, read from
// /proc/self/maps.
func Self() ([]Mapping, error) {
	// syscall.Open and os.NewFile rather than os.Open: os.Open would start the Go
	// runtime's network poller, whose descriptors the loader must not leave behind in
	// the program it runs in.
	fd, err := syscall.Open("/proc/self/maps", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open maps: %w", err)
	}
	f := os.NewFile(uintptr(fd), "/proc/self/maps")
	defer f.Close()
	ms, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("parse /proc/self/maps: %w", err)
	}
	return ms, nil
}
