package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zpoline-go/zpoline/internal/systab"
)

func TestRunWritesHeader(t *testing.T) {
	out := filepath.Join(t.TempDir(), "zp_systab.h")
	if err := run(out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := systab.WriteCHeader(&want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("written header differs from WriteCHeader")
	}
	// Rewritten over an existing file (make's timestamps then follow the inputs).
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(out, old, old); err != nil {
		t.Fatal(err)
	}
	if err := run(out); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(out); err != nil || st.ModTime().Equal(old) {
		t.Fatalf("header not rewritten (%v)", err)
	}
	ents, _ := os.ReadDir(filepath.Dir(out))
	if len(ents) != 1 {
		t.Fatalf("temporary files left behind: %v", ents)
	}
	if err := run(filepath.Join(t.TempDir(), "missing", "x.h")); err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
}
