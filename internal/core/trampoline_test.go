package core

import (
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// walk follows execution from offset start of the low region until it reaches the far
// page, allowing only NOPs and jumps (with harmless prefixes). It returns the far
// address reached and the number of jumps taken.
func walk(t *testing.T, tr Trampoline, start uint64) (uint64, int) {
	t.Helper()
	pos, jumps := start, 0
	for steps := 0; steps < 4096; steps++ {
		if pos >= tr.FarAddr && pos < tr.FarAddr+pageSize {
			// In the far page: NOPs up to a transfer.
			for tr.Far[pos-tr.FarAddr] == 0x90 {
				pos++
			}
			if tr.Far[pos-tr.FarAddr] != 0x49 {
				t.Fatalf("offset %#x: reached far page at %#x, not a transfer", start, pos)
			}
			return pos, jumps
		}
		if pos >= uint64(len(tr.Low)) {
			t.Fatalf("offset %#x: left the trampoline at %#x", start, pos)
		}
		inst, err := x86asm.Decode(tr.Low[pos:], 64)
		if err != nil {
			t.Fatalf("offset %#x: undecodable at %#x: %v", start, pos, err)
		}
		for _, p := range inst.Prefix {
			if p == 0 {
				break
			}
			if b := byte(p); !isSegment(b) && !isRexNoB(b) {
				t.Fatalf("offset %#x: prefix %#x at %#x", start, b, pos)
			}
		}
		switch inst.Op {
		case x86asm.NOP:
			pos += uint64(inst.Len)
		case x86asm.JMP:
			rel, ok := inst.Args[0].(x86asm.Rel)
			if !ok {
				t.Fatalf("offset %#x: indirect jmp at %#x", start, pos)
			}
			pos = uint64(int64(pos) + int64(inst.Len) + int64(rel))
			jumps++
		default:
			t.Fatalf("offset %#x: %v at %#x", start, inst, pos)
		}
	}
	t.Fatalf("offset %#x: no end", start)
	return 0, 0
}

func TestTrampolineEveryOffsetReachesEntry(t *testing.T) {
	const entry = 0x7f0000001234
	built := 0
	for _, rex := range TrampolineDisplacements() {
		tr, err := BuildTrampoline(rex, entry)
		if err != nil {
			continue // the loader tries the next displacement
		}
		built++
		if built > 4 {
			continue // walking four layouts proves the construction; count the rest
		}
		if tr.FarAddr >= 1<<31 || tr.FarAddr < lowSize {
			t.Fatalf("rex %#x: far page %#x not in low memory", rex, tr.FarAddr)
		}
		maxFast := 0
		for off := uint64(0); off <= page1Jmp; off++ {
			got, jumps := walk(t, tr, off)
			want := tr.Slow
			if off <= fastEnd {
				want = tr.Fast
			}
			if off > slowEnd && off < slowEnd+5 || off == page1Jmp {
				want = tr.Slow // prefixes of 0xffb's rel32 run into page 1's jmp
			}
			if got != want && !(got == tr.Slow+5 && want == tr.Slow) {
				t.Fatalf("rex %#x offset %#x: reached %#x, want %#x", rex, off, got, want)
			}
			if off < 512 && jumps > maxFast {
				maxFast = jumps
			}
		}
		// Numbers the kernel knows cross at most 7 chain jumps and the jmp rel32.
		if maxFast > 8 {
			t.Errorf("rex %#x: %d jumps for some number below 512", rex, maxFast)
		}
		// The transfer loads zp_entry_call.
		if got := tr.Far[tr.Fast-tr.FarAddr+2]; got != 0x34 {
			t.Errorf("transfer immediate low byte %#x, want 0x34", got)
		}
	}
	// Enough far-page addresses to choose from when some are taken.
	if built < 16 {
		t.Errorf("only %d displacements give a trampoline", built)
	}
}

func TestNullBlockReadsZero(t *testing.T) {
	tr, err := BuildTrampoline(TrampolineDisplacements()[0], 1)
	if err != nil {
		t.Fatal(err)
	}
	// A thread with %gs base 0 reads its block fields from the low region.
	for off := 0x1800; off < 0x1800+0x40; off++ {
		if tr.Low[off] != 0 {
			t.Fatalf("null block byte %#x = %#x", off, tr.Low[off])
		}
	}
}

// isRexNoB reports whether b is a REX prefix without the B bit: before `eb`, `e9` or
// 0x90 it changes nothing (with B, 0x90 would become xchg %r8,%rax).
func isRexNoB(b byte) bool { return b >= 0x40 && b <= 0x4e && b%2 == 0 }

// isSegment reports whether b is a segment-override prefix, ignored in 64-bit mode.
func isSegment(b byte) bool { return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e }
