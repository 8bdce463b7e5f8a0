package rewrite

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"testing"

	"github.com/zpoline-go/zpoline/internal/procmaps"
)

// checkInvariants checks what must hold for any FindSites result.
func checkInvariants(t *testing.T, code []byte, base uint64, sites []Site, st Stats) {
	t.Helper()
	var prevEnd uint64
	for i, s := range sites {
		if s.Addr < base || s.Addr-base > uint64(len(code)) || uint64(len(code))-(s.Addr-base) < 2 {
			t.Fatalf("site %v outside code [%#x, +%d)", s, base, len(code))
		}
		off := s.Addr - base
		b := code[off : off+2]
		switch {
		case b[0] != 0x0f || (b[1] != 0x05 && b[1] != 0x34):
			t.Fatalf("site %v: bytes % x", s, b)
		case (b[1] == 0x05) != (s.Insn == InsnSyscall):
			t.Fatalf("site %v: bytes % x, insn %v", s, b, s.Insn)
		}
		switch s.Shape {
		case ShapeCall:
			if s.Start != s.Addr || s.Nr != -1 || s.Prefix != nil {
				t.Fatalf("call site %+v", s)
			}
		case ShapeJump:
			n := s.Addr - s.Start
			if s.Start > s.Addr || s.Start < base || n < 5 || n > 15 || s.Insn != InsnSyscall || s.Nr == NrRtSigreturn ||
				!bytes.Equal(s.Prefix, code[s.Start-base:off]) {
				t.Fatalf("jump site %+v", s)
			}
		default:
			t.Fatalf("site %+v: shape", s)
		}
		if i > 0 && s.Start < prevEnd {
			t.Fatalf("site %v overlaps the previous one (ends at %#x)", s, prevEnd)
		}
		prevEnd = s.End()
	}
	if st.Sites != len(sites) || st.Jump+st.Call != st.Sites || st.Rejected != len(st.Rejects) ||
		st.Candidates != st.Sites+st.Rejected || st.BytesExamined != len(code) {
		t.Fatalf("stats %+v for %d sites", st, len(sites))
	}
	for _, r := range st.Rejects {
		if r.Reason == "" || r.Kind == 0 {
			t.Fatalf("reject %+v", r)
		}
	}
}

// rangesFrom turns fuzz bytes into runtime ranges around code: each 4 bytes
// give a start and a length (16 bits each), offset by base - 16 so that some
// start before code.
func rangesFrom(spec []byte, base uint64) []Range {
	var rs []Range
	for i := 0; i+4 <= len(spec); i += 4 {
		start := base + uint64(binary.LittleEndian.Uint16(spec[i:])) - 16
		rs = append(rs, Range{start, start + uint64(binary.LittleEndian.Uint16(spec[i+2:]))})
	}
	return rs
}

func FuzzFindSites(f *testing.F) {
	// Seeds: the unit-test blobs, with ranges over them.
	f.Add([]byte{0x55, 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0x5d, 0xc3}, []byte{16, 0, 10, 0}, []byte{}, uint64(0x7f0000000000))
	f.Add([]byte{0x85, 0xff, 0x74, 0x05, 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xc3}, []byte{16, 0, 12, 0}, []byte{}, uint64(0x1000))
	f.Add([]byte{0xb8, 0x0f, 0x05, 0, 0, 0xe8, 0x0f, 0x05, 0, 0, 0xc3}, []byte{}, []byte{}, uint64(0))
	f.Add([]byte{0x48, 0xc7, 0xc0, 0x0f, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x34}, []byte{16, 0, 11, 0, 20, 0, 4, 0}, []byte{18, 0, 9, 0}, uint64(1<<64-8))
	f.Add(append(bytes.Repeat([]byte{0x90}, 300), 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfb), []byte{}, []byte{16, 0, 255, 1}, uint64(0x7fff00000ffc))
	f.Fuzz(func(t *testing.T, code, funcSpec, textSpec []byte, base uint64) {
		if uint64(len(code)) > ^base {
			code = code[:^base] // FindSites does the same; the invariants need it
		}
		funcs := rangesFrom(funcSpec, base)
		var text []Range
		if len(textSpec) > 0 {
			text = rangesFrom(textSpec, base)
		}
		sites, st := FindSitesIn(code, base, funcs, text)
		checkInvariants(t, code, base, sites, st)
	})
}

func FuzzParseEHFrame(f *testing.F) {
	var b ehBuilder
	c := b.cie(1, "zR", []byte{0x1b})
	b.fde(c, 0x1b, fdeA.Start, fdeA.Len(), true, false)
	c = b.cie(3, "zPLR", []byte{0x9b, 0, 0x10, 0, 0, 0x1b, 0x1b})
	b.fde(c, 0x1b, fdeB.Start, fdeB.Len(), true, false)
	b.terminate()
	f.Add(b.buf, uint64(ehFrameAddr))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0, 0, 0, 0, 0}, uint64(0))
	f.Fuzz(func(t *testing.T, data []byte, addr uint64) {
		fdes, _, _ := parseEHFrame(data, ehBases{section: addr, text: addr / 2, data: addr / 3})
		for _, fr := range fdes {
			if fr.End <= fr.Start {
				t.Fatalf("empty or inverted FDE range %v", fr.Range)
			}
		}
	})
}

// FuzzFunctionRanges feeds damaged .eh_frame and symbol tables, inside an
// otherwise valid image, through FunctionRanges and ScanMapping.
func FuzzFunctionRanges(f *testing.F) {
	var b ehBuilder
	c := b.cie(1, "zR", []byte{0x1b})
	b.fde(c, 0x1b, fdeA.Start, fdeA.Len(), true, false)
	c = b.cie(1, "zRS", []byte{0x1b})
	b.fde(c, 0x1b, fdeB.Start, fdeB.Len(), true, true)
	b.terminate()
	sym := make([]byte, symEntSize)
	sym[4] = byte(elf.STT_FUNC)
	binary.LittleEndian.PutUint16(sym[6:], shText)
	binary.LittleEndian.PutUint64(sym[8:], textAddr+0x30)
	f.Add(b.buf, sym, []byte{0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xc3}, false)
	f.Add(b.buf, []byte{}, []byte{0x0f, 0x05}, true)
	// A real image's .eh_frame, whose pointers then point nowhere useful:
	// the fuzzer mutates real record structure.
	if rf, err := elf.Open("/bin/ls"); err == nil {
		if s := rf.Section(".eh_frame"); s != nil {
			if data, err := s.Data(); err == nil {
				f.Add(data[:min(len(data), 0x1000)], []byte{}, []byte{0x0f, 0x05}, false)
			}
		}
		rf.Close()
	}
	f.Fuzz(func(t *testing.T, ehFrame, syms, text []byte, noShdrs bool) {
		code := append(text[:len(text):len(text)], textBytes...)[:0x100]
		e := testELF{text: code, ehFrame: ehFrame, rawSyms: syms, noShdrs: noShdrs}
		raw := e.build()
		ef, err := elf.NewFile(bytes.NewReader(raw))
		if err != nil {
			return // debug/elf refused it: not our parser's business
		}
		rs, _ := FunctionRanges(ef)
		exec := execRanges(ef)
		for i, r := range rs {
			if r.End <= r.Start {
				t.Fatalf("range %v is empty", r)
			}
			if x, ok := rangeAt(exec, r.Start); !ok || r.End > x.End {
				t.Fatalf("range %v is outside the executable ranges %v", r, exec)
			}
			if i > 0 && cmpRange(rs[i-1], r) >= 0 {
				t.Fatalf("ranges not sorted and unique: %v", rs)
			}
		}
		m := procmaps.Mapping{Start: 0x7f0000000000, End: 0x7f0000000000 + uint64(len(raw)+pageSize-1)&^(pageSize-1), Exec: true}
		sites, st, err := ScanMapping(m, raw, ef)
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, raw, m.Start, sites, st)
	})
}
