package decode

import "strconv"

// wbuf is the buffer the formatters append to. Unlike strings.Builder it can be reused
// after its text is taken, so a pooled printer formats without allocating.
type wbuf []byte

// WriteString appends s.
func (b *wbuf) WriteString(s string) { *b = append(*b, s...) }

// WriteByte appends c. It never fails; the error is there for io.ByteWriter's
// signature.
func (b *wbuf) WriteByte(c byte) error { *b = append(*b, c); return nil }

// String returns a copy of the text.
func (b *wbuf) String() string { return string(*b) }

// Len returns the length of the text.
func (b *wbuf) Len() int { return len(*b) }

// wInt appends v in decimal.
func wInt(b *wbuf, v int64) { *b = strconv.AppendInt(*b, v, 10) }

// wUint appends v in decimal.
func wUint(b *wbuf, v uint64) { *b = strconv.AppendUint(*b, v, 10) }

// writeHex writes v as strace's %#lx: "0" for zero, else "0x..." in lower case.
func writeHex(b *wbuf, v uint64) {
	if v == 0 {
		b.WriteByte('0')
		return
	}
	b.WriteString("0x")
	*b = strconv.AppendUint(*b, v, 16)
}

// writeOct writes v as strace's %#03o: "000", "0644", "04755".
func writeOct(b *wbuf, v uint64) {
	b.WriteByte('0')
	if v < 0o10 {
		b.WriteByte('0')
	}
	*b = strconv.AppendUint(*b, v, 8)
}
