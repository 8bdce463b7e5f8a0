package rewrite

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"

	"golang.org/x/arch/x86/x86asm"
)

// Resync windows: how far before a candidate that no function range covers
// the fallback starts decoding. Every start must land on the candidate.
var windowBacks = [...]int{256, 192, 128, 96, 64}

// FindSites finds every syscall/sysenter instruction in code, whose first
// byte is at runtime address base, treating all of code as instructions.
// funcs are function ranges at runtime addresses (from FunctionRanges plus
// the load bias), in any order; their starts are the known instruction
// boundaries decoding starts from. Ranges that do not start inside code are
// ignored and the others are clipped to it. It never panics.
//
// The returned sites are sorted by Addr. Stats.Rejects lists the byte pairs
// that were not returned and why; Stats.Demoted lists the sites that matched
// the jump pattern but got ShapeCall, and why.
func FindSites(code []byte, base uint64, funcs []Range) ([]Site, Stats) {
	return FindSitesIn(code, base, funcs, nil)
}

// FindSitesIn is FindSites for code that holds instructions only in the
// text ranges (runtime addresses, e.g. the executable sections of an ELF
// image): candidate pairs outside them are rejected as RejectOutsideText,
// function ranges that do not start inside one are ignored, and no decoding
// or rewrite crosses a text range's end. A nil text means all of code.
func FindSitesIn(code []byte, base uint64, funcs, text []Range) ([]Site, Stats) {
	if uint64(len(code)) > ^base { // the address space ends inside code
		code = code[:^base]
	}
	s := &scan{code: code, base: base}
	s.setText(text)
	s.setFuncs(funcs)
	s.run()
	return s.sites, s.st
}

// scan holds the state of one FindSitesIn call. Positions are byte offsets
// into code.
type scan struct {
	code []byte
	base uint64
	text []span // sorted, disjoint
	// funcs holds the usable function ranges sorted by start (ties: longer
	// first); clusters groups them into runs of overlapping ranges, and
	// sweeps[i] is the (possibly partial) decoding of clusters[i].
	funcs    []span
	clusters []cluster
	sweeps   []*sweep
	sites    []Site
	jumps    []pending // sites that met the jump pattern, by address
	// hot has a bit per 1<<hotShift bytes of code, set where a jump site's
	// protected range lies: a quick filter for branch targets.
	hot []uint64
	st  Stats
}

// span is a half-open range of offsets into code.
type span struct{ lo, hi int }

// cluster is a maximal group of function ranges that overlap one another:
// it is decoded as a unit, restarting at every start in it.
type cluster struct {
	span
	first, last int // funcs[first:last]
}

// sweep is the linear decoding of one cluster from its start, as far as
// it was needed: [cluster start, pos) is decoded.
type sweep struct {
	pos      int      // next byte to decode
	next     int      // index in funcs of the next function start to meet
	starts   []int    // instruction starts, increasing
	branches []branch // direct branches (jmp, jcc, call, loop, jrcxz, xbegin)
	failed   bool     // the decoder panicked: the sweep is unusable
}

// hotShift is log2 of the block size of scan.hot.
const hotShift = 5

// branch is a direct branch at offset from to offset to (may lie outside code).
type branch struct{ from, to int64 }

// pending is a ShapeJump site whose branch checks are still to come.
type pending struct {
	site   int // index into scan.sites
	lo, hi int // the protected bytes (Start, Addr+2) as offsets: [lo, hi)
}

func (s *scan) addr(off int) uint64 { return s.base + uint64(off) }

// toSpan converts a runtime range to offsets, clipped to code. ok is false
// if nothing of it lies in code.
func (s *scan) toSpan(r Range) (sp span, ok bool) {
	lo := max(r.Start, s.base)
	hi := min(r.End, s.base+uint64(len(s.code)))
	if lo >= hi {
		return span{}, false
	}
	return span{int(lo - s.base), int(hi - s.base)}, true
}

func (s *scan) setText(text []Range) {
	if text == nil {
		s.text = []span{{0, len(s.code)}}
		return
	}
	for _, r := range text {
		if sp, ok := s.toSpan(r); ok {
			s.text = append(s.text, sp)
		}
	}
	sort.Slice(s.text, func(i, j int) bool { return s.text[i].lo < s.text[j].lo })
	out := s.text[:0]
	for _, sp := range s.text {
		if n := len(out); n > 0 && sp.lo <= out[n-1].hi {
			out[n-1].hi = max(out[n-1].hi, sp.hi)
			continue
		}
		out = append(out, sp)
	}
	s.text = out
}

// textAt returns the text span containing off.
func (s *scan) textAt(off int) (span, bool) {
	i := sort.Search(len(s.text), func(i int) bool { return s.text[i].hi > off })
	if i < len(s.text) && s.text[i].lo <= off {
		return s.text[i], true
	}
	return span{}, false
}

func (s *scan) setFuncs(funcs []Range) {
	for _, r := range funcs {
		if r.Start < s.base || r.End <= r.Start {
			continue // a start outside code is no boundary we can use
		}
		sp, ok := s.toSpan(r)
		if !ok {
			continue
		}
		t, ok := s.textAt(sp.lo)
		if !ok {
			continue
		}
		sp.hi = min(sp.hi, t.hi)
		s.funcs = append(s.funcs, sp)
	}
	slices.SortFunc(s.funcs, func(a, b span) int {
		if a.lo != b.lo {
			return a.lo - b.lo
		}
		return b.hi - a.hi
	})
	s.funcs = slices.Compact(s.funcs)
	for i := 0; i < len(s.funcs); {
		c := cluster{span: s.funcs[i], first: i}
		for i++; i < len(s.funcs) && s.funcs[i].lo < c.hi; i++ {
			c.hi = max(c.hi, s.funcs[i].hi)
		}
		c.last = i
		s.clusters = append(s.clusters, c)
	}
}

// clusterAt returns the index of the cluster holding [off, off+2), or -1.
func (s *scan) clusterAt(off int) int {
	i := sort.Search(len(s.clusters), func(i int) bool { return s.clusters[i].hi > off })
	if i < len(s.clusters) && s.clusters[i].lo <= off && off+2 <= s.clusters[i].hi {
		return i
	}
	return -1
}

// clusterEndingAt returns the index of the cluster that ends at off, or -1.
func (s *scan) clusterEndingAt(off int) int {
	i := sort.Search(len(s.clusters), func(i int) bool { return s.clusters[i].hi >= off })
	if i < len(s.clusters) && s.clusters[i].hi == off {
		return i
	}
	return -1
}

// funcStartIn reports the first function start in [lo, hi), if any.
func (s *scan) funcStartIn(lo, hi int) (int, bool) {
	i := sort.Search(len(s.funcs), func(i int) bool { return s.funcs[i].lo >= lo })
	if i < len(s.funcs) && s.funcs[i].lo < hi {
		return s.funcs[i].lo, true
	}
	return 0, false
}

// candidates returns the offsets of every 0f 05 and 0f 34 pair in code, in
// order: one IndexByte pass for the 0f escape byte, then a look at the next.
func (s *scan) candidates() []int {
	var out []int
	code := s.code
	for i := 0; i+1 < len(code); {
		j := bytes.IndexByte(code[i:len(code)-1], 0x0f)
		if j < 0 {
			break
		}
		i += j + 1
		if b := code[i]; b == 0x05 || b == 0x34 {
			out = append(out, i-1)
		}
	}
	return out
}

func (s *scan) run() {
	s.st.BytesExamined = len(s.code)
	cands := s.candidates()
	s.st.Candidates = len(cands)
	s.sweeps = make([]*sweep, len(s.clusters))
	for _, c := range cands {
		if t, ok := s.textAt(c); !ok || c+2 > t.hi {
			s.reject(c, RejectOutsideText, "not in an executable section")
			continue
		}
		if ci := s.clusterAt(c); ci >= 0 {
			if sw := s.advance(ci, c); !sw.failed {
				s.inFunction(c, ci, sw, false)
				continue
			}
		} else if ci := s.clusterEndingAt(c); ci >= 0 {
			// glibc's clone and clone3 end their CFI right before the
			// syscall, so that the child never unwinds into the parent's
			// frame: the syscall directly follows the function range. If
			// the sweep of the range ends exactly on it, it is the next
			// instruction of that function.
			if sw := s.advance(ci, c); !sw.failed && sw.pos == c {
				s.inFunction(c, ci, sw, true)
				continue
			}
		}
		s.inWindow(c)
	}
	s.checkJumps()
	for _, site := range s.sites {
		if site.Shape == ShapeJump {
			s.st.Jump++
		} else {
			s.st.Call++
		}
	}
	s.st.Sites = len(s.sites)
	s.st.Rejected = len(s.st.Rejects)
}

func (s *scan) reject(off int, k RejectKind, format string, args ...any) {
	s.st.Rejects = append(s.st.Rejects, Reject{Addr: s.addr(off), Kind: k, Reason: fmt.Sprintf(format, args...)})
}

func (s *scan) demote(site *Site, k RejectKind, format string, args ...any) {
	site.Shape, site.Start, site.Nr, site.Prefix = ShapeCall, site.Addr, -1, nil
	s.st.Demoted = append(s.st.Demoted, Reject{Addr: site.Addr, Kind: k, Reason: fmt.Sprintf(format, args...)})
}

// decodeAt decodes one instruction at off, not reading at or past limit.
// It reports false for bytes x86asm cannot decode, and recovers from a
// panic inside the decoder (reported through panicked).
func (s *scan) decodeAt(off, limit int) (inst x86asm.Inst, ok bool, panicked bool) {
	defer func() {
		if recover() != nil {
			inst, ok, panicked = x86asm.Inst{}, false, true
		}
	}()
	end := min(off+15, limit)
	inst, err := x86asm.Decode(s.code[off:end], 64)
	return inst, err == nil && inst.Len > 0 && off+inst.Len <= limit, false
}

// describe returns the GNU syntax of the instruction at off, for messages.
func (s *scan) describe(off, limit int) string {
	inst, ok, _ := s.decodeAt(off, limit)
	if !ok {
		return fmt.Sprintf("undecodable bytes % x", s.code[off:min(off+4, limit)])
	}
	return fmt.Sprintf("`%s` (% x)", x86asm.GNUSyntax(inst, s.addr(off), nil), s.code[off:off+inst.Len])
}

// advance decodes cluster ci linearly from its first start, continuing
// an earlier sweep, until the instruction that contains or starts at upTo
// has been decoded (or the cluster ends). It restarts at every function
// start the sweep steps over, and skips a byte the decoder cannot decode.
// Each cluster is thus decoded at most once, however many candidates it
// holds.
func (s *scan) advance(ci, upTo int) *sweep {
	c := s.clusters[ci]
	sw := s.sweeps[ci]
	if sw == nil {
		sw = &sweep{pos: c.lo, next: c.first + 1}
		s.sweeps[ci] = sw
		s.st.FuncsDecoded++
	}
	from := sw.pos
	for !sw.failed {
		// A known start inside the last instruction wins: restart there
		// (before deciding to stop, as it may lie at or before upTo).
		for sw.next < c.last && s.funcs[sw.next].lo <= sw.pos {
			if s.funcs[sw.next].lo < sw.pos {
				sw.pos = s.funcs[sw.next].lo
				s.st.Resyncs++
			}
			sw.next++
		}
		if sw.pos >= c.hi || sw.pos > upTo {
			break
		}
		inst, ok, panicked := s.decodeAt(sw.pos, c.hi)
		switch {
		case panicked:
			sw.failed = true
		case !ok:
			s.st.DecodeErrors++
			sw.pos++
		default:
			sw.starts = append(sw.starts, sw.pos)
			if rel, ok := relTarget(inst); ok {
				sw.branches = append(sw.branches, branch{int64(sw.pos), int64(sw.pos+inst.Len) + rel})
			}
			sw.pos += inst.Len
		}
	}
	s.st.BytesDecoded += max(sw.pos-from, 0)
	return sw
}

// relTarget returns the displacement of a direct branch (an argument of
// type Rel: jmp, jcc, call, loop*, j*cxz, xbegin).
func relTarget(inst x86asm.Inst) (int64, bool) {
	for _, a := range inst.Args {
		if a == nil {
			break
		}
		if r, ok := a.(x86asm.Rel); ok {
			return int64(r), true
		}
	}
	return 0, false
}

// insnAt reports which system-call instruction the pair at off is.
func (s *scan) insnAt(off int) Insn {
	if s.code[off+1] == 0x34 {
		return InsnSysenter
	}
	return InsnSyscall
}

// inFunction classifies candidate c inside decoded cluster ci, or, if
// atEnd, directly after it where its sweep ended.
func (s *scan) inFunction(c, ci int, sw *sweep, atEnd bool) {
	cl := s.clusters[ci]
	i, found := len(sw.starts), true
	if !atEnd {
		i, found = slices.BinarySearch(sw.starts, c)
	}
	if !found {
		if i == 0 {
			// Unreachable: the cluster starts with a decoded instruction
			// or a skipped byte, and c > cl.lo.
			s.reject(c, RejectNotBoundary, "no instruction starts at it in the function at %#x", s.addr(cl.lo))
			return
		}
		p := sw.starts[i-1]
		inst, ok, _ := s.decodeAt(p, cl.hi)
		if ok && p+inst.Len > c && (inst.Op == x86asm.SYSCALL || inst.Op == x86asm.SYSENTER) {
			s.reject(c, RejectNotBoundary, "%s at %#x has prefix bytes: left alone", s.describe(p, cl.hi), s.addr(p))
			return
		}
		if !ok || p+inst.Len <= c {
			s.reject(c, RejectNotBoundary, "inside undecodable bytes after %#x in the function at %#x", s.addr(p), s.addr(cl.lo))
			return
		}
		s.reject(c, RejectNotBoundary, "inside %s at %#x", s.describe(p, cl.hi), s.addr(p))
		return
	}
	site := Site{Addr: s.addr(c), Insn: s.insnAt(c), Shape: ShapeCall, Start: s.addr(c), Nr: -1}

	// The jump pattern: the instruction just before, decoded in the same
	// sweep, can run unchanged in a stub: `mov $imm32,%eax` (b8 imm32) or
	// `mov $imm32,%rax` (48 c7 c0 imm32) — 436 of glibc 2.36's sites — or
	// any other plain data instruction of 5 bytes or more without a
	// rip-relative operand (displaceable; e.g. glibc's syscall() ends with
	// `mov 0x8(%rsp),%r9; syscall`). Only for syscall: sysenter does not
	// return to the next instruction (the kernel returns to the vDSO's
	// landing pad), so it cannot run in a stub that jumps back.
	p, nr := -1, int64(-1)
	if i > 0 && site.Insn == InsnSyscall {
		q := sw.starts[i-1]
		inst, ok, _ := s.decodeAt(q, c)
		ok = ok && q+inst.Len == c
		if ok && setsSigreturn(inst) {
			s.reject(c, RejectSigreturn, "%s sets rt_sigreturn: must run on the signal frame's stack pointer; left alone", s.describe(q, c))
			return
		}
		if m, isMov := s.movBefore(c); isMov && m == q {
			p, nr = q, movImm(s.code[q:c])
		} else if ok && displaceable(inst) {
			p = q
			if n, known := movNr(inst); known {
				nr = n // another encoding of a mov to eax/rax (c7 c0 imm32)
			} // else the number is whatever rax holds at run time
		}
	}
	if p < 0 {
		s.sites = append(s.sites, site)
		return
	}
	site.Shape, site.Start, site.Nr = ShapeJump, s.addr(p), nr
	site.Prefix = slices.Clone(s.code[p:c])
	s.sites = append(s.sites, site)
	last := &s.sites[len(s.sites)-1]

	// No function may start inside (Start, Addr+2): it could be called or
	// branched to. Branches are checked by checkJumps, once every
	// candidate has been seen.
	if f, ok := s.funcStartIn(p+1, c+2); ok {
		s.demote(last, DemoteFuncStart, "a function starts at %#x, inside the bytes a jump would replace (the %s site from %#x)", s.addr(f), site.Insn, s.addr(p))
		return
	}
	s.jumps = append(s.jumps, pending{site: len(s.sites) - 1, lo: p + 1, hi: c + 2})
}

// movBefore reports where the jump pattern's mov would start if the bytes
// right before offset c are `b8 imm32` (mov $imm32,%eax) or `48 c7 c0
// imm32` (mov $imm32,%rax). Whether an instruction really starts there is
// for the caller to know.
func (s *scan) movBefore(c int) (int, bool) {
	switch {
	case c >= 5 && s.code[c-5] == 0xb8:
		return c - 5, true
	case c >= 7 && s.code[c-7] == 0x48 && s.code[c-6] == 0xc7 && s.code[c-5] == 0xc0:
		return c - 7, true
	}
	return 0, false
}

// displaceable reports whether inst can run in a stub instead of in place: at least 5
// bytes (so that it and the syscall make room for the 7-byte jump), a plain data
// instruction (no control flow), and no operand relative to rip. (The stub must run
// it before it touches any register or the stack: see ShapeJump.)
func displaceable(inst x86asm.Inst) bool {
	if inst.Len < 5 {
		return false
	}
	switch inst.Op {
	case x86asm.MOV, x86asm.MOVZX, x86asm.MOVSX, x86asm.MOVSXD, x86asm.LEA,
		x86asm.ADD, x86asm.SUB, x86asm.AND, x86asm.OR, x86asm.XOR:
	default:
		return false
	}
	for _, a := range inst.Args {
		if m, ok := a.(x86asm.Mem); ok && m.Base == x86asm.RIP {
			return false
		}
	}
	return true
}

// movNr returns the number inst puts into rax when it is a mov of an
// immediate into eax (zero-extended) or rax.
func movNr(inst x86asm.Inst) (int64, bool) {
	imm, ok := inst.Args[1].(x86asm.Imm)
	switch {
	case inst.Op != x86asm.MOV || !ok:
		return 0, false
	case inst.Args[0] == x86asm.EAX:
		return int64(uint32(imm)), true
	case inst.Args[0] == x86asm.RAX:
		return int64(imm), true
	}
	return 0, false
}

// movImm returns the number a jump-pattern mov (b8 imm32, zero-extended;
// 48 c7 c0 imm32, sign-extended) loads.
func movImm(mov []byte) int64 {
	if mov[0] == 0xb8 {
		return int64(binary.LittleEndian.Uint32(mov[1:]))
	}
	return int64(int32(binary.LittleEndian.Uint32(mov[3:])))
}

// setsSigreturn reports whether inst loads rt_sigreturn's number into eax
// or rax, in any encoding (b8, c7 c0, 48 c7 c0, ...).
func setsSigreturn(inst x86asm.Inst) bool {
	if inst.Op != x86asm.MOV || (inst.Args[0] != x86asm.EAX && inst.Args[0] != x86asm.RAX) {
		return false
	}
	imm, ok := inst.Args[1].(x86asm.Imm)
	return ok && imm == NrRtSigreturn
}

// inWindow confirms candidate c, which no function range covers, by
// decoding from several points before it: each must step onto c. Such
// sites are always ShapeCall, as no branch check is possible.
func (s *scan) inWindow(c int) {
	t, _ := s.textAt(c)
	var starts []int
	for _, back := range windowBacks {
		st := max(c-back, t.lo)
		if len(starts) == 0 || starts[len(starts)-1] != st {
			starts = append(starts, st)
		}
	}
	// starts holds several points, or only t.lo (the start of the text
	// range, a known boundary) when c is within 64 bytes of it.
	s.st.BytesDecoded += c - starts[0]
	prev, prevInst := -1, x86asm.Inst{} // the instruction before c, as the last window decoded it
	for _, st := range starts {
		pos := st
		prev = -1
		for pos < c {
			inst, ok, _ := s.decodeAt(pos, t.hi)
			if !ok {
				s.st.DecodeErrors++
				pos++
				prev = -1
				continue
			}
			prev, prevInst = pos, inst
			pos += inst.Len
		}
		if pos != c {
			s.reject(c, RejectUnconfirmed, "not covered by a function range, and decoding from %#x steps over it (%d bytes back)", s.addr(st), c-st)
			return
		}
	}
	site := Site{Addr: s.addr(c), Insn: s.insnAt(c), Shape: ShapeCall, Start: s.addr(c), Nr: -1}
	if site.Insn == InsnSyscall {
		// The windows prove c is a boundary, not that they decoded the
		// instructions before it right: resync may happen just in front of
		// c (valgrind pads its sigreturn stub with ud2, 0f 0b, which decodes
		// as `or (%rdi),%ecx` from an odd start and swallows the mov). So
		// the bytes before c are checked too.
		if prev >= 0 && prev+prevInst.Len == c && setsSigreturn(prevInst) {
			s.reject(c, RejectSigreturn, "%s sets rt_sigreturn: must run on the signal frame's stack pointer; left alone", s.describe(prev, c))
			return
		}
		if p, ok := s.movBefore(c); ok {
			if inst, ok, _ := s.decodeAt(p, c); ok && p+inst.Len == c && setsSigreturn(inst) {
				s.reject(c, RejectSigreturn, "the bytes before it are %s, which sets rt_sigreturn: left alone", s.describe(p, c))
				return
			}
			s.st.Demoted = append(s.st.Demoted, Reject{Addr: site.Addr, Kind: DemoteNoFunction,
				Reason: fmt.Sprintf("no function range covers %s and the syscall: branches into them cannot be ruled out", s.describe(p, c))})
		}
	}
	s.st.Fallback++
	s.sites = append(s.sites, site)
}

// checkJumps demotes to ShapeCall every pending jump site that a direct
// branch may reach anywhere but at its first byte or its end:
//
//  1. exactly, for every branch decoded so far, in any function;
//  2. conservatively, for every byte not decoded: bytes that could encode a
//     direct branch (e8/e9 rel32, 0f 8x rel32, c7 f8 rel32, eb/7x/e0-e3
//     rel8) into a protected range. Inside a function range, such a hit
//     makes us decode the rest of that function and decide exactly; in
//     code no function range covers, the site is demoted on suspicion.
func (s *scan) checkJumps() {
	if len(s.jumps) == 0 {
		return
	}
	s.hot = make([]uint64, len(s.code)>>(hotShift+6)+1)
	for _, j := range s.jumps {
		for b := uint(j.lo) >> hotShift; b <= uint(j.hi-1)>>hotShift; b++ {
			s.hot[b>>6] |= 1 << (b & 63)
		}
	}
	for ci, sw := range s.sweeps {
		if sw != nil && !sw.failed {
			s.checkBranches(ci, sw.branches)
		}
	}
	for _, t := range s.text {
		ci := sort.Search(len(s.clusters), func(i int) bool { return s.clusters[i].hi > t.lo })
		for i := t.lo; i < t.hi; {
			if ci >= len(s.clusters) || s.clusters[ci].lo >= t.hi || i < s.clusters[ci].lo {
				// A gap between function ranges: suspicion is enough.
				end := t.hi
				if ci < len(s.clusters) && s.clusters[ci].lo < end {
					end = s.clusters[ci].lo
				}
				s.scanPatterns(i, end, t.hi, func(q, n int, j int) bool {
					site := &s.sites[s.jumps[j].site]
					s.demote(site, DemoteSuspectBranch, "bytes % x at %#x, outside every function range, could be a branch into the bytes a jump would replace (the %s site from %#x)",
						s.code[q:q+n], s.addr(q), site.Insn, site.Start)
					return true
				})
				i = end
				continue
			}
			cl := s.clusters[ci]
			sw := s.sweeps[ci]
			if sw != nil && !sw.failed && i < sw.pos {
				i = sw.pos // decoded: its branches were checked exactly
			}
			if i < cl.hi {
				s.scanPatterns(i, cl.hi, t.hi, func(q, n int, j int) bool {
					if sw == nil || !sw.failed {
						// Decide exactly: decode the rest of the function.
						prev := 0
						if sw != nil {
							prev = len(sw.branches)
						}
						sw = s.advance(ci, cl.hi)
						if !sw.failed {
							s.checkBranches(ci, sw.branches[prev:])
							return false
						}
					}
					site := &s.sites[s.jumps[j].site]
					s.demote(site, DemoteSuspectBranch, "bytes % x at %#x could be a branch into the bytes a jump would replace (the %s site from %#x) (the function at %#x cannot be decoded)",
						s.code[q:q+n], s.addr(q), site.Insn, site.Start, s.addr(cl.lo))
					return true
				})
			}
			i = cl.hi
			ci++
		}
	}
}

// findJump returns the index in s.jumps of the still-jump site whose
// protected range holds offset to, or -1.
func (s *scan) findJump(to int64) int {
	if len(s.jumps) == 0 || to < int64(s.jumps[0].lo) || to >= int64(s.jumps[len(s.jumps)-1].hi) {
		return -1
	}
	i := sort.Search(len(s.jumps), func(i int) bool { return int64(s.jumps[i].hi) > to })
	if i < len(s.jumps) && int64(s.jumps[i].lo) <= to && s.sites[s.jumps[i].site].Shape == ShapeJump {
		return i
	}
	return -1
}

// checkBranches demotes the jump sites that one of bs, decoded in cluster
// ci, targets.
func (s *scan) checkBranches(ci int, bs []branch) {
	for _, b := range bs {
		if j := s.findJump(b.to); j >= 0 {
			site := &s.sites[s.jumps[j].site]
			s.demote(site, DemoteBranchTarget, "the branch at %#x (function at %#x) targets %#x, inside the bytes a jump would replace (the %s site from %#x)",
				s.addr(int(b.from)), s.addr(s.clusters[ci].lo), s.addr(int(b.to)), site.Insn, site.Start)
		}
	}
}

// isRel8Op reports whether b is the opcode of a direct branch with an
// 8-bit displacement: jcc (70..7f), jmp (eb), loopne/loope/loop (e0..e2),
// jrcxz (e3).
func isRel8Op(b byte) bool { return b&0xf0 == 0x70 || b == 0xeb || b >= 0xe0 && b <= 0xe3 }

// scanPatterns looks at every offset q in [lo, hi) for bytes that would
// encode a direct branch whose target lies in a pending jump site's
// protected range, not reading at or past limit, and calls hit(q, length,
// jump index) for each; it stops when hit returns false. The encodings:
// rel8 (see isRel8Op), call/jmp rel32 (e8/e9), jcc rel32 (0f 80..8f) and
// xbegin rel32 (c7 f8). Prefixes do not matter: the pattern is matched at
// the opcode.
func (s *scan) scanPatterns(lo, hi, limit int, hit func(q, n, j int) bool) {
	code := s.code[:limit]
	try := func(q, n, to int) bool {
		if j := s.findJump(int64(to)); j >= 0 {
			return hit(q, n, j)
		}
		return true
	}

	// rel32: walk the displacement position r rather than the opcode, so
	// that the common case — the would-be target is in no protected block —
	// costs one predictable test per byte.
	hot, n := s.hot, uint(len(code))
	for r := lo + 1; r < hi+2 && uint(r)+4 <= n; r++ {
		t := uint(r + 4 + int(int32(binary.LittleEndian.Uint32(code[r:]))))
		if t >= n || hot[t>>(hotShift+6)]&(1<<(t>>hotShift&63)) == 0 {
			continue
		}
		if op := code[r-1]; (op == 0xe8 || op == 0xe9) && r-1 < hi {
			if !try(r-1, 5, int(t)) {
				return
			}
		}
		if r-2 >= lo && r-2 < hi && (code[r-2] == 0x0f && code[r-1]&0xf0 == 0x80 || code[r-2] == 0xc7 && code[r-1] == 0xf8) {
			if !try(r-2, 6, int(t)) {
				return
			}
		}
	}

	// rel8 reaches 126 bytes back and 129 forward: look only near the sites.
	done := lo
	i := sort.Search(len(s.jumps), func(i int) bool { return s.jumps[i].hi+126 > lo })
	for ; i < len(s.jumps) && s.jumps[i].lo-129 < hi; i++ {
		wlo, whi := max(s.jumps[i].lo-129, done), min(s.jumps[i].hi+126, hi)
		for q := wlo; q < whi && q+2 <= len(code); q++ {
			if isRel8Op(code[q]) && !try(q, 2, q+2+int(int8(code[q+1]))) {
				return
			}
		}
		done = max(done, whi)
	}
}
