package decode

import (
	"math/rand"
	"reflect"
	"testing"
)

// TestCaptureRulesMatchCaptures evaluates the rules on random calls of every number and
// compares the copies with what Captures asks for: the C recorder of `zpoline trace`
// copies by these rules, the decoder formats by Captures.
func TestCaptureRulesMatchCaptures(t *testing.T) {
	byNr := map[int64][]CaptureRule{}
	for _, r := range CaptureRules() {
		byNr[r.Nr] = append(byNr[r.Nr], r)
	}
	if len(byNr) < 150 {
		t.Fatalf("rules for only %d calls", len(byNr))
	}
	rng := rand.New(rand.NewSource(1))
	interesting := []uint64{0, 1, 2, 3, 4, 5, 6, 7, 9, 11, 13, 15, 16, 36, 37, 38, 100, 128, 129, 4095, 4096,
		1 << 20, 1<<20 + 1, 0x1003, 0x1004, 0x80, 0x89, 0x100000, 0x1000, tiocgwinsz, tiocswinsz, fionread,
		fionbio, tiocgpgrp, tiocspgrp, 0xffffffff, 1 << 40, ^uint64(0), 0x7ffd0000}
	pick := func() uint64 {
		if rng.Intn(3) == 0 {
			return rng.Uint64() >> uint(rng.Intn(64))
		}
		return interesting[rng.Intn(len(interesting))]
	}
	checked := 0
	for nr := int64(0); nr < 512; nr++ {
		if lookupSig(nr) == nil {
			continue
		}
		for i := 0; i < 3000; i++ {
			c := &Call{Nr: nr, Done: true}
			for j := range c.Args {
				c.Args[j] = pick()
			}
			switch rng.Intn(4) {
			case 0:
				c.Ret = -int64(rng.Intn(4096))
			case 1:
				c.Ret = int64(pick())
			default:
				c.Ret = int64(rng.Intn(70000))
			}
			for _, p := range []Phase{Entry, Exit} {
				want := Captures(c, p)
				var got []Capture
				for _, r := range byNr[nr] {
					if r.Phase != p {
						continue
					}
					if cp, ok := r.Eval(c); ok {
						got = append(got, cp)
					}
				}
				if !reflect.DeepEqual(want, got) {
					t.Fatalf("%s args %#x ret %d %v: Captures %+v, rules %+v", Name(nr), c.Args, c.Ret, p, want, got)
				}
				checked++
			}
		}
	}
	t.Logf("%d calls compared", checked)
}
