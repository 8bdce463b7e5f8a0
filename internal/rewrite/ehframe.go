package rewrite

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrEHFrame is matched (with errors.Is) by errors that report a malformed
// .eh_frame or .eh_frame_hdr. FunctionRanges still returns the ranges it
// found before the damage together with such an error.
var ErrEHFrame = errors.New("malformed .eh_frame")

// DWARF exception-header pointer encodings (DW_EH_PE_*), as used by the
// 'R' (FDE addresses), 'P' and 'L' augmentations and by .eh_frame_hdr.
const (
	peAbsptr  = 0x00
	peUleb128 = 0x01
	peUdata2  = 0x02
	peUdata4  = 0x03
	peUdata8  = 0x04
	peSleb128 = 0x09
	peSdata2  = 0x0a
	peSdata4  = 0x0b
	peSdata8  = 0x0c

	pePcrel   = 0x10
	peTextrel = 0x20
	peDatarel = 0x30
	peFuncrel = 0x40
	peAligned = 0x50

	peIndirect = 0x80
	peOmit     = 0xff
)

// fdeRange is the code range one FDE describes (link-time addresses).
type fdeRange struct {
	Range
	signal bool // its CIE has the 'S' augmentation: a signal trampoline
}

// ehBases holds the addresses the relative pointer encodings are relative to.
type ehBases struct {
	section uint64 // link-time address of the first byte of the data (for pcrel)
	text    uint64 // .text (textrel)
	data    uint64 // .got (datarel in .eh_frame) or .eh_frame_hdr (datarel in it)
}

// ehReader is a bounds-checked little-endian cursor. Every read past the end
// sets err and returns zero.
type ehReader struct {
	b   []byte
	off int
	err error
}

func (r *ehReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: at offset %#x: %s", ErrEHFrame, r.off, fmt.Sprintf(format, args...))
	}
}

func (r *ehReader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || r.off < 0 || r.off > len(r.b) || len(r.b)-r.off < n {
		r.fail("truncated (%d bytes needed)", n)
		return false
	}
	return true
}

func (r *ehReader) u8() uint8 {
	if !r.need(1) {
		return 0
	}
	v := r.b[r.off]
	r.off++
	return v
}

func (r *ehReader) u16() uint16 {
	if !r.need(2) {
		return 0
	}
	v := binary.LittleEndian.Uint16(r.b[r.off:])
	r.off += 2
	return v
}

func (r *ehReader) u32() uint32 {
	if !r.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *ehReader) u64() uint64 {
	if !r.need(8) {
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v
}

func (r *ehReader) uleb() uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		b := r.u8()
		if r.err != nil {
			return 0
		}
		if shift < 64 {
			v |= uint64(b&0x7f) << shift
		}
		if b&0x80 == 0 {
			return v
		}
	}
}

func (r *ehReader) sleb() int64 {
	var v int64
	var shift uint
	for {
		b := r.u8()
		if r.err != nil {
			return 0
		}
		if shift < 64 {
			v |= int64(b&0x7f) << shift
		}
		shift += 7
		if b&0x80 == 0 {
			if shift < 64 && b&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
}

func (r *ehReader) cstring() string {
	for i := r.off; r.err == nil && i < len(r.b); i++ {
		if r.b[i] == 0 {
			s := string(r.b[r.off:i])
			r.off = i + 1
			return s
		}
	}
	r.fail("unterminated string")
	return ""
}

// pointer reads a pointer in encoding enc. ok is false for an encoding it
// cannot resolve (indirect, funcrel, omit, unknown): the value is skipped
// when its size is known, and err is set when it is not.
func (r *ehReader) pointer(enc uint8, bases ehBases) (v uint64, ok bool) {
	if enc == peOmit {
		return 0, false
	}
	at := bases.section + uint64(r.off) // address of the field, for pcrel
	if enc&0x70 == peAligned {
		if pad := int((8 - (bases.section+uint64(r.off))%8) % 8); r.need(pad) {
			r.off += pad
		}
		at = bases.section + uint64(r.off)
	}
	switch enc & 0x0f {
	case peAbsptr, peUdata8:
		v = r.u64()
	case peUleb128:
		v = r.uleb()
	case peUdata2:
		v = uint64(r.u16())
	case peUdata4:
		v = uint64(r.u32())
	case peSleb128:
		v = uint64(r.sleb())
	case peSdata2:
		v = uint64(int64(int16(r.u16())))
	case peSdata4:
		v = uint64(int64(int32(r.u32())))
	case peSdata8:
		v = r.u64()
	default:
		r.fail("unknown pointer encoding %#x", enc)
		return 0, false
	}
	if r.err != nil {
		return 0, false
	}
	switch enc & 0x70 {
	case peAbsptr, peAligned:
	case pePcrel:
		v += at
	case peTextrel:
		v += bases.text
	case peDatarel:
		v += bases.data
	default: // funcrel and the undefined 0x60, 0x70
		return 0, false
	}
	if enc&peIndirect != 0 {
		return 0, false // the pointer is stored elsewhere: we cannot read it here
	}
	return v, true
}

// cie is the part of a Common Information Entry an FDE needs.
type cie struct {
	fdeEnc    uint8 // 'R'
	lsdaAug   bool  // 'L': FDEs carry an LSDA pointer in their augmentation data
	hasAugLen bool  // 'z': FDEs have an augmentation length
	signal    bool  // 'S'
	err       error
}

// parseCIE decodes the CIE whose id field is at off (after the length).
func parseCIE(b []byte, off, end int, bases ehBases) *cie {
	c := &cie{fdeEnc: peAbsptr}
	r := &ehReader{b: b[:end], off: off + 4}
	version := r.u8()
	if r.err == nil && version != 1 && version != 3 && version != 4 {
		r.fail("CIE version %d", version)
	}
	aug := r.cstring()
	if version == 4 {
		if addrSize := r.u8(); r.err == nil && addrSize != 8 {
			r.fail("CIE address size %d", addrSize)
		}
		r.u8() // segment selector size
	}
	r.uleb() // code alignment
	r.sleb() // data alignment
	if version == 1 {
		r.u8()
	} else {
		r.uleb() // return address register
	}
	if r.err == nil && aug != "" {
		if aug[0] != 'z' {
			r.fail("unsupported CIE augmentation %q", aug)
		} else {
			c.hasAugLen = true
			n := r.uleb()
			augEnd := r.off + int(min(n, uint64(len(b))))
			if r.err == nil && (n > uint64(len(b)) || augEnd > end) {
				r.fail("CIE augmentation data of %d bytes overruns the CIE", n)
			}
			for _, ch := range aug[1:] {
				if r.err != nil {
					break
				}
				switch ch {
				case 'R':
					c.fdeEnc = r.u8()
				case 'L':
					r.u8()
					c.lsdaAug = true
				case 'P':
					r.pointer(r.u8(), bases)
				case 'S':
					c.signal = true
				case 'B', 'G': // AArch64 BTI, MTE: no data
				default:
					// Unknown letters: z gives the length, but we do not know
					// whether R follows it. Refuse the CIE.
					r.fail("unknown CIE augmentation %q in %q", ch, aug)
				}
			}
		}
	}
	c.err = r.err
	return c
}

// parseEHFrame parses .eh_frame data (whose first byte is at link-time
// address bases.section) and returns the range of every FDE it could
// decode. It stops at a zero terminator or the end of the data. A
// malformed record length ends the walk (the following lengths can no
// longer be trusted); an FDE whose CIE is malformed or whose address
// cannot be resolved (an indirect or function-relative encoding) is
// skipped and counted. The error, if any, matches ErrEHFrame and describes
// the first problem; the FDEs found are returned with it.
func parseEHFrame(b []byte, bases ehBases) (out []fdeRange, skipped int, err error) {
	var cieErr error // the first problem of a record that was skipped
	defer func() {
		if err == nil && skipped > 0 && cieErr != nil {
			err = fmt.Errorf("%d FDEs skipped: %w", skipped, cieErr)
		}
	}()
	cies := map[int]*cie{}
	for off := 0; off < len(b); {
		r := &ehReader{b: b, off: off}
		length := uint64(r.u32())
		if r.err != nil {
			return out, skipped, r.err
		}
		if length == 0 {
			break // terminator
		}
		if length == 0xffffffff {
			length = r.u64() // 64-bit DWARF
		}
		body := r.off
		switch {
		case r.err != nil:
		case length > uint64(len(b)-body):
			r.fail("record length %#x overruns the section (%#x bytes left)", length, len(b)-body)
		case length < 4:
			r.fail("record length %#x is too short for an id", length)
		}
		if r.err != nil {
			return out, skipped, r.err
		}
		end := body + int(length)
		id := r.u32()
		if id == 0 {
			off = end
			continue // a CIE: parsed when an FDE refers to it
		}
		// The CIE pointer is the distance back from the id field.
		cieAt := body - int(id)
		if int64(id) > int64(body) {
			skipped++
			off = end
			continue
		}
		c, ok := cies[cieAt]
		if !ok {
			c = parseCIEAt(b, cieAt, bases)
			cies[cieAt] = c
		}
		if c.err != nil {
			if cieErr == nil {
				cieErr = c.err
			}
			skipped++
			off = end
			continue
		}
		r.b = b[:end]
		start, ok1 := r.pointer(c.fdeEnc, bases)
		size, ok2 := r.pointer(c.fdeEnc&0x0f, bases)
		if r.err != nil || !ok1 || !ok2 || size == 0 || start+size < start {
			if r.err != nil && cieErr == nil {
				cieErr = r.err
			}
			skipped++
			off = end
			continue
		}
		out = append(out, fdeRange{Range{start, start + size}, c.signal})
		off = end
	}
	return out, skipped, nil
}

// parseCIEAt parses the CIE record whose length field is at off.
func parseCIEAt(b []byte, off int, bases ehBases) *cie {
	r := &ehReader{b: b, off: off}
	length := uint64(r.u32())
	if length == 0xffffffff {
		length = r.u64()
	}
	body := r.off
	if r.err == nil && (length < 4 || length > uint64(len(b)-body)) {
		r.fail("CIE length %#x overruns the section", length)
	}
	if r.err == nil && binary.LittleEndian.Uint32(b[body:]) != 0 {
		r.fail("FDE points at %#x, which is not a CIE", off)
	}
	if r.err != nil {
		return &cie{err: r.err}
	}
	return parseCIE(b, body, body+int(length), bases)
}
