package decode_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/zpoline-go/zpoline/decode"
)

// callFrom builds a Call from fuzz input: the memory is cut into pieces that become the
// entry and exit copies of the arguments sel selects.
func callFrom(nr int64, args [6]uint64, ret int64, done bool, mem []byte, sel uint32) decode.Call {
	c := decode.Call{Nr: nr, Args: args, Ret: ret, Done: done}
	c.In = map[int][]byte{}
	c.Out = map[int][]byte{}
	for i := 0; i < 6; i++ {
		for _, m := range []map[int][]byte{c.In, c.Out} {
			if sel&1 == 1 && len(mem) > 0 {
				n := int(sel>>1&0xff) % (len(mem) + 1)
				m[i] = mem[:n]
				mem = mem[n:]
			}
			sel = sel>>3 | sel<<29
		}
	}
	return c
}

func checkFormat(t *testing.T, c decode.Call, o decode.Options) {
	t.Helper()
	s := decode.Format(c, o)
	name := decode.Name(c.Nr)
	if !strings.HasPrefix(s, name+"(") || !strings.Contains(s, ") = ") {
		t.Fatalf("malformed line %q", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			t.Fatalf("non-printable byte %#x in %q", s[i], s)
		}
	}
	for i := 0; i < 7; i++ {
		decode.FormatArg(c, i, o)
	}
	decode.Bytes(c, 1)
	decode.Path(c, 0)
	decode.Timespec(c, 2)
	decode.StatMode(c, 1)
}

func FuzzFormat(f *testing.F) {
	f.Add(int64(257), uint64(0xffffffffffffff9c), uint64(0x1000), uint64(0x80000), uint64(0), uint64(0), uint64(0), int64(3), true, []byte("/etc/passwd\x00"), uint32(0x1d), 0)
	f.Add(int64(0), uint64(3), uint64(0x1000), uint64(832), uint64(0), uint64(0), uint64(0), int64(832), true, []byte("\x7fELF\x02\x01"), uint32(0x3f), 5)
	f.Add(int64(7), uint64(0x1000), uint64(3), uint64(0), uint64(0), uint64(0), uint64(0), int64(2), true, make([]byte, 40), uint32(0xffffffff), 0)
	f.Add(int64(59), uint64(0x1000), uint64(0x2000), uint64(0x3000), uint64(0), uint64(0), uint64(0), int64(-2), true, []byte("\x03\x00\x00\x00\x02\x00\x00\x00a\x00"), uint32(0x7ffff), 0)
	f.Add(int64(20), uint64(1), uint64(0x1000), uint64(1<<40), uint64(0), uint64(0), uint64(0), int64(5), true, make([]byte, 64), uint32(0x12345), 1)
	f.Add(int64(202), uint64(0x1000), uint64(0x189), uint64(5), uint64(0x1000), uint64(0), uint64(0xffffffff), int64(-11), true, make([]byte, 16), uint32(0xfff), 0)
	f.Add(int64(56), uint64(0x3d0f00), uint64(0), uint64(0x10), uint64(0x10), uint64(0x20), uint64(0), int64(5), true, []byte{1, 2, 3, 4}, uint32(0xff), 0)
	f.Add(int64(600), uint64(1), uint64(2), uint64(3), uint64(4), uint64(5), uint64(6), int64(-38), false, []byte{}, uint32(0), 0)
	f.Fuzz(func(t *testing.T, nr int64, a0, a1, a2, a3, a4, a5 uint64, ret int64, done bool, mem []byte, sel uint32, size int) {
		c := callFrom(nr, [6]uint64{a0, a1, a2, a3, a4, a5}, ret, done, mem, sel)
		checkFormat(t, c, decode.Options{StrSize: size % 100})
		checkFormat(t, c, decode.Options{Raw: true})
		// Captures must ask for bounded copies.
		for _, p := range []decode.Phase{decode.Entry, decode.Exit} {
			for _, cp := range decode.Captures(&c, p) {
				if cp.Size > 1<<20 || cp.Count > 1<<16 || cp.Arg < 0 || cp.Arg > 5 {
					t.Fatalf("unbounded capture %+v", cp)
				}
			}
		}
	})
}

// TestFormatNeverPanics formats every known number (and some unknown ones) with random
// registers and random memory copies.
func TestFormatNeverPanics(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	interesting := []uint64{0, 1, 2, 3, 4, 0xff, 0x1000, 0xffffffff, 0xffffffffffffffff, 0xffffffffffffff9c, 1 << 31, 1 << 63, 4096, 32768}
	val := func() uint64 {
		if r.IntN(2) == 0 {
			return interesting[r.IntN(len(interesting))]
		}
		return r.Uint64() >> r.IntN(64)
	}
	for nr := int64(-2); nr < 600; nr++ {
		for k := 0; k < 60; k++ {
			var args [6]uint64
			for i := range args {
				args[i] = val()
			}
			mem := make([]byte, r.IntN(600))
			for i := range mem {
				mem[i] = byte(r.Uint32())
			}
			ret := int64(val())
			if r.IntN(3) == 0 {
				ret = -int64(r.IntN(4200))
			}
			c := callFrom(nr, args, ret, r.IntN(5) != 0, mem, r.Uint32())
			checkFormat(t, c, decode.Options{StrSize: r.IntN(40)})
			var fake decode.MemReader = func(addr uint64, buf []byte) int {
				if addr%7 == 0 {
					return 0
				}
				return copy(buf, mem)
			}
			c2 := decode.Call{Nr: nr, Args: args, Ret: ret, Done: true}
			decode.Collect(&c2, decode.Entry, fake, 64)
			decode.Collect(&c2, decode.Exit, fake, 64)
			checkFormat(t, c2, decode.Options{})
		}
	}
}
