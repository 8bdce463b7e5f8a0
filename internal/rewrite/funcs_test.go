package rewrite

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// textBytes is a .text of 0x100 bytes: nops and a ret at the end.
var textBytes = append(bytes.Repeat([]byte{0x90}, 0xff), 0xc3)

// Two FDEs every encoding test describes.
var (
	fdeA = Range{textAddr + 0x10, textAddr + 0x20}
	fdeB = Range{textAddr + 0x40, textAddr + 0x48}
)

func TestEHFrameEncodings(t *testing.T) {
	tests := []struct {
		name    string
		version byte
		aug     string
		augData []byte
		enc     byte // FDE pointer encoding ('R'); 0 without it
		z       bool // FDEs carry an augmentation length
		long    bool // 64-bit DWARF lengths
	}{
		{name: "no augmentation: absptr", version: 1, aug: "", enc: peAbsptr},
		{name: "zR pcrel|sdata4 (gcc default)", version: 1, aug: "zR", augData: []byte{0x1b}, enc: 0x1b, z: true},
		{name: "zR pcrel|sdata2", version: 1, aug: "zR", augData: []byte{0x1a}, enc: 0x1a, z: true},
		{name: "zR pcrel|sdata8", version: 1, aug: "zR", augData: []byte{0x1c}, enc: 0x1c, z: true},
		{name: "zR pcrel|sleb128", version: 1, aug: "zR", augData: []byte{0x19}, enc: 0x19, z: true},
		{name: "zR pcrel|udata8", version: 1, aug: "zR", augData: []byte{0x14}, enc: 0x14, z: true},
		{name: "zR udata4", version: 1, aug: "zR", augData: []byte{0x03}, enc: 0x03, z: true},
		{name: "zR udata8", version: 1, aug: "zR", augData: []byte{0x04}, enc: 0x04, z: true},
		{name: "zR uleb128", version: 1, aug: "zR", augData: []byte{0x01}, enc: 0x01, z: true},
		{name: "zR sleb128", version: 1, aug: "zR", augData: []byte{0x09}, enc: 0x09, z: true},
		{name: "zR sdata4", version: 1, aug: "zR", augData: []byte{0x0b}, enc: 0x0b, z: true},
		{name: "zR textrel|udata2", version: 1, aug: "zR", augData: []byte{0x22}, enc: 0x22, z: true},
		{name: "zR datarel|sdata4", version: 1, aug: "zR", augData: []byte{0x3b}, enc: 0x3b, z: true},
		{name: "zR datarel|sdata2", version: 1, aug: "zR", augData: []byte{0x3a}, enc: 0x3a, z: true},
		{name: "zR aligned", version: 1, aug: "zR", augData: []byte{0x50}, enc: 0x50, z: true},
		{name: "version 3 (uleb128 return register)", version: 3, aug: "zR", augData: []byte{0x1b}, enc: 0x1b, z: true},
		{name: "64-bit lengths", version: 1, aug: "zR", augData: []byte{0x1b}, enc: 0x1b, z: true, long: true},
		{
			// Personality pcrel|sdata4|indirect to a GOT slot, LSDA pcrel|sdata4.
			name: "zPLR (C++)", version: 1, aug: "zPLR",
			augData: []byte{0x9b, 0x00, 0x10, 0x00, 0x00, 0x1b, 0x1b}, enc: 0x1b, z: true,
		},
		{name: "zRB (AArch64 BTI letter, no data)", version: 1, aug: "zRB", augData: []byte{0x1b}, enc: 0x1b, z: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b ehBuilder
			c := b.cie(tt.version, tt.aug, tt.augData)
			if tt.long {
				// A CIE with a 64-bit length: rebuild it by hand.
				b = ehBuilder{}
				body := b.buf[:0]
				body = append(body, 0, 0, 0, 0, tt.version)
				body = append(body, tt.aug...)
				body = append(body, 0, 1, 0x78, 16)
				body = append(body, uleb(uint64(len(tt.augData)))...)
				body = append(body, tt.augData...)
				c = b.record(body, true)
			}
			b.fde(c, tt.enc, fdeA.Start, fdeA.Len(), tt.z, tt.long)
			if tt.aug == "zPLR" {
				// An FDE with augmentation data: a 4-byte LSDA pointer.
				idAt := len(b.buf) + 4
				body := binaryLE32(uint32(idAt - c))
				body = encode(body, tt.enc, fdeB.Start, ehFrameAddr+uint64(idAt+len(body)))
				body = encode(body, tt.enc&0x0f, fdeB.Len(), 0)
				body = append(body, 4, 0, 0, 0, 0)
				b.record(body, false)
			} else {
				b.fde(c, tt.enc, fdeB.Start, fdeB.Len(), tt.z, tt.long)
			}
			b.terminate()
			f := testELF{text: textBytes, ehFrame: b.buf}.file(t)
			got, err := FunctionRanges(f)
			if err != nil {
				t.Fatal(err)
			}
			if want := []Range{fdeA, fdeB}; !slices.Equal(got, want) {
				t.Fatalf("FunctionRanges = %v, want %v", got, want)
			}
		})
	}
}

func binaryLE32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

// TestEHFrameSignalFrame: an FDE of an 'S' CIE starts one byte before the
// trampoline; FunctionRanges reports the trampoline itself.
func TestEHFrameSignalFrame(t *testing.T) {
	var b ehBuilder
	c := b.cie(1, "zRS", []byte{0x1b})
	b.fde(c, 0x1b, textAddr+0x4f, 0xa, true, false) // like glibc's __restore_rt: [0x3c04f, 0x3c059)
	b.terminate()
	f := testELF{text: textBytes, ehFrame: b.buf}.file(t)
	got, err := FunctionRanges(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Range{{textAddr + 0x50, textAddr + 0x59}}; !slices.Equal(got, want) {
		t.Fatalf("FunctionRanges = %v, want %v", got, want)
	}
}

func TestEHFrameDamage(t *testing.T) {
	good := func() (*ehBuilder, int) {
		b := &ehBuilder{}
		c := b.cie(1, "zR", []byte{0x1b})
		b.fde(c, 0x1b, fdeA.Start, fdeA.Len(), true, false)
		return b, c
	}
	tests := []struct {
		name    string
		build   func() []byte
		want    []Range
		wantErr bool
	}{
		{
			name: "truncated record keeps what came before",
			build: func() []byte {
				b, _ := good()
				return append(b.buf, 0x40, 0, 0, 0, 1, 2, 3) // length 0x40, 3 bytes left
			},
			want: []Range{fdeA}, wantErr: true,
		},
		{
			name: "record length below 4",
			build: func() []byte {
				b, _ := good()
				return append(b.buf, 2, 0, 0, 0, 0, 0)
			},
			want: []Range{fdeA}, wantErr: true,
		},
		{
			name: "garbage after the terminator is ignored",
			build: func() []byte {
				b, _ := good()
				b.terminate()
				return append(b.buf, 0xff, 0xff, 0xff, 0xff, 0x13)
			},
			want: []Range{fdeA},
		},
		{
			name: "FDE whose CIE pointer points before the section",
			build: func() []byte {
				b, _ := good()
				b.buf = append(b.buf, 12, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
				return b.buf
			},
			want: []Range{fdeA},
		},
		{
			name: "FDE whose CIE pointer points at an FDE",
			build: func() []byte {
				b, c := good()
				fdeOff := len(b.buf)
				b.fde(c, 0x1b, fdeB.Start, fdeB.Len(), true, false)
				b.fde(fdeOff, 0x1b, fdeB.Start, fdeB.Len(), true, false)
				return b.buf
			},
			want: []Range{fdeA, fdeB}, wantErr: true,
		},
		{
			name: "unknown pointer encoding",
			build: func() []byte {
				b, _ := good()
				c := b.cie(1, "zR", []byte{0x07})
				b.fde(c, 0x03, fdeB.Start, fdeB.Len(), true, false)
				return b.buf
			},
			want: []Range{fdeA}, wantErr: true,
		},
		{
			name: "unknown augmentation letter",
			build: func() []byte {
				b, _ := good()
				c := b.cie(1, "zQR", []byte{0x00, 0x1b})
				b.fde(c, 0x1b, fdeB.Start, fdeB.Len(), true, false)
				return b.buf
			},
			want: []Range{fdeA}, wantErr: true,
		},
		{
			name: "unsupported CIE version",
			build: func() []byte {
				b, _ := good()
				c := b.cie(2, "zR", []byte{0x1b})
				b.fde(c, 0x1b, fdeB.Start, fdeB.Len(), true, false)
				return b.buf
			},
			want: []Range{fdeA}, wantErr: true,
		},
		{
			name: "indirect FDE address is skipped quietly",
			build: func() []byte {
				b, _ := good()
				c := b.cie(1, "zR", []byte{0x9b})
				b.fde(c, 0x1b, fdeB.Start, fdeB.Len(), true, false)
				return b.buf
			},
			want: []Range{fdeA},
		},
		{
			name: "FDE outside .text is dropped",
			build: func() []byte {
				b, c := good()
				b.fde(c, 0x1b, gotAddr, 8, true, false)
				return b.buf
			},
			want: []Range{fdeA},
		},
		{
			name: "FDE running past .text is clipped",
			build: func() []byte {
				b, c := good()
				b.fde(c, 0x1b, textAddr+0xf0, 0x1000, true, false)
				return b.buf
			},
			want: []Range{fdeA, {textAddr + 0xf0, textAddr + 0x100}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := testELF{text: textBytes, ehFrame: tt.build()}.file(t)
			got, err := FunctionRanges(f)
			if (err != nil) != tt.wantErr || err != nil && !errors.Is(err, ErrEHFrame) {
				t.Errorf("error = %v, want one matching ErrEHFrame: %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("FunctionRanges = %v, want %v", got, tt.want)
			}
			t.Logf("err: %v", err)
		})
	}
}

func TestFunctionRangesSymbols(t *testing.T) {
	var b ehBuilder
	c := b.cie(1, "zR", []byte{0x1b})
	b.fde(c, 0x1b, fdeA.Start, fdeA.Len(), true, false)
	b.terminate()
	f := testELF{
		text:    textBytes,
		ehFrame: b.buf,
		symtab: []testSym{
			{value: fdeA.Start, size: fdeA.Len(), typ: elf.STT_FUNC},  // duplicate of the FDE
			{value: textAddr + 0x30, size: 0, typ: elf.STT_FUNC},      // size 0: to the next start (0x38)
			{value: textAddr + 0x38, size: 8, typ: elf.STT_GNU_IFUNC}, // an IFUNC resolver
			{value: textAddr + 0xf8, size: 0, typ: elf.STT_FUNC},      // size 0, last: to the end of .text
			{value: textAddr + 0x60, size: 8, typ: elf.STT_OBJECT},    // not a function
			{value: textAddr + 0x70, size: 8, typ: elf.STT_FUNC, undef: true},
			{value: gotAddr, size: 8, typ: elf.STT_FUNC, shndx: shGot}, // not in text
			{value: textAddr + 0x80, size: 0x1000, typ: elf.STT_FUNC},  // clipped to .text
			{value: textAddr + 0x90, size: 4, typ: elf.STT_FUNC, shndx: elf.SHN_ABS},
		},
		dynsym: []testSym{
			{value: textAddr + 0x40, size: 0x10, typ: elf.STT_FUNC},
			{value: textAddr + 0x40, size: 0x8, typ: elf.STT_FUNC}, // alias with another size: both kept
		},
	}.file(t)
	got, err := FunctionRanges(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []Range{
		fdeA,
		{textAddr + 0x30, textAddr + 0x38},
		{textAddr + 0x38, textAddr + 0x40},
		{textAddr + 0x40, textAddr + 0x50},
		{textAddr + 0x40, textAddr + 0x48},
		{textAddr + 0x80, textAddr + 0x100},
		{textAddr + 0xf8, textAddr + 0x100},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("FunctionRanges =\n%v\nwant\n%v", got, want)
	}
}

// TestFunctionRangesNoSectionHeaders: without section headers, .eh_frame is
// found through PT_GNU_EH_FRAME, and text is the executable PT_LOAD.
func TestFunctionRangesNoSectionHeaders(t *testing.T) {
	var b ehBuilder
	c := b.cie(1, "zR", []byte{0x1b})
	b.fde(c, 0x1b, fdeA.Start, fdeA.Len(), true, false)
	b.fde(c, 0x1b, fdeB.Start, fdeB.Len(), true, false)
	b.terminate()
	e := testELF{text: textBytes, ehFrame: b.buf, noShdrs: true}
	f := e.file(t)
	if len(f.Sections) != 0 {
		t.Fatalf("the test image has %d sections", len(f.Sections))
	}
	got, err := FunctionRanges(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Range{fdeA, fdeB}; !slices.Equal(got, want) {
		t.Fatalf("FunctionRanges = %v, want %v", got, want)
	}

	e.badEhHdr = true
	got, err = FunctionRanges(e.file(t))
	if !errors.Is(err, ErrEHFrame) || len(got) != 0 {
		t.Fatalf("bad .eh_frame_hdr: %v, %v; want ErrEHFrame", got, err)
	}
}

func TestFunctionRangesNotX86(t *testing.T) {
	img := testELF{text: textBytes}.build()
	img[18] = byte(elf.EM_AARCH64)
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FunctionRanges(f); !errors.Is(err, ErrNotX86_64) {
		t.Fatalf("FunctionRanges(aarch64) = %v, want ErrNotX86_64", err)
	}
	if _, err := NewImage(f); !errors.Is(err, ErrNotX86_64) {
		t.Fatalf("NewImage(aarch64) = %v, want ErrNotX86_64", err)
	}
}

// readelfFDE matches an FDE line of `readelf --debug-dump=frames`.
var readelfFDE = regexp.MustCompile(`FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.([0-9a-f]+)`)

// TestEHFrameReadelf compares the FDEs parsed from real images with
// readelf's.
func TestEHFrameReadelf(t *testing.T) {
	if testing.Short() {
		t.Skip("runs readelf over large binaries")
	}
	readelf, err := exec.LookPath("readelf")
	if err != nil {
		t.Skip("readelf (binutils) not installed")
	}
	for _, path := range []string{
		"/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "/usr/bin/python3.11", "/bin/ls",
	} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := elf.Open(path)
			if err != nil {
				t.Skip(err)
			}
			defer f.Close()
			// readelf exits 1 on some images (a missing separate debug
			// file) after printing everything.
			out, err := exec.Command(readelf, "--debug-dump=frames", path).Output()
			if err != nil && len(out) == 0 {
				t.Fatal(err)
			}
			var want []Range
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				if m := readelfFDE.FindStringSubmatch(sc.Text()); m != nil {
					lo, _ := strconv.ParseUint(m[1], 16, 64)
					hi, _ := strconv.ParseUint(m[2], 16, 64)
					want = append(want, Range{lo, hi})
				}
			}
			fdes, err := ehFrameRanges(f)
			if err != nil {
				t.Fatal(err)
			}
			var got []Range
			signal := 0
			for _, fr := range fdes {
				got = append(got, fr.Range)
				if fr.signal {
					signal++
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%d FDEs, readelf shows %d", len(got), len(want))
			}
			t.Logf("%s: %d FDEs, %d of signal frames", path, len(got), signal)
		})
	}
}

// TestFunctionRangesStrippedGo: a Go binary without .symtab (every `go
// test` binary) still has its functions, from .gopclntab.
func TestFunctionRangesStrippedGo(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Section(".symtab") != nil {
		t.Skip("this test binary has a .symtab")
	}
	got, err := FunctionRanges(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 1000 {
		t.Fatalf("%d function ranges from .gopclntab", len(got))
	}
	if !slices.IsSortedFunc(got, cmpRange) {
		t.Fatal("not sorted")
	}
	t.Logf("%d function ranges", len(got))
}
