// Command gen-systab-h writes the C header zp_systab.h (system call and errno names for
// zpoline-go's C code) from the tables embedded in package systab.
//
// Usage:
//
//	go run ./internal/systab/cmd/gen-systab-h -o build/gen/zp_systab.h
//
// Without -o it writes to standard output. With -o it writes a temporary file in the
// same directory and renames it into place, so a build never sees a partial header.
// The directory must exist.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zpoline-go/zpoline/internal/systab"
)

func main() {
	out := flag.String("o", "", "output file (default: standard output)")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: gen-systab-h [-o FILE]")
		os.Exit(2)
	}
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen-systab-h:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	var buf bytes.Buffer
	if err := systab.WriteCHeader(&buf); err != nil {
		return fmt.Errorf("generate header: %w", err)
	}
	if out == "" {
		_, err := os.Stdout.Write(buf.Bytes())
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".zp_systab-*.h")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("rename to %s: %w", out, err)
	}
	return nil
}
