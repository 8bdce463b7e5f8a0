package decode

import "sort"

// SizeSrc says where a CaptureRule takes the size (or count) of its copy from.
type SizeSrc uint8

// The size sources of capture rules.
const (
	SizeConst   SizeSrc = iota // Max
	SizeArg                    // Args[SrcArg]
	SizeRet                    // the result
	SizeFdset                  // the bytes of an fd_set of Args[SrcArg] descriptors, in whole longs
	SizeMincore                // (Args[SrcArg] + 4095) / 4096: one byte per page
)

// CaptureRule is Captures written as data, for a recorder that cannot call Go (the C
// recorder of `zpoline trace` gets them as a generated table). A rule applies to calls
// of number Nr when its condition holds; Eval gives the Capture it stands for, and
// CaptureRules lists, for every call and both phases, rules whose results are exactly
// what Captures returns (TestCaptureRulesMatchCaptures checks it on random calls).
type CaptureRule struct {
	Nr    int64
	Arg   int // the argument holding the pointer
	Phase Phase
	How   How
	Data  bool
	// The condition: CondArg < 0 always holds; otherwise Args[CondArg]&CondMask must
	// equal CondVal, or with CondAny be nonzero.
	CondArg  int
	CondMask uint64
	CondVal  uint64
	CondAny  bool
	RetPos   bool // only when the result is > 0
	// The size (Fixed, CString) or count (Iovecs): the source value, at most BaseMax
	// (after the 1 MiB clamp every length gets), times Mult, at most Max. Strings
	// copies use Count.
	Src     SizeSrc
	SrcArg  int
	BaseMax int
	Mult    int
	Max     int
	Count   int // Strings: -1 all strings, 0 only the count
}

// Eval returns the capture the rule stands for in call c, or false when the rule does
// not apply (its condition fails, the pointer is NULL, the size is 0, or at exit the
// call failed).
func (r CaptureRule) Eval(c *Call) (Capture, bool) {
	if c.Args[r.Arg] == 0 || (r.Phase == Exit && !c.ok()) {
		return Capture{}, false
	}
	if r.CondArg >= 0 {
		v := c.Args[r.CondArg] & r.CondMask
		if (r.CondAny && v == 0) || (!r.CondAny && v != r.CondVal) {
			return Capture{}, false
		}
	}
	if r.RetPos && c.Ret <= 0 {
		return Capture{}, false
	}
	var v int
	switch r.Src {
	case SizeConst:
		v = r.Max
	case SizeArg:
		v = clampInt(c.Args[r.SrcArg])
	case SizeRet:
		v = clampInt(uint64(c.Ret))
	case SizeFdset:
		v = fdsetBytes(c.Args[r.SrcArg])
	case SizeMincore:
		v = clampInt((c.Args[r.SrcArg] + 4095) / 4096)
	}
	v = min(v, r.BaseMax) * r.Mult
	v = min(v, r.Max)
	cp := Capture{Arg: r.Arg, Phase: r.Phase, How: r.How, Data: r.Data}
	switch r.How {
	case Fixed:
		if v <= 0 {
			return Capture{}, false
		}
		cp.Size = min(v, maxCopy)
	case CString:
		cp.Size = min(v, maxCopy)
	case Iovecs:
		cp.Count = v
	case Strings:
		cp.Count = r.Count
	}
	return cp, true
}

// CaptureRules returns the rules of every call with a signature, ordered by number,
// then phase, then in the order Captures lists the copies.
func CaptureRules() []CaptureRule {
	var rules []CaptureRule
	t := table()
	for nr := range t {
		if t[nr] == nil {
			continue
		}
		for _, p := range []Phase{Entry, Exit} {
			rules = append(rules, rulesOf(int64(nr), t[nr], p)...)
		}
	}
	sort.SliceStable(rules, func(i, j int) bool {
		if rules[i].Nr != rules[j].Nr {
			return rules[i].Nr < rules[j].Nr
		}
		return rules[i].Phase < rules[j].Phase
	})
	return rules
}

// rulesOf mirrors Captures for one signature and phase.
func rulesOf(nr int64, s *sig, p Phase) []CaptureRule {
	var rules []CaptureRule
	base := CaptureRule{Nr: nr, Phase: p, CondArg: -1, BaseMax: maxCopy, Mult: 1, Max: maxCopy}
	add := func(r CaptureRule) { rules = append(rules, r) }
	fixed := func(i int, size int, data bool) CaptureRule {
		r := base
		r.Arg, r.How, r.Data, r.Src, r.Max = i, Fixed, data, SizeConst, size
		return r
	}
	fromArg := func(i int, how How, n int, bmax, mult int, data bool) CaptureRule {
		r := base
		r.Arg, r.How, r.Data, r.Src, r.SrcArg, r.BaseMax, r.Mult = i, how, data, SizeArg, n, bmax, mult
		return r
	}
	fromRet := func(i int, mult int, data bool) CaptureRule {
		r := base
		r.Arg, r.How, r.Data, r.Src, r.Mult = i, Fixed, data, SizeRet, mult
		return r
	}
	cond := func(r CaptureRule, arg int, mask, val uint64) CaptureRule {
		r.CondArg, r.CondMask, r.CondVal = arg, mask, val
		return r
	}
	if s.fn != nil {
		switch Name(nr) {
		case "futex":
			if p == Entry {
				for _, cmd := range []uint64{0, 9, 6, 13, 11} {
					add(cond(fixed(3, sizeTimespec, false), 1, ^uint64(futexPrivate|futexRealtime), cmd))
				}
			}
		case "prctl":
			switch p {
			case Entry:
				r := fixed(1, 16, true)
				r.How = CString
				add(cond(r, 0, 0xffffffff, prSetName))
			case Exit:
				r := fixed(1, 16, true)
				r.How = CString
				add(cond(r, 0, 0xffffffff, prGetName))
				add(cond(fixed(1, 4, false), 0, 0xffffffff, prGetPdeathsig))
			}
		case "arch_prctl":
			if p == Exit {
				add(cond(fixed(1, 8, false), 0, 0xffffffff, 0x1003))
				add(cond(fixed(1, 8, false), 0, 0xffffffff, 0x1004))
			}
		case "clone":
			if p == Exit {
				r := cond(fixed(2, 4, false), 0, 0x100000|0x1000, 0)
				r.CondAny = true
				add(r)
			}
		}
		return rules
	}
	for i, a := range s.args {
		if i >= 6 {
			break
		}
		want := (p == Entry && a.dir&dirIn != 0) || (p == Exit && a.dir&dirOut != 0)
		if !want && a.kind != KindFcntlArg && a.kind != KindIoctlArg {
			continue
		}
		n := int(a.n)
		hasN := a.n >= 0 && a.n < 6
		nArg := func(how How, bmax, mult int, data bool) {
			if !hasN {
				// n() is 0: Fixed copies of size 0 are never made; others get 0.
				if how != Fixed {
					r := fixed(i, 0, data)
					r.How = how
					add(r)
				}
				return
			}
			add(fromArg(i, how, n, bmax, mult, data))
		}
		switch a.kind {
		case KindPath, KindString:
			r := fixed(i, maxPath, a.kind == KindString)
			r.How = CString
			add(r)
		case KindStrOut:
			add(fromArg(i, CString, 1, maxPath, 1, false))
		case KindBufIn:
			nArg(Fixed, maxCopy, 1, true)
		case KindBufOut, KindRandomOut:
			add(fromRet(i, 1, true))
		case KindSigset:
			if a.n >= 0 {
				nArg(Fixed, 128, 1, false)
			} else {
				add(fixed(i, sizeSigset, false))
			}
		case KindSockaddr:
			if p == Entry {
				nArg(Fixed, sizeSockaddr, 1, false)
			} else {
				add(fixed(i, sizeSockaddr, false))
			}
		case KindSockOptVal:
			if p == Entry {
				nArg(Fixed, maxCopy, 1, true)
			} else {
				add(fixed(i, 256, true))
			}
		case KindPollfds:
			nArg(Fixed, maxIovecs, sizePollfd, false)
		case KindFdset:
			r := base
			r.Arg, r.How, r.Src, r.SrcArg = i, Fixed, SizeFdset, 0
			add(r)
		case KindIovec:
			nArg(Iovecs, maxIovecs, 1, true)
		case KindArgv, KindEnvp:
			r := base
			r.Arg, r.How, r.Data, r.Count = i, Strings, true, 0
			if a.kind == KindArgv {
				r.Count = -1
			}
			add(r)
		case KindEpollEvents:
			add(fromRet(i, sizeEpollEvent, false))
		case KindCPUMask:
			if p == Entry {
				nArg(Fixed, maxCopy, 1, false)
			} else {
				add(fromRet(i, 1, false))
			}
		case KindDirents:
			add(fromRet(i, 1, false))
		case KindMincoreVec:
			r := base
			r.Arg, r.How, r.Src, r.SrcArg = i, Fixed, SizeMincore, 1
			add(r)
		case KindWaitStatus:
			r := fixed(i, 4, false)
			r.RetPos = true
			add(r)
		case KindOpenHow:
			nArg(Fixed, sizeOpenHow, 1, false)
		case KindCloneArgs:
			nArg(Fixed, sizeCloneArgs, 1, false)
		case KindFcntlArg:
			if p == Entry {
				for _, c := range []uint64{6, 7, 37, 38} {
					add(cond(fixed(i, sizeFlock, false), 1, 0xffffffff, c))
				}
			}
			for _, c := range []uint64{5, 36} {
				add(cond(fixed(i, sizeFlock, false), 1, 0xffffffff, c))
			}
		case KindIoctlArg:
			if p == Exit {
				add(cond(fixed(i, sizeWinsize, false), 1, 0xffffffff, tiocgwinsz))
				add(cond(fixed(i, 4, false), 1, 0xffffffff, fionread))
				add(cond(fixed(i, 4, false), 1, 0xffffffff, tiocgpgrp))
			} else {
				add(cond(fixed(i, sizeWinsize, false), 1, 0xffffffff, tiocswinsz))
				add(cond(fixed(i, 4, false), 1, 0xffffffff, fionbio))
				add(cond(fixed(i, 4, false), 1, 0xffffffff, tiocspgrp))
			}
		default:
			if sz := structSize(a.kind); sz > 0 {
				add(fixed(i, sz, false))
			}
		}
	}
	return rules
}
