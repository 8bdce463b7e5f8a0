package decode

import (
	"bytes"
)

// quote writes data between double quotes with strace's escaping: \" \\ \f \n \r \t \v
// by name, other non-printable bytes in octal (three digits when the next byte is an
// octal digit, as few as needed otherwise), or every byte as \xNN when hex is set.
func quote(b *wbuf, data []byte, hex bool) {
	const digits = "0123456789abcdef"
	b.WriteByte('"')
	if hex {
		for _, c := range data {
			b.WriteString(`\x`)
			b.WriteByte(digits[c>>4])
			b.WriteByte(digits[c&15])
		}
		b.WriteByte('"')
		return
	}
	for i, c := range data {
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\v':
			b.WriteString(`\v`)
		default:
			if c >= ' ' && c < 0x7f {
				b.WriteByte(c)
				continue
			}
			b.WriteByte('\\')
			if i+1 < len(data) && data[i+1] >= '0' && data[i+1] <= '7' {
				b.WriteByte('0' + c>>6)
				b.WriteByte('0' + (c>>3)&7)
			} else {
				if c>>3 != 0 {
					if c>>6 != 0 {
						b.WriteByte('0' + c>>6)
					}
					b.WriteByte('0' + (c>>3)&7)
				}
			}
			b.WriteByte('0' + c&7)
		}
	}
	b.WriteByte('"')
}

// writeBuf writes a buffer of full length n of which data was copied, as strace's
// printstr: at most max bytes, then "..." if the buffer is longer than max or the copy
// is shorter than what would be printed.
func writeBuf(b *wbuf, data []byte, n uint64, max int, hex bool) {
	show := uint64(max)
	if n < show {
		show = n
	}
	trunc := n > uint64(max)
	if uint64(len(data)) < show {
		show = uint64(len(data))
		trunc = true
	}
	quote(b, data[:show], hex)
	if trunc {
		b.WriteString("...")
	}
}

// cstring splits a copy of a NUL-terminated string: the bytes before the NUL and
// whether the NUL was copied (the string is complete).
func cstring(data []byte) ([]byte, bool) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return data[:i], true
	}
	return data, false
}

// writeCString writes a NUL-terminated string limited to max bytes (max < 0: no limit,
// for paths), with "..." when it is longer or its copy has no NUL.
func writeCString(b *wbuf, data []byte, max int) {
	s, complete := cstring(data)
	if max >= 0 && len(s) > max {
		quote(b, s[:max], false)
		b.WriteString("...")
		return
	}
	quote(b, s, false)
	if !complete {
		b.WriteString("...")
	}
}
