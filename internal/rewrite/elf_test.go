package rewrite

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"testing"
)

// This file builds small x86-64 ELF images by hand, to test FunctionRanges
// on every .eh_frame encoding and on damage, without depending on a
// toolchain.

// Layout of a testELF: one R+X PT_LOAD maps the whole file at elfBase, so
// the link-time address of file offset o is elfBase+o.
const (
	elfBase     = 0x400000
	textOff     = 0x1000
	ehFrameOff  = 0x2000
	ehHdrOff    = 0x3000
	gotOff      = 0x3800
	symtabOff   = 0x4000
	strtabOff   = 0x5000
	shstrtabOff = 0x5100
	shdrOff     = 0x5200

	textAddr    = elfBase + textOff
	ehFrameAddr = elfBase + ehFrameOff
	gotAddr     = elfBase + gotOff
)

// testSym is one symbol table entry.
type testSym struct {
	value, size uint64
	typ         elf.SymType
	shndx       elf.SectionIndex // 0: .text
	undef       bool             // SHN_UNDEF
}

// testELF describes an image to build.
type testELF struct {
	text     []byte    // at textAddr (padded to 4 KiB)
	ehFrame  []byte    // at ehFrameAddr; nil: no .eh_frame
	symtab   []testSym // .symtab
	rawSyms  []byte    // if set, the entries of .symtab after the null symbol, verbatim
	dynsym   []testSym // .dynsym
	noShdrs  bool      // no section headers: .eh_frame is found through PT_GNU_EH_FRAME
	badEhHdr bool      // with noShdrs: a .eh_frame_hdr of an unknown version
}

// Section indexes of a testELF with section headers.
const (
	shText = 1 + iota
	shEhFrame
	shGot
	shSymtab
	shStrtab
	shDynsym
	shShstrtab
	shNum
)

func (e testELF) build() []byte {
	le := binary.LittleEndian
	img := make([]byte, shdrOff+shNum*64)
	copy(img[textOff:ehFrameOff], e.text)
	copy(img[ehFrameOff:ehHdrOff], e.ehFrame)

	// .eh_frame_hdr: version 1, eh_frame_ptr pcrel|sdata4, no table.
	hdr := img[ehHdrOff:]
	hdr[0], hdr[1], hdr[2], hdr[3] = 1, 0x1b, 0xff, 0xff
	if e.badEhHdr {
		hdr[0] = 9
	}
	rel := int32(ehFrameOff) - int32(ehHdrOff+4) // eh_frame_ptr, relative to its own address
	le.PutUint32(hdr[4:], uint32(rel))

	putSyms := func(off int, syms []testSym) int {
		n := 1
		for _, s := range syms {
			ent := img[off+n*symEntSize:]
			ent[4] = byte(elf.STB_GLOBAL)<<4 | byte(s.typ)
			sh := s.shndx
			if sh == 0 {
				sh = shText
			}
			if s.undef {
				sh = elf.SHN_UNDEF
			}
			le.PutUint16(ent[6:], uint16(sh))
			le.PutUint64(ent[8:], s.value)
			le.PutUint64(ent[16:], s.size)
			n++
		}
		return n * symEntSize
	}
	symtabSize := putSyms(symtabOff, e.symtab)
	if e.rawSyms != nil {
		n := copy(img[symtabOff+symEntSize:symtabOff+0x800], e.rawSyms)
		symtabSize = symEntSize + n
	}
	dynsymOff := symtabOff + 0x800
	dynsymSize := putSyms(dynsymOff, e.dynsym)
	names := "\x00.text\x00.eh_frame\x00.got\x00.symtab\x00.strtab\x00.dynsym\x00.shstrtab\x00"
	copy(img[shstrtabOff:], names)
	name := func(s string) uint32 { return uint32(bytes.Index([]byte(names), []byte("\x00"+s+"\x00")) + 1) }

	// ELF header.
	copy(img, "\x7fELF")
	img[4], img[5], img[6] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	le.PutUint16(img[16:], uint16(elf.ET_DYN))
	le.PutUint16(img[18:], uint16(elf.EM_X86_64))
	le.PutUint32(img[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(img[32:], 64) // phoff
	le.PutUint16(img[52:], 64) // ehsize
	le.PutUint16(img[54:], 56) // phentsize
	le.PutUint16(img[56:], 2)  // phnum
	if !e.noShdrs {
		le.PutUint64(img[40:], shdrOff)
		le.PutUint16(img[58:], 64)
		le.PutUint16(img[60:], shNum)
		le.PutUint16(img[62:], shShstrtab)
	}

	// Program headers: the whole file R+X, and PT_GNU_EH_FRAME.
	ph := func(i int, typ elf.ProgType, flags elf.ProgFlag, off, size uint64) {
		p := img[64+i*56:]
		le.PutUint32(p[0:], uint32(typ))
		le.PutUint32(p[4:], uint32(flags))
		le.PutUint64(p[8:], off)
		le.PutUint64(p[16:], elfBase+off)
		le.PutUint64(p[24:], elfBase+off)
		le.PutUint64(p[32:], size)
		le.PutUint64(p[40:], size)
		le.PutUint64(p[48:], 0x1000)
	}
	ph(0, elf.PT_LOAD, elf.PF_R|elf.PF_X, 0, uint64(len(img)))
	ph(1, elf.PT_GNU_EH_FRAME, elf.PF_R, ehHdrOff, 8)

	// Section headers.
	sh := func(i int, n string, typ elf.SectionType, flags elf.SectionFlag, off, size uint64, link uint32, entsize uint64) {
		s := img[shdrOff+i*64:]
		le.PutUint32(s[0:], name(n))
		le.PutUint32(s[4:], uint32(typ))
		le.PutUint64(s[8:], uint64(flags))
		if flags&elf.SHF_ALLOC != 0 {
			le.PutUint64(s[16:], elfBase+off)
		}
		le.PutUint64(s[24:], off)
		le.PutUint64(s[32:], size)
		le.PutUint32(s[40:], link)
		le.PutUint64(s[48:], 8)
		le.PutUint64(s[56:], entsize)
	}
	sh(shText, ".text", elf.SHT_PROGBITS, elf.SHF_ALLOC|elf.SHF_EXECINSTR, textOff, uint64(min(len(e.text), 0x1000)), 0, 0)
	if e.ehFrame != nil {
		sh(shEhFrame, ".eh_frame", elf.SHT_PROGBITS, elf.SHF_ALLOC, ehFrameOff, uint64(min(len(e.ehFrame), 0x1000)), 0, 0)
	} else {
		sh(shEhFrame, ".eh_frame", elf.SHT_NOBITS, 0, 0, 0, 0, 0) // present but empty
	}
	sh(shGot, ".got", elf.SHT_PROGBITS, elf.SHF_ALLOC|elf.SHF_WRITE, gotOff, 8, 0, 0)
	sh(shSymtab, ".symtab", elf.SHT_SYMTAB, 0, symtabOff, uint64(symtabSize), shStrtab, symEntSize)
	sh(shStrtab, ".strtab", elf.SHT_STRTAB, 0, strtabOff, 1, 0, 0)
	sh(shDynsym, ".dynsym", elf.SHT_DYNSYM, elf.SHF_ALLOC, uint64(dynsymOff), uint64(dynsymSize), shStrtab, symEntSize)
	sh(shShstrtab, ".shstrtab", elf.SHT_STRTAB, 0, shstrtabOff, uint64(len(names)), 0, 0)
	return img
}

func (e testELF) file(t testing.TB) *elf.File {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(e.build()))
	if err != nil {
		t.Fatalf("building test ELF: %v", err)
	}
	return f
}

// ehBuilder writes .eh_frame records at link-time address ehFrameAddr.
type ehBuilder struct{ buf []byte }

func uleb(v uint64) []byte {
	var out []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		out = append(out, c)
		if v == 0 {
			return out
		}
	}
}

func sleb(v int64) []byte {
	var out []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(out, c)
		}
		out = append(out, c|0x80)
	}
}

// record appends a record with body (everything after the length field)
// and returns its offset; it pads to 8 bytes with DW_CFA_nop.
func (b *ehBuilder) record(body []byte, long bool) int {
	off := len(b.buf)
	for (len(body)+4)%8 != 0 {
		body = append(body, 0)
	}
	if long {
		b.buf = binary.LittleEndian.AppendUint32(b.buf, 0xffffffff)
		b.buf = binary.LittleEndian.AppendUint64(b.buf, uint64(len(body)))
	} else {
		b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(len(body)))
	}
	b.buf = append(b.buf, body...)
	return off
}

// cie appends a CIE (code align 1, data align -8, return address 16).
func (b *ehBuilder) cie(version byte, aug string, augData []byte) int {
	body := []byte{0, 0, 0, 0, version}
	body = append(body, aug...)
	body = append(body, 0)
	body = append(body, 1)           // code alignment
	body = append(body, sleb(-8)...) // data alignment
	if version == 1 {
		body = append(body, 16)
	} else {
		body = append(body, uleb(16)...)
	}
	if len(aug) > 0 && aug[0] == 'z' {
		body = append(body, uleb(uint64(len(augData)))...)
		body = append(body, augData...)
	}
	body = append(body, 0x0c, 0x07, 0x08) // DW_CFA_def_cfa rsp+8
	return b.record(body, false)
}

// encode appends v in encoding enc, for a field at link-time address at.
func encode(out []byte, enc byte, v, at uint64) []byte {
	switch enc & 0x70 {
	case pePcrel:
		v -= at
	case peDatarel:
		v -= gotAddr
	case peTextrel:
		v -= textAddr
	}
	le := binary.LittleEndian
	switch enc & 0x0f {
	case peAbsptr, peUdata8, peSdata8:
		return le.AppendUint64(out, v)
	case peUleb128:
		return append(out, uleb(v)...)
	case peSleb128:
		return append(out, sleb(int64(v))...)
	case peUdata2, peSdata2:
		return le.AppendUint16(out, uint16(v))
	case peUdata4, peSdata4:
		return le.AppendUint32(out, uint32(v))
	}
	panic("bad encoding")
}

// fde appends an FDE for [start, start+size) using the CIE at cieOff.
func (b *ehBuilder) fde(cieOff int, enc byte, start, size uint64, z bool, long bool) int {
	hdr := 4
	if long {
		hdr = 12
	}
	idAt := len(b.buf) + hdr
	body := binary.LittleEndian.AppendUint32(nil, uint32(idAt-cieOff))
	// Fields are encoded relative to their own address: the buffer offset
	// plus the header plus what the body holds so far.
	fieldAt := func() uint64 { return ehFrameAddr + uint64(idAt+len(body)) }
	if enc&0x70 == peAligned {
		for (fieldAt())%8 != 0 {
			body = append(body, 0)
		}
		body = binary.LittleEndian.AppendUint64(body, start)
	} else {
		body = encode(body, enc, start, fieldAt())
	}
	body = encode(body, enc&0x0f, size, 0)
	if z {
		body = append(body, 0) // augmentation data length 0
	}
	return b.record(body, long)
}

// terminate appends the zero terminator.
func (b *ehBuilder) terminate() { b.buf = append(b.buf, 0, 0, 0, 0) }
