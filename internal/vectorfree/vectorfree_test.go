package vectorfree

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

const base = 0x1000

// image lays out functions at fixed offsets from base and reads like process memory.
type image []byte

func (m image) read(addr uint64, n int) ([]byte, error) {
	if addr < base || addr+uint64(n) > base+uint64(len(m)) {
		return nil, errors.New("unmapped")
	}
	return m[addr-base : addr-base+uint64(n)], nil
}

func (m image) code() []Range { return []Range{{base, base + uint64(len(m))}} }

// build places each piece at its offset (the rest is int3).
func build(size int, pieces map[int][]byte) image {
	m := make(image, size)
	for i := range m {
		m[i] = 0xcc
	}
	for off, b := range pieces {
		copy(m[off:], b)
	}
	return m
}

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

var (
	// What bench/hooks/pass.c compiles to: loads, syscall, ret.
	passHook = []byte{
		0x48, 0x89, 0xfa, // mov %rdi,%rdx
		0x4c, 0x8b, 0x57, 0x20, // mov 0x20(%rdi),%r10
		0x48, 0x8b, 0x07, // mov (%rdi),%rax
		0x48, 0x8b, 0x7f, 0x08, // mov 0x8(%rdi),%rdi
		0x0f, 0x05, // syscall
		0xc3, // ret
	}
	ret      = []byte{0xc3}
	movaps   = []byte{0x0f, 0x29, 0x04, 0x24, 0xc3}             // movaps %xmm0,(%rsp); ret
	vzero    = []byte{0xc5, 0xf8, 0x77, 0xc3}                   // vzeroupper; ret
	fld1     = []byte{0xd9, 0xe8, 0xc3}                         // fld1; ret
	callRax  = []byte{0xff, 0xd0, 0xc3}                         // call *%rax; ret
	endbrRet = []byte{0xf3, 0x0f, 0x1e, 0xfa, 0x31, 0xc0, 0xc3} // endbr64; xor %eax,%eax; ret
)

func TestProve(t *testing.T) {
	cases := []struct {
		name    string
		img     image
		want    bool
		whyPart string
	}{
		{"pass-through hook", build(64, map[int][]byte{0: passHook}), true, ""},
		{"endbr64", build(64, map[int][]byte{0: endbrRet}), true, ""},
		{"sse store", build(64, map[int][]byte{0: movaps}), false, "X0"},
		{"vzeroupper on one side of a branch", build(64, map[int][]byte{
			0: {0x48, 0x85, 0xff, 0x74, 0x01, 0xc3}, // test %rdi,%rdi; je +1; ret
			6: vzero,
		}), false, "vzeroupper"},
		{"x87 in a callee", build(64, map[int][]byte{
			0:  {0xe8, 0x0b, 0x00, 0x00, 0x00, 0xc3}, // call +11 (to 16); ret
			16: fld1,
		}), false, "fld1"},
		{"vector code after a call returns", build(64, map[int][]byte{
			0:  {0xe8, 0x0b, 0x00, 0x00, 0x00}, // call 16
			5:  movaps,
			16: ret,
		}), false, "X0"},
		{"indirect call", build(64, map[int][]byte{0: callRax}), false, "indirect call"},
		{"loop", build(64, map[int][]byte{
			0: {0xff, 0xcf, 0x75, 0xfc, 0xc3}, // dec %edi; jne 0; ret
		}), true, ""},
		{"PLT through a GOT slot to vector-free code", build(80, map[int][]byte{
			0:  {0xff, 0x25, 0x1a, 0x00, 0x00, 0x00}, // jmp *0x1a(%rip) -> slot at 32
			32: le64(base + 48),
			48: passHook,
		}), true, ""},
		{"PLT through a GOT slot to vector code", build(64, map[int][]byte{
			0:  {0xff, 0x25, 0x1a, 0x00, 0x00, 0x00},
			32: le64(base + 48),
			48: movaps,
		}), false, "X0"},
		{"GOT slot pointing outside the code", build(64, map[int][]byte{
			0:  {0xff, 0x25, 0x1a, 0x00, 0x00, 0x00},
			32: le64(0x7fff0000),
		}), false, "outside"},
		{"running off the end of the code", build(4, map[int][]byte{0: {0x90, 0x90, 0x90, 0x90}}), false, "outside"},
		{"undecodable bytes", build(16, map[int][]byte{0: {0x0f, 0x0b + 0x30}}), false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, why := Prove(c.img.read, c.img.code(), base)
			if got != c.want || !strings.Contains(why, c.whyPart) {
				t.Fatalf("Prove = %v (%q), want %v (reason containing %q)", got, why, c.want, c.whyPart)
			}
		})
	}
}
