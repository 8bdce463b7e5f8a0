package rewrite

import (
	"debug/elf"
	"errors"
	"fmt"

	"github.com/zpoline-go/zpoline/internal/procmaps"
)

// ErrNoSegment is returned when no PT_LOAD of the ELF image holds the
// mapping's file offset: the file is not the one that was mapped there.
var ErrNoSegment = errors.New("no PT_LOAD segment contains the mapping's file offset")

// pageSize is the granularity at which segments are mapped.
const pageSize = 4096

// Image is what site discovery needs from one ELF file, computed once
// (FunctionRanges is the costly part) and reusable for each of the file's
// executable mappings and across scans: the loader may cache it per file.
type Image struct {
	Funcs []Range // FunctionRanges, link-time addresses
	Text  []Range // ranges that hold instructions (executable sections), link-time
	Loads []elf.ProgHeader
	// Warning is the error FunctionRanges returned along with its ranges
	// (a damaged .eh_frame or symbol table), or nil. Scans still work, with
	// fewer known boundaries.
	Warning error
}

// NewImage reads the function ranges, executable sections and segments of
// f. It fails only with ErrNotX86_64; damage to .eh_frame or the symbol
// tables is kept in Image.Warning.
func NewImage(f *elf.File) (*Image, error) {
	funcs, err := FunctionRanges(f)
	if errors.Is(err, ErrNotX86_64) {
		return nil, fmt.Errorf("load image: %w", err)
	}
	img := &Image{Funcs: funcs, Text: execRanges(f), Warning: err}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			img.Loads = append(img.Loads, p.ProgHeader)
		}
	}
	return img, nil
}

// Bias returns the load bias of mapping m (runtime address minus link-time
// address), from the PT_LOAD whose file range holds m's file offset
// (ErrNoSegment if none does).
func (img *Image) Bias(m procmaps.Mapping) (uint64, error) {
	for _, p := range img.Loads {
		if p.Off&^(pageSize-1) <= m.Offset && m.Offset < p.Off+p.Filesz {
			// The byte at file offset o is at link-time address p.Vaddr-p.Off+o.
			return m.Start - (p.Vaddr - p.Off + m.Offset), nil
		}
	}
	return 0, fmt.Errorf("mapping %#x-%#x at file offset %#x: %w", m.Start, m.End, m.Offset, ErrNoSegment)
}

// ScanMapping finds the sites in mem, the contents of mapping m (mem[0] is
// at m.Start; mem may be shorter than the mapping). Function ranges and
// executable sections are moved to runtime addresses with the mapping's
// load bias; bytes outside the executable sections (ELF headers that share
// the text segment, the tail of the last page) are not treated as code.
// img.Warning, if any, is copied into Stats.Warnings.
func (img *Image) ScanMapping(m procmaps.Mapping, mem []byte) ([]Site, Stats, error) {
	if uint64(len(mem)) > m.Size() {
		return nil, Stats{}, fmt.Errorf("scan mapping %#x-%#x: %d bytes of memory for a %d-byte mapping", m.Start, m.End, len(mem), m.Size())
	}
	bias, err := img.Bias(m)
	if err != nil {
		return nil, Stats{}, fmt.Errorf("scan mapping: %w", err)
	}
	lo, hi := m.Start, m.Start+uint64(len(mem))
	move := func(rs []Range) []Range {
		var out []Range
		for _, r := range rs {
			r = Range{r.Start + bias, r.End + bias}
			if r.End > lo && r.Start < hi && r.Start < r.End {
				out = append(out, r)
			}
		}
		return out
	}
	text := move(img.Text)
	if text == nil {
		text = []Range{} // no executable section here: nothing is code
	}
	sites, st := FindSitesIn(mem, m.Start, move(img.Funcs), text)
	if img.Warning != nil {
		st.Warnings = append(st.Warnings, img.Warning.Error())
	}
	return sites, st, nil
}

// ScanMapping maps an executable mapping of /proc/self/maps to its ELF
// image f (the backing file, or for the vDSO an elf.File over the mapping's
// own bytes, which are a complete image), gets its function ranges, and
// returns the sites in mem (the mapping's contents, mem[0] at m.Start) at
// runtime addresses. The load bias comes from the PT_LOAD whose file range
// contains m.Offset (ErrNoSegment if none). A damaged .eh_frame or symbol
// table is not an error: the scan runs with the ranges that could be read.
// To scan several mappings of one file, build the Image once with NewImage.
//
// Scan a file's text as one piece: if it appears as several adjacent
// mappings (same file, contiguous offsets; e.g. split by an mprotect),
// merge them first. Across a split, a site whose two bytes straddle it is
// not seen, and a function whose start lies in the other piece is decoded
// with resync windows only (its sites get ShapeCall).
func ScanMapping(m procmaps.Mapping, mem []byte, f *elf.File) ([]Site, Stats, error) {
	img, err := NewImage(f)
	if err != nil {
		return nil, Stats{}, err
	}
	return img.ScanMapping(m, mem)
}
