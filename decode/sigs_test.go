package decode

import (
	"testing"

	"github.com/zpoline-go/zpoline/internal/systab"
)

// TestSignatureNames keeps the signature and class tables in step with systab.
func TestSignatureNames(t *testing.T) {
	for name, s := range sigTable {
		sc, ok := systab.Lookup(mustNumber(t, name))
		if !ok {
			continue
		}
		if s.fn == nil && len(s.args) > sc.Args {
			t.Errorf("%s: signature has %d arguments, the kernel's %d", name, len(s.args), sc.Args)
		}
		for i, a := range s.args {
			if a.n >= int8(len(s.args)) && a.n >= 6 {
				t.Errorf("%s: argument %d takes its length from argument %d", name, i, a.n)
			}
			if (a.kind == KindBufIn || a.kind == KindIovec && a.dir == dirIn) && a.n < 0 {
				t.Errorf("%s: argument %d has no length argument", name, i)
			}
		}
	}
	for name := range classTable {
		mustNumber(t, name)
	}
}

func mustNumber(t *testing.T, name string) int64 {
	t.Helper()
	nr, ok := systab.Number(name)
	if !ok {
		t.Errorf("%q is not in the system call table", name)
	}
	return nr
}
