package rewrite

import (
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
)

// ErrNotX86_64 is returned for an ELF image that is not 64-bit
// little-endian x86-64.
var ErrNotX86_64 = errors.New("not an x86-64 ELF image")

// FunctionRanges returns the function ranges of an x86-64 ELF image, at
// link-time virtual addresses, sorted by Start (ties: longer first) and
// without duplicates. Ranges may overlap (aliases, nested entry points).
//
// Sources, merged:
//   - every FDE of .eh_frame (found through PT_GNU_EH_FRAME when the section
//     headers are gone), with all pointer encodings the x86-64 toolchains
//     emit (absptr, uleb128, udata2/4/8, sleb128, sdata2/4/8; pcrel,
//     textrel, datarel, aligned). An FDE whose CIE has the 'S' (signal
//     frame) augmentation is reported from its second byte: by the
//     convention of glibc's __restore_rt (in libc.so.6 and ld.so) and the
//     kernel's 32-bit vDSO, a signal trampoline's FDE starts one byte early
//     (on the last byte of a nop), so that unwinders that look up pc-1 still
//     find it; that byte is no instruction boundary.
//   - every defined STT_FUNC and STT_GNU_IFUNC symbol of .symtab and
//     .dynsym. A symbol of size 0 (hand-written assembly without .size) is
//     taken to extend to the next known function start.
//   - for a Go binary stripped of .symtab (go build -ldflags=-s, and every
//     `go test` binary), the function table of .gopclntab, which the Go
//     runtime itself needs and which Go binaries have no .eh_frame to
//     replace.
//
// Only ranges that start inside an executable section (or, without section
// headers, an executable PT_LOAD) are kept, clipped to its end.
//
// A damaged .eh_frame or symbol table does not stop the others: the ranges
// found are returned together with an error that matches ErrEHFrame (for
// .eh_frame damage) and says what failed. It returns ErrNotX86_64 (and no
// ranges) for other architectures.
func FunctionRanges(f *elf.File) ([]Range, error) {
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Machine != elf.EM_X86_64 {
		return nil, ErrNotX86_64
	}
	text := execRanges(f)
	var errs []error
	type found struct {
		Range
		open bool // size unknown: ends at the next start
	}
	var all []found

	fdes, err := ehFrameRanges(f)
	if err != nil {
		errs = append(errs, err)
	}
	for _, fr := range fdes {
		if fr.signal && fr.Len() > 1 {
			fr.Start++
		}
		all = append(all, found{Range: fr.Range})
	}
	gofuncs, err := goFuncRanges(f)
	if err != nil {
		errs = append(errs, err)
	}
	for _, r := range gofuncs {
		all = append(all, found{Range: r})
	}
	for _, name := range [...]string{".symtab", ".dynsym"} {
		err := rawSyms(f, name, func(v, size uint64) {
			if v+size >= v {
				all = append(all, found{Range{v, v + size}, size == 0})
			}
		})
		if err != nil {
			errs = append(errs, err)
		}
	}

	// Keep ranges that start in text, clipped to it; open ranges first
	// extend to its end.
	kept := all[:0]
	for _, r := range all {
		t, ok := rangeAt(text, r.Start)
		if !ok {
			continue
		}
		if r.open || r.End > t.End {
			r.End = t.End
		}
		kept = append(kept, r)
	}
	slices.SortFunc(kept, func(a, b found) int { return cmpRange(a.Range, b.Range) })
	out := make([]Range, 0, len(kept))
	for _, r := range kept {
		if r.open {
			j := sort.Search(len(kept), func(j int) bool { return kept[j].Start > r.Start })
			if j < len(kept) && kept[j].Start < r.End {
				r.End = kept[j].Start
			}
		}
		out = append(out, r.Range)
	}
	slices.SortFunc(out, cmpRange)
	return slices.Compact(out), errors.Join(errs...)
}

func cmpRange(a, b Range) int {
	switch {
	case a.Start < b.Start:
		return -1
	case a.Start > b.Start:
		return 1
	case a.End > b.End:
		return -1
	case a.End < b.End:
		return 1
	}
	return 0
}

// rangeAt returns the range of rs (sorted, disjoint) containing addr.
func rangeAt(rs []Range, addr uint64) (Range, bool) {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].End > addr })
	if i < len(rs) && rs[i].Start <= addr {
		return rs[i], true
	}
	return Range{}, false
}

// execRanges returns the link-time ranges that hold instructions: the
// allocated, executable sections with file contents, or, without section
// headers, the file-backed part of each executable PT_LOAD. Sorted,
// disjoint.
func execRanges(f *elf.File) []Range {
	var out []Range
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_EXECINSTR != 0 && s.Flags&elf.SHF_ALLOC != 0 && s.Type != elf.SHT_NOBITS && s.Size > 0 && s.Addr+s.Size > s.Addr {
			out = append(out, Range{s.Addr, s.Addr + s.Size})
		}
	}
	if len(out) == 0 {
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && p.Filesz > 0 && p.Vaddr+p.Filesz > p.Vaddr {
				out = append(out, Range{p.Vaddr, p.Vaddr + min(p.Filesz, p.Memsz)})
			}
		}
	}
	slices.SortFunc(out, cmpRange)
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 && r.Start <= merged[n-1].End {
			merged[n-1].End = max(merged[n-1].End, r.End)
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

// maxSectionRead bounds what is read of one section or segment, so that a
// corrupt size cannot make us allocate gigabytes.
const maxSectionRead = 1 << 30

// sectionData returns the contents of s, refusing absurd sizes.
func sectionData(s *elf.Section) ([]byte, error) {
	if s.Size > maxSectionRead {
		return nil, fmt.Errorf("read %s: size %#x is implausible", s.Name, s.Size)
	}
	b, err := s.Data()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.Name, err)
	}
	return b, nil
}

// ehFrameRanges parses the FDEs of f's .eh_frame.
func ehFrameRanges(f *elf.File) ([]fdeRange, error) {
	var bases ehBases
	if s := f.Section(".text"); s != nil {
		bases.text = s.Addr
	}
	if s := f.Section(".got"); s != nil {
		bases.data = s.Addr
	}
	if s := f.Section(".eh_frame"); s != nil && s.Type != elf.SHT_NOBITS {
		b, err := sectionData(s)
		if err != nil {
			return nil, err
		}
		bases.section = s.Addr
		fdes, _, err := parseEHFrame(b, bases)
		if err != nil {
			err = fmt.Errorf("parse .eh_frame: %w", err)
		}
		return fdes, err
	}
	// No section headers: PT_GNU_EH_FRAME points at .eh_frame_hdr, whose
	// eh_frame_ptr gives the start of .eh_frame.
	for _, p := range f.Progs {
		if p.Type != elf.PT_GNU_EH_FRAME {
			continue
		}
		hdr := make([]byte, 16)
		n, _ := p.ReadAt(hdr, 0)
		r := &ehReader{b: hdr[:n]}
		if v := r.u8(); r.err == nil && v != 1 {
			return nil, fmt.Errorf("parse .eh_frame_hdr: %w: version %d", ErrEHFrame, v)
		}
		ptrEnc := r.u8()
		r.u8() // fde_count encoding
		r.u8() // table encoding
		ehAddr, ok := r.pointer(ptrEnc, ehBases{section: p.Vaddr, data: p.Vaddr})
		if r.err != nil || !ok {
			return nil, fmt.Errorf("parse .eh_frame_hdr: %w: cannot resolve eh_frame_ptr", ErrEHFrame)
		}
		b, err := loadedBytes(f, ehAddr)
		if err != nil {
			return nil, fmt.Errorf("read .eh_frame at %#x: %w", ehAddr, err)
		}
		bases.section = ehAddr
		fdes, _, err := parseEHFrame(b, bases)
		if err != nil {
			err = fmt.Errorf("parse .eh_frame at %#x: %w", ehAddr, err)
		}
		return fdes, err
	}
	return nil, nil
}

// loadedBytes returns the file bytes from link-time address addr to the end
// of the file-backed part of the PT_LOAD that contains it.
func loadedBytes(f *elf.File, addr uint64) ([]byte, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || addr < p.Vaddr || addr-p.Vaddr >= p.Filesz {
			continue
		}
		n := p.Filesz - (addr - p.Vaddr)
		if n > maxSectionRead {
			return nil, fmt.Errorf("segment size %#x is implausible", p.Filesz)
		}
		b := make([]byte, n)
		m, err := p.ReadAt(b, int64(addr-p.Vaddr))
		if err != nil && err != io.EOF {
			return nil, err
		}
		return b[:m], nil
	}
	return nil, errors.New("not in any PT_LOAD")
}

// symEntSize is the size of an Elf64_Sym.
const symEntSize = 24

// rawSyms iterates over the Elf64_Sym entries of section name, calling fn
// with each defined STT_FUNC or STT_GNU_IFUNC symbol. It reads the table
// directly (debug/elf's Symbols would also decode every name).
func rawSyms(f *elf.File, name string, fn func(value, size uint64)) error {
	s := f.Section(name)
	if s == nil || s.Type == elf.SHT_NOBITS {
		return nil
	}
	b, err := sectionData(s)
	if err != nil {
		return err
	}
	for off := symEntSize; off+symEntSize <= len(b); off += symEntSize { // entry 0 is the null symbol
		e := b[off : off+symEntSize]
		typ := elf.ST_TYPE(e[4])
		shndx := elf.SectionIndex(binary.LittleEndian.Uint16(e[6:]))
		if typ != elf.STT_FUNC && typ != elf.STT_GNU_IFUNC || shndx == elf.SHN_UNDEF || shndx >= elf.SHN_LORESERVE {
			continue
		}
		value := binary.LittleEndian.Uint64(e[8:])
		if value == 0 {
			continue
		}
		fn(value, binary.LittleEndian.Uint64(e[16:]))
	}
	return nil
}

// goFuncRanges returns the functions of a Go binary's .gopclntab, when the
// binary has no .symtab (which would list them all already).
func goFuncRanges(f *elf.File) (out []Range, err error) {
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil || pcln.Type == elf.SHT_NOBITS || f.Section(".symtab") != nil {
		return nil, nil
	}
	defer func() {
		// debug/gosym trusts its input more than a parser of untrusted
		// files should.
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("parse .gopclntab: %v", r)
		}
	}()
	data, err := sectionData(pcln)
	if err != nil {
		return nil, err
	}
	var symtab []byte
	if s := f.Section(".gosymtab"); s != nil && s.Type != elf.SHT_NOBITS {
		symtab, _ = sectionData(s)
	}
	tab, err := gosym.NewTable(symtab, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return nil, fmt.Errorf("parse .gopclntab: %w", err)
	}
	for _, fn := range tab.Funcs {
		if fn.End > fn.Entry {
			out = append(out, Range{fn.Entry, fn.End})
		}
	}
	return out, nil
}
