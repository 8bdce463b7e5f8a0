package rewrite

import (
	"debug/elf"
	"os"
	"testing"
	"time"

	"golang.org/x/arch/x86/x86asm"
)

const libcPath = "/usr/lib/x86_64-linux-gnu/libc.so.6"

// loadImage reads path and returns its ELF file, the mappings of its
// executable segments at a typical shared-library bias, and their bytes.
func loadImage(tb testing.TB, path string) (f *elf.File, img *Image, raw []byte) {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Skip(err)
	}
	f, err = elf.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	img, err = NewImage(f)
	if err != nil {
		tb.Fatal(err)
	}
	return f, img, raw
}

// BenchmarkScanMapping measures site discovery over libc's text mapping
// (MB/s of mapping scanned). The full-sweep sub-benchmark is the baseline
// it avoids: x86asm over every byte of the executable sections.
func BenchmarkScanMapping(b *testing.B) {
	f, img, raw := loadImage(b, libcPath)
	ms, mems := fileMappings(b, f, raw, 0x7f3a12340000)
	m, mem := ms[0], mems[0]

	b.Run("cached-image", func(b *testing.B) {
		b.SetBytes(int64(len(mem)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := img.ScanMapping(m, mem); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("with-function-ranges", func(b *testing.B) {
		b.SetBytes(int64(len(mem)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := ScanMapping(m, mem, f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("function-ranges-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := FunctionRanges(f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("full-sweep-baseline", func(b *testing.B) {
		b.SetBytes(int64(len(mem)))
		for b.Loop() {
			n := 0
			for _, t := range img.Text {
				code := raw[t.Start:t.End] // libc: link-time address == file offset
				for pos := 0; pos < len(code); {
					inst, err := x86asm.Decode(code[pos:min(pos+15, len(code))], 64)
					if err != nil {
						pos++
						continue
					}
					if inst.Op == x86asm.SYSCALL {
						n++
					}
					pos += inst.Len
				}
			}
			if n == 0 {
				b.Fatal("no syscall in libc")
			}
		}
	})
}

// TestScanTimes logs the time to scan each image of the accuracy corpus
// (best of 5, image preparation and scan separately). Informational: it
// fails only if a scan fails.
func TestScanTimes(t *testing.T) {
	for _, tc := range accuracyCorpus {
		f, _, raw := loadImage(t, tc.path)
		ms, mems := fileMappings(t, f, raw, 0x7f3a12340000)
		best := func(fn func()) time.Duration {
			d := time.Duration(1 << 62)
			for range 5 {
				t0 := time.Now()
				fn()
				d = min(d, time.Since(t0))
			}
			return d
		}
		var img *Image
		dImage := best(func() {
			var err error
			if img, err = NewImage(f); err != nil {
				t.Fatal(err)
			}
		})
		var st Stats
		dScan := best(func() {
			st = Stats{}
			for i, m := range ms {
				_, s, err := img.ScanMapping(m, mems[i])
				if err != nil {
					t.Fatal(err)
				}
				st.add(s)
			}
		})
		t.Logf("%-40s %6.2f MB text: NewImage %8v + scan %8v = %8v (%4.0f MB/s); %d sites, %d bytes decoded",
			tc.path, float64(st.BytesExamined)/1e6, dImage.Round(time.Microsecond), dScan.Round(time.Microsecond),
			(dImage + dScan).Round(time.Microsecond), float64(st.BytesExamined)/(dImage+dScan).Seconds()/1e6, st.Sites, st.BytesDecoded)
	}
}
