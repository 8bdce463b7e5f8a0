package decode

import (
	"encoding/binary"
)

// Typed accessors for the hook SDK: they read one argument of a Call the way its
// kind says, without formatting. Each reports false when the argument is not of a
// suitable kind or its memory was not copied.

// Int returns argument i as a C int (the low 32 bits, sign-extended): fds, pids,
// signal numbers, flags of int type.
func Int(c Call, i int) int64 {
	if i < 0 || i >= 6 {
		return 0
	}
	return int64(int32(c.Args[i]))
}

// Fd returns argument i as a file descriptor. AT_FDCWD is -100.
func Fd(c Call, i int) int { return int(Int(c, i)) }

// Path returns the NUL-terminated string argument i points to (a path, or another
// string such as a memfd name), from the entry copy. ok is false when there is no
// copy, the pointer is NULL, or the copy ended before the NUL (the string was longer
// than the recorder copied).
func Path(c Call, i int) (string, bool) {
	if i < 0 || i >= 6 || c.Args[i] == 0 {
		return "", false
	}
	m, ok := c.In[i]
	if !ok {
		return "", false
	}
	s, complete := cstring(m)
	return string(s), complete
}

// Bytes returns the data buffer of argument i: for a buffer the program passes (write,
// sendto) the entry copy, cut to the length argument; for a buffer the kernel fills
// (read, recvfrom) the exit copy, cut to the result. ok is false for other kinds or
// when there is no copy; a copy the recorder shortened is returned as it is (compare
// its length with the length argument or the result).
func Bytes(c Call, i int) ([]byte, bool) {
	s := lookupSig(c.Nr)
	if s == nil || s.fn != nil || i < 0 || i >= len(s.args) || i >= 6 {
		return nil, false
	}
	a := s.args[i]
	switch a.kind {
	case KindBufIn, KindSockOptVal:
		if a.dir&dirIn == 0 {
			break
		}
		m, ok := c.In[i]
		if !ok {
			return nil, false
		}
		if n := c.Args[a.n]; uint64(len(m)) > n {
			m = m[:n]
		}
		return m, true
	case KindBufOut, KindRandomOut:
		if !c.ok() {
			return nil, false
		}
		m, ok := c.Out[i]
		if !ok {
			return nil, false
		}
		if c.Ret >= 0 && int64(len(m)) > c.Ret {
			m = m[:c.Ret]
		}
		return m, true
	}
	return nil, false
}

// Timespec returns the struct timespec argument i points to (nanosleep's request,
// clock_gettime's result), from the copy its direction says.
func Timespec(c Call, i int) (sec, nsec int64, ok bool) {
	m, ok := structCopy(c, i, KindTimespec)
	if !ok || len(m) < sizeTimespec {
		return 0, 0, false
	}
	return int64(binary.LittleEndian.Uint64(m)), int64(binary.LittleEndian.Uint64(m[8:])), true
}

// StatMode returns st_mode and st_size of the struct stat argument i points to.
func StatMode(c Call, i int) (mode uint32, size int64, ok bool) {
	m, ok := structCopy(c, i, KindStat)
	if !ok || len(m) < sizeStat {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint32(m[24:]), int64(binary.LittleEndian.Uint64(m[48:])), true
}

// structCopy returns the copy of argument i if its kind is k.
func structCopy(c Call, i int, k Kind) ([]byte, bool) {
	s := lookupSig(c.Nr)
	if s == nil || s.fn != nil || i < 0 || i >= len(s.args) || i >= 6 || s.args[i].kind != k {
		return nil, false
	}
	p := printer{c: &c}
	return p.mem(i, s.args[i])
}

// FormatArg returns argument i of c as Format prints it ("O_RDONLY|O_CLOEXEC",
// "\"/etc/passwd\"", "{st_mode=S_IFREG|0644, st_size=3, ...}"), or "" when the call
// does not print an argument i (fcntl(fd, F_GETFL) has two).
func FormatArg(c Call, i int, o Options) string {
	s := lookupSig(c.Nr)
	if i < 0 || i >= 6 {
		return ""
	}
	if o.Raw || s == nil || s.fn != nil {
		if i >= ArgCount(c.Nr) {
			return ""
		}
		if s != nil && s.fn != nil && !o.Raw {
			return specialArg(c, i, o)
		}
		return Flags(KindHex, c.Args[i])
	}
	if i >= len(s.args) {
		return ""
	}
	p := printer{c: &c, o: o, max: o.strSize()}
	p.arg(i, s.args[i])
	return p.b.String()
}

// specialArg formats argument i of a call with a whole-call formatter by formatting
// all of them and picking the i-th: the arguments of these calls contain no ", "
// except inside braces or brackets.
func specialArg(c Call, i int, o Options) string {
	call := FormatCall(c, o)
	open := len(Name(c.Nr)) + 1
	if open > len(call)-1 {
		return ""
	}
	args := splitArgs(call[open : len(call)-1])
	if i >= len(args) {
		return ""
	}
	return args[i]
}

// splitArgs splits an argument list at the commas that are not nested in braces,
// brackets, parentheses or quotes.
func splitArgs(s string) []string {
	var out []string
	depth, start := 0, 0
	inQuote := false
	for j := 0; j < len(s); j++ {
		switch ch := s[j]; {
		case inQuote:
			if ch == '\\' {
				j++
			} else if ch == '"' {
				inQuote = false
			}
		case ch == '"':
			inQuote = true
		case ch == '{' || ch == '[' || ch == '(':
			depth++
		case ch == '}' || ch == ']' || ch == ')':
			depth--
		case ch == ',' && depth == 0:
			out = append(out, s[start:j])
			start = j + 2
			j++
		}
	}
	if start <= len(s) && len(s) > 0 {
		out = append(out, s[start:])
	}
	return out
}
