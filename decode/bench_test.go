package decode_test

import (
	"testing"

	"github.com/zpoline-go/zpoline/decode"
)

// The formatter runs in the tracer, once per record: these measure its cost per line.

func BenchmarkFormatOpenat(b *testing.B) {
	c := C("openat", 3, atFdcwd, 0x1000, 0x80000).In(1, cstr("/usr/lib/x86_64-linux-gnu/libc.so.6")).c
	b.ReportAllocs()
	for b.Loop() {
		decode.Format(c, decode.Options{})
	}
}

func BenchmarkFormatRead(b *testing.B) {
	c := C("read", 832, 3, 0x1000, 832).Out(1, pad([]byte("\x7fELF\x02\x01\x01\x03"), 33)).c
	b.ReportAllocs()
	for b.Loop() {
		decode.Format(c, decode.Options{})
	}
}

func BenchmarkFormatGetppid(b *testing.B) {
	c := C("getppid", 1).c
	b.ReportAllocs()
	for b.Loop() {
		decode.Format(c, decode.Options{})
	}
}

func BenchmarkSetHas(b *testing.B) {
	s, err := decode.ParseTraceSet("%file,read,write")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s.Has(257)
	}
}

func BenchmarkAppendFormatRead(b *testing.B) {
	c := C("read", 832, 3, 0x1000, 832).Out(1, pad([]byte("\x7fELF\x02\x01\x01\x03"), 33)).c
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = decode.AppendFormat(buf[:0], &c, decode.Options{})
	}
}

func BenchmarkAppendFormatGetppid(b *testing.B) {
	c := C("getppid", 1).c
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = decode.AppendFormat(buf[:0], &c, decode.Options{})
	}
}
