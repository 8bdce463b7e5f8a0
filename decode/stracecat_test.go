package decode

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/zpoline-go/zpoline/internal/systab"
)

// TestStraceCat is the simple cross-check: strace a real program natively, rebuild a
// Call from each openat, read, write and close line (the arguments strace printed,
// buffers from its quoted text), and check that Format prints the line again.
// TestStraceCrossCheck is the thorough one.
func TestStraceCat(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed")
	}
	if _, err := os.Stat("/bin/cat"); err != nil {
		t.Skip("no /bin/cat")
	}
	out := filepath.Join(t.TempDir(), "trace.txt")
	cmd := exec.Command(strace, "-f", "-qq", "-e", "trace=openat,read,write,close", "-o", out, "/bin/cat", "/etc/hostname")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("strace: %v: %s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lineRe := regexp.MustCompile(`^\d+ +(\w+)\((.*)\) += (.*)$`)
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		m := lineRe.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("unparsed line %q", line)
			continue
		}
		c, ok := callFromStrace(t, m[1], splitArgs(m[2]), m[3])
		if !ok {
			t.Errorf("cannot rebuild %q", line)
			continue
		}
		want := m[1] + "(" + m[2] + ") = " + m[3]
		if got := Format(c, Options{}); got != want {
			t.Errorf("\n got  %s\n want %s", got, want)
		}
		n++
	}
	if n < 4 {
		t.Errorf("only %d lines checked", n)
	}
	t.Logf("%d lines of strace /bin/cat rebuilt and printed identically", n)
}

// callFromStrace rebuilds a Call from strace's text of it.
func callFromStrace(t *testing.T, name string, args []string, result string) (Call, bool) {
	nr, ok := systab.Number(name)
	if !ok {
		return Call{}, false
	}
	c := Call{Nr: nr, Done: true, In: map[int][]byte{}, Out: map[int][]byte{}}
	if res, _, _ := strings.Cut(result, " "); res == "-1" {
		e, _, _ := strings.Cut(strings.TrimPrefix(result, "-1 "), " ")
		v, ok := systab.ErrnoNumber(e)
		if !ok {
			return Call{}, false
		}
		c.Ret = -v
	} else {
		v, err := strconv.ParseInt(res, 0, 64)
		if err != nil {
			return Call{}, false
		}
		c.Ret = v
	}
	num := func(s string) uint64 {
		v, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			t.Errorf("number %q: %v", s, err)
		}
		return uint64(v)
	}
	switch name {
	case "openat":
		if args[0] == "AT_FDCWD" {
			c.Args[0] = 0xffffff9c // AT_FDCWD as a 32-bit int
		} else {
			c.Args[0] = num(args[0])
		}
		c.Args[1] = 0x1000
		c.In[1] = append(unquote(t, args[1]), 0)
		c.Args[2] = parseFlags(t, args[2], xOpenAccess, xOpenFlags)
		if len(args) > 3 {
			c.Args[3], _ = strconv.ParseUint(args[3], 8, 64)
		}
	case "read", "write":
		c.Args[0] = num(args[0])
		c.Args[1] = 0x1000
		c.Args[2] = num(args[2])
		buf := unquote(t, args[1])
		if name == "read" {
			c.Out[1] = buf
		} else {
			c.In[1] = buf
		}
	case "close":
		c.Args[0] = num(args[0])
	default:
		return Call{}, false
	}
	return c, true
}

// unquote reverses strace's quoting of a string argument ("..." with C escapes, maybe
// followed by "...").
func unquote(t *testing.T, s string) []byte {
	s = strings.TrimSuffix(s, "...")
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		t.Errorf("not a quoted string: %q", s)
		return nil
	}
	s = s[1 : len(s)-1]
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			out = append(out, s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'v':
			out = append(out, '\v')
		case 'f':
			out = append(out, '\f')
		case 'x':
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			out = append(out, byte(v))
			i += 2
		default:
			if c >= '0' && c <= '7' {
				j := i
				for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
					j++
				}
				v, _ := strconv.ParseUint(s[i:j], 8, 8)
				out = append(out, byte(v))
				i = j - 1
			} else {
				out = append(out, c)
			}
		}
	}
	return out
}

// parseFlags reverses xlat.flags for names joined by '|'.
func parseFlags(t *testing.T, s string, tabs ...*xlat) uint64 {
	var v uint64
	for _, name := range strings.Split(s, "|") {
		if n, err := strconv.ParseUint(name, 0, 64); err == nil {
			v |= n
			continue
		}
		found := false
		for _, tab := range tabs {
			for _, e := range tab.ents {
				if e.name == name {
					v |= e.v
					found = true
				}
			}
		}
		if !found {
			t.Errorf("unknown flag %q", name)
		}
	}
	return v
}
