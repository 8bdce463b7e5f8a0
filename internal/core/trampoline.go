package core

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The trampoline (zp_layout.h): `callq *%rax` lands at offset rax of page 0. Every
// offset 0..4096 must reach zp_entry_call without touching the stack, without changing
// rax and the argument registers, and quickly for the numbers the kernel knows.
//
// Page 0 is two chains of 2-byte forward jumps `eb d`. The displacement d is an even
// REX byte (0x40, 0x42, ..., 0x4e: REX without the B bit). Entering a pair on its
// displacement byte executes that byte as a REX prefix of the next pair's jump (or of a
// NOP in the tail, where REX without B keeps 0x90 a NOP), so entering at either byte
// continues along the chain. A jump advances up to 80 bytes: the fast chain
// [0, 0x200) reaches offset 0x200 in at most 7 jumps. Offset 0x200 holds `jmp rel32`
// whose four displacement bytes are prefixes (segment overrides, at most one REX last),
// so entering inside it is harmless too; it jumps about 1 GiB up, to the far page, the only place that holds a 64-bit
// address (movabs $zp_entry_call, %r11; jmp *%r11 — r11 is free, as after a syscall).
// The slow chain [0x205, 0xffb) serves numbers the kernel does not know and ends in a
// second `jmp rel32` at 0xffb; page 1 starts with a third at 0x1000.

const (
	pageSize  = 0x1000
	fastEnd   = 0x200 // ZP_FAST_END
	slowStart = fastEnd + 5
	slowEnd   = 0xffb  // ZP_SLOW_END
	page1Jmp  = 0x1000 // ZP_PAGE1_JMP
	lowSize   = 0x2000 // ZP_TRAMP_SIZE
)

// isRexNoB reports whether b is a REX prefix without the B bit: before `eb`, `e9` or
// 0x90 it changes nothing (with B, 0x90 would become xchg %r8,%rax).
func isRexNoB(b byte) bool { return b >= 0x40 && b <= 0x4e && b%2 == 0 }

// isSegment reports whether b is a segment-override prefix, ignored in 64-bit mode.
func isSegment(b byte) bool { return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e }

// harmlessRel32 reports whether the four bytes of a jmp rel32 displacement, entered
// at any of them, are only prefixes of the instruction that follows them: segment
// overrides, and a REX byte only last (a REX prefix must immediately precede the opcode).
func harmlessRel32(b [4]byte) bool {
	return isSegment(b[0]) && isSegment(b[1]) && isSegment(b[2]) && (isSegment(b[3]) || isRexNoB(b[3]))
}

// Trampoline is the machine code of the low region and of the far page.
type Trampoline struct {
	Low     []byte // lowSize bytes for address 0
	FarAddr uint64 // page-aligned, below 2 GiB
	Far     []byte // one page for FarAddr
	Fast    uint64 // far-page address the fast chain reaches
	Slow    uint64 // far-page address the slow chain and page 1 reach
}

// TrampolineDisplacements lists the displacements tried, in order, for the fast
// chain's jmp rel32 (each byte harmless, see harmlessRel32); each puts the far page at a
// different address between about 0.6 and 1.3 GiB, so a taken address can be avoided.
func TrampolineDisplacements() []uint32 {
	seg := []byte{0x3e, 0x36, 0x2e, 0x26}
	last := append([]byte{0x3e, 0x36, 0x2e, 0x26}, 0x40, 0x44, 0x48, 0x4c)
	var out []uint32
	for _, b3 := range last {
		for _, b2 := range seg {
			for _, b1 := range seg {
				for _, b0 := range seg {
					out = append(out, uint32(b0)|uint32(b1)<<8|uint32(b2)<<16|uint32(b3)<<24)
				}
			}
		}
	}
	return out
}

// transfer is movabs $entry, %r11; jmp *%r11.
func transfer(entry uint64) []byte {
	b := []byte{0x49, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0, 0x41, 0xff, 0xe3}
	binary.LittleEndian.PutUint64(b[2:], entry)
	return b
}

// chain fills code[start:end) (start and end of equal parity) with a jump chain ending at
// end, with a NOP tail where no jump fits.
func chain(code []byte, start, end int) {
	const nop = 0x90
	// cost[p-start]: cost to reach end from a pair at p (-1: none yet); NOPs cost a
	// quarter of a jump.
	cost := make([]float64, end-start+1)
	for i := range cost {
		cost[i] = -1
	}
	cost[end-start] = 0
	for p := end - 2; p >= start; p -= 2 {
		best, bestD := -1.0, -1
		for d := 0x4e; d >= 0x40; d -= 2 {
			t := p + 2 + d
			if t > end {
				continue
			}
			c := cost[t-start]
			if c < 0 {
				continue
			}
			if best < 0 || 1+c < best {
				best, bestD = 1+c, d
			}
		}
		if bestD < 0 {
			// tail: NOPs to end
			code[p], code[p+1] = nop, nop
			cost[p-start] = float64(end-p) / 4
			cost[p+1-start] = float64(end-p-1) / 4
			continue
		}
		code[p], code[p+1] = 0xeb, byte(bestD)
		cost[p-start] = best
	}
}

// BuildTrampoline lays out the trampoline for the fast chain's displacement d1 (one
// of TrampolineDisplacements) and the entry address entry.
func BuildTrampoline(d1 uint32, entry uint64) (Trampoline, error) {
	var b1 [4]byte
	binary.LittleEndian.PutUint32(b1[:], d1)
	if !harmlessRel32(b1) {
		return Trampoline{}, fmt.Errorf("trampoline: displacement %#x has a harmful byte", d1)
	}
	fast := uint64(fastEnd+5) + uint64(d1)
	far := fast &^ (pageSize - 1)
	off1 := fast - far
	// The slow chain's target: a far-page offset whose rel32 from 0x1000 has only
	// harmless prefix bytes and whose NOP run plus transfer fits beside the first.
	var d2 uint32
	var off2 uint64
	found := false
	for o := uint64(0); o+5+13 <= pageSize; o++ {
		if o+5+13 > off1 && o < off1+13 {
			continue
		}
		d := uint32(far + o - page1Jmp)
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], d)
		if harmlessRel32(b) {
			d2, off2, found = d, o, true
			break
		}
	}
	if !found {
		return Trampoline{}, errors.New("trampoline: no slow-chain displacement for this far page")
	}
	t := Trampoline{Low: make([]byte, lowSize), FarAddr: far, Far: make([]byte, pageSize),
		Fast: far + off1, Slow: far + off2}
	low := t.Low
	chain(low, 0, fastEnd)
	low[fastEnd] = 0xe9
	binary.LittleEndian.PutUint32(low[fastEnd+1:], d1)
	chain(low, slowStart, slowEnd)
	low[slowEnd] = 0xe9
	binary.LittleEndian.PutUint32(low[slowEnd+1:], d2)
	// Page 1: jmp rel32 to the same target + 5 (past the NOPs), then zeros: the null
	// block (zp_layout.h) must read as zero.
	low[page1Jmp] = 0xe9
	binary.LittleEndian.PutUint32(low[page1Jmp+1:], d2)
	for i := range t.Far {
		t.Far[i] = 0xcc // int3 anywhere else
	}
	copy(t.Far[off1:], transfer(entry))
	for i := uint64(0); i < 5; i++ {
		t.Far[off2+i] = 0x90
	}
	copy(t.Far[off2+5:], transfer(entry))
	return t, nil
}
