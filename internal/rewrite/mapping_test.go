package rewrite

import (
	"bytes"
	"debug/elf"
	"errors"
	"testing"

	"github.com/zpoline-go/zpoline/internal/procmaps"
)

// siteText is a .text with one function [0x10, 0x20) holding a jump site:
//
//	0x10: b8 27 00 00 00   mov $0x27,%eax
//	0x15: 0f 05            syscall
//	0x17: c3               ret
func siteText() []byte {
	text := bytes.Repeat([]byte{0x90}, 0x100)
	copy(text[0x10:], []byte{0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xc3})
	return text
}

func siteImage(t *testing.T) (*elf.File, []byte) {
	t.Helper()
	var b ehBuilder
	c := b.cie(1, "zR", []byte{0x1b})
	b.fde(c, 0x1b, textAddr+0x10, 0x10, true, false)
	b.terminate()
	// A 0f 05 pair in .eh_frame's padding area: mapped executable (the
	// whole test image is one R+X segment) but not in an executable section.
	eh := append(b.buf, 0, 0, 0, 0, 0x0f, 0x05)
	raw := testELF{text: siteText(), ehFrame: eh}.build()
	f, err := elf.NewFile(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return f, raw
}

func TestScanMappingBias(t *testing.T) {
	f, raw := siteImage(t)
	const start = 0x7f5500000000
	for _, tc := range []struct {
		name   string
		offset uint64 // file offset of the mapping
	}{
		{"whole file", 0},
		{"from the text page", textOff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := raw[tc.offset:]
			m := procmaps.Mapping{Start: start, End: start + uint64(len(mem)+pageSize-1)&^(pageSize-1), Read: true, Exec: true,
				Private: true, Offset: tc.offset, Path: "/test.so"}
			sites, st, err := ScanMapping(m, mem, f)
			if err != nil {
				t.Fatal(err)
			}
			addr := start + textOff - tc.offset + 0x15
			want := []Site{{Addr: addr, Insn: InsnSyscall, Shape: ShapeJump, Start: addr - 5, Nr: 39, Prefix: []byte{0xb8, 0x27, 0, 0, 0}}}
			if len(sites) != 1 || sites[0].Addr != want[0].Addr || sites[0].Start != want[0].Start || sites[0].Shape != ShapeJump {
				t.Fatalf("sites %v, want %v", sites, want)
			}
			if tc.offset == 0 {
				// The pair in .eh_frame is seen and refused.
				if len(st.Rejects) != 1 || st.Rejects[0].Kind != RejectOutsideText {
					t.Fatalf("rejects %v, want one outside-text", st.Rejects)
				}
			}
		})
	}
}

func TestScanMappingErrors(t *testing.T) {
	f, raw := siteImage(t)
	m := procmaps.Mapping{Start: 0x10000, End: 0x20000, Exec: true, Offset: 0x100000}
	if _, _, err := ScanMapping(m, raw[:0x1000], f); !errors.Is(err, ErrNoSegment) {
		t.Errorf("mapping past the file: %v, want ErrNoSegment", err)
	}
	m = procmaps.Mapping{Start: 0x10000, End: 0x11000, Exec: true}
	if _, _, err := ScanMapping(m, raw[:0x2000], f); err == nil {
		t.Errorf("more memory than mapping: no error")
	}
}

// TestScanMappingSplit: a text segment split into two mappings (as an
// mprotect of part of it does) is scanned piece by piece. A site wholly
// inside a piece is still found; one whose two bytes straddle the split
// cannot be (the loader must merge adjacent mappings of a file first).
func TestScanMappingSplit(t *testing.T) {
	f, raw := siteImage(t)
	img, err := NewImage(f)
	if err != nil {
		t.Fatal(err)
	}
	const start = 0x7f5500000000
	whole := procmaps.Mapping{Start: start, End: start + uint64(len(raw)+pageSize-1)&^(pageSize-1), Exec: true}
	first := whole
	first.End = start + textOff + 0x16 // ends between the 0f and the 05
	second := whole
	second.Start, second.Offset = first.End, textOff+0x16
	s1, _, err := img.ScanMapping(first, raw[:textOff+0x16])
	if err != nil {
		t.Fatal(err)
	}
	s2, _, err := img.ScanMapping(second, raw[textOff+0x16:])
	if err != nil {
		t.Fatal(err)
	}
	if len(s1)+len(s2) != 0 {
		t.Fatalf("the straddling site was found in a piece: %v %v", s1, s2)
	}
	all, _, err := img.ScanMapping(whole, raw)
	if err != nil || len(all) != 1 {
		t.Fatalf("whole mapping: %v, %v", all, err)
	}
}
