package rewrite_test

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"

	"github.com/zpoline-go/zpoline/internal/procmaps"
	"github.com/zpoline-go/zpoline/internal/rewrite"
)

// The loader's use: for each executable mapping, read its bytes and its
// ELF image (for the vDSO, the bytes themselves), and scan.
func ExampleScanMapping() {
	maps, err := procmaps.Self()
	if err != nil {
		panic(err)
	}
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		panic(err)
	}
	defer mem.Close()
	for _, m := range maps {
		if !m.Exec || m.Path != "[vdso]" {
			continue
		}
		b := make([]byte, m.Size())
		if _, err := mem.ReadAt(b, int64(m.Start)); err != nil {
			panic(err)
		}
		f, err := elf.NewFile(bytes.NewReader(b)) // the vDSO is a complete ELF image
		if err != nil {
			panic(err)
		}
		sites, st, err := rewrite.ScanMapping(m, b, f)
		if err != nil {
			panic(err)
		}
		for _, s := range sites {
			fmt.Printf("%s+%#x: %s, %s\n", m.Path, s.Addr-m.Start, s.Insn, s.Shape)
		}
		for _, r := range st.Rejects {
			fmt.Println("skipped:", r)
		}
		fmt.Println(st)
	}
}
