package rewrite

import "fmt"

// Range is a half-open interval of addresses [Start, End). FunctionRanges
// returns link-time virtual addresses; FindSites takes runtime addresses.
type Range struct{ Start, End uint64 }

// Contains reports whether addr lies in [r.Start, r.End).
func (r Range) Contains(addr uint64) bool { return r.Start <= addr && addr < r.End }

// Len returns r.End - r.Start, or 0 for an empty or inverted range.
func (r Range) Len() uint64 {
	if r.End <= r.Start {
		return 0
	}
	return r.End - r.Start
}

// String formats r as "[start, end)" in hexadecimal.
func (r Range) String() string { return fmt.Sprintf("[%#x, %#x)", r.Start, r.End) }

// Insn identifies the system-call instruction found at a site.
type Insn uint8

const (
	// InsnSyscall is `syscall` (0f 05).
	InsnSyscall Insn = iota
	// InsnSysenter is `sysenter` (0f 34).
	InsnSysenter
)

// String returns the mnemonic.
func (i Insn) String() string {
	switch i {
	case InsnSyscall:
		return "syscall"
	case InsnSysenter:
		return "sysenter"
	}
	return fmt.Sprintf("Insn(%d)", uint8(i))
}

// Shape is how a site is to be rewritten.
type Shape uint8

const (
	// ShapeCall rewrites the two bytes at Addr into ff d0 (callq *%rax),
	// the classic zpoline patch. It pushes a return address at -8(%rsp),
	// inside the red zone.
	ShapeCall Shape = iota
	// ShapeJump rewrites [Start, Addr+2) — a syscall (never sysenter) and
	// the instruction before it, which is either `mov $imm32,%eax`
	// (b8 imm32, 5 bytes), `mov $imm32,%rax` (48 c7 c0 imm32, 7 bytes) or
	// another plain data instruction of at least 5 bytes that behaves the
	// same at any address (mov/movzx/movsx/movsxd/lea/add/sub/and/or/xor
	// without a rip-relative operand) — into a 7-byte `jmp *abs32`
	// (ff 24 25 imm32) padded with int3 (cc). It pushes nothing. The loader
	// runs Prefix (the displaced instruction) in a per-site stub before
	// touching any register or the stack, then the system call, then
	// continues at Addr+2. Only chosen when no direct branch and no function
	// start falls inside (Start, Addr+2).
	ShapeJump
)

// String returns "call" or "jump".
func (s Shape) String() string {
	switch s {
	case ShapeCall:
		return "call"
	case ShapeJump:
		return "jump"
	}
	return fmt.Sprintf("Shape(%d)", uint8(s))
}

// JumpLen is the length of the `jmp *abs32` (ff 24 25 imm32) written at the
// start of a ShapeJump site; the rest of the site is int3 padding.
const JumpLen = 7

// NrRtSigreturn is the x86-64 number of rt_sigreturn. A site whose
// displaced mov loads it is never returned (see RejectSigreturn).
const NrRtSigreturn = 15

// Site is one system-call instruction to rewrite.
type Site struct {
	Addr  uint64 // runtime address of the 2-byte syscall/sysenter instruction
	Insn  Insn   // which instruction is at Addr
	Shape Shape  // how to rewrite it
	// Start is the first byte rewritten: Addr for ShapeCall, the address of
	// the displaced mov for ShapeJump. The rewritten bytes are
	// [Start, Addr+2); they may straddle a page boundary.
	Start uint64
	// Nr is the system-call number for ShapeJump when the displaced
	// instruction is a mov of an immediate into eax (zero-extended) or rax
	// (sign-extended); -1 when the number is whatever rax holds at run time
	// (another displaced instruction), and for ShapeCall. Informational: the
	// stub runs Prefix, it does not load Nr.
	Nr int64
	// Prefix holds the displaced instruction bytes [Start, Addr) for
	// ShapeJump, 5 to 15 bytes (a copy, not aliasing the scanned memory);
	// nil for ShapeCall.
	Prefix []byte
}

// End returns the first byte after the site, Addr+2: where execution
// continues after the system call.
func (s Site) End() uint64 { return s.Addr + 2 }

// String formats the site for debugging output.
func (s Site) String() string {
	if s.Shape == ShapeJump {
		return fmt.Sprintf("%#x %s jump from %#x (nr %d, prefix % x)", s.Addr, s.Insn, s.Start, s.Nr, s.Prefix)
	}
	return fmt.Sprintf("%#x %s call", s.Addr, s.Insn)
}

// RejectKind classifies why a candidate byte pair was not returned as a
// site, or why a site was given ShapeCall instead of ShapeJump.
type RejectKind uint8

const (
	// RejectNotBoundary: decoding from a known instruction boundary shows
	// the pair lies inside another instruction (an immediate, a
	// displacement, a ModRM byte) or behind a prefix. Not a system call.
	RejectNotBoundary RejectKind = iota + 1
	// RejectUnconfirmed: no function range covers the pair and the
	// resync windows did not all agree that it is a system call. Left alone.
	RejectUnconfirmed
	// RejectSigreturn: the system call is immediately preceded by a mov of
	// rt_sigreturn (15) into eax/rax. rt_sigreturn must run with the exact
	// stack pointer of the signal frame, so the site is left untouched.
	RejectSigreturn
	// RejectOutsideText: the pair is in the mapping but outside every
	// region that holds instructions (ELF headers, notes, the page tail
	// after the last section). Not code.
	RejectOutsideText

	// DemoteBranchTarget: a direct branch targets a byte inside the range
	// a ShapeJump would replace, so the site gets ShapeCall.
	DemoteBranchTarget
	// DemoteFuncStart: a function range starts inside the range a
	// ShapeJump would replace (a possible call or branch target), so the
	// site gets ShapeCall.
	DemoteFuncStart
	// DemoteSuspectBranch: bytes outside the decoded function could encode
	// a direct branch into the range a ShapeJump would replace (a
	// conservative byte-pattern check: it may be a false alarm), so the site
	// gets ShapeCall.
	DemoteSuspectBranch
	// DemoteNoFunction: the site follows the jump pattern's mov, but no
	// function range covers it (it was confirmed by resync windows), so its
	// branches cannot be checked and it gets ShapeCall.
	DemoteNoFunction
)

var rejectNames = [...]string{
	RejectNotBoundary:   "not-boundary",
	RejectUnconfirmed:   "unconfirmed",
	RejectSigreturn:     "rt_sigreturn",
	RejectOutsideText:   "outside-text",
	DemoteBranchTarget:  "branch-target",
	DemoteFuncStart:     "function-start",
	DemoteSuspectBranch: "suspect-branch",
	DemoteNoFunction:    "no-function",
}

// String returns a short name for the kind.
func (k RejectKind) String() string {
	if int(k) < len(rejectNames) && rejectNames[k] != "" {
		return rejectNames[k]
	}
	return fmt.Sprintf("RejectKind(%d)", uint8(k))
}

// Reject records a candidate that was skipped, or a site whose shape was
// downgraded, with a human-readable reason (printed by the loader with
// ZPOLINE_DEBUG=1).
type Reject struct {
	Addr   uint64     // runtime address of the 0f 05 / 0f 34 pair
	Kind   RejectKind // machine-readable class
	Reason string     // what was found, e.g. "inside `mov $0x50f,%eax` at 0x1234"
}

// String formats the record as "0x1234: kind: reason".
func (r Reject) String() string { return fmt.Sprintf("%#x: %s: %s", r.Addr, r.Kind, r.Reason) }

// Stats describes the work done by one scan.
type Stats struct {
	BytesExamined int      // bytes searched for candidate pairs
	BytesDecoded  int      // bytes covered by instruction decoding (functions and resync windows)
	Candidates    int      // 0f 05 / 0f 34 byte pairs found
	Sites         int      // sites returned (Jump + Call)
	Jump          int      // sites with ShapeJump
	Call          int      // sites with ShapeCall
	FuncsDecoded  int      // functions (groups of overlapping ranges) decoded, each once
	Fallback      int      // sites confirmed by resync windows because no function range covered them
	DecodeErrors  int      // bytes skipped because x86asm could not decode them
	Resyncs       int      // times a sweep overran a known function start and restarted there
	Rejected      int      // candidates not returned as sites (len(Rejects))
	Rejects       []Reject // the candidates not returned, in address order, with the reason
	Demoted       []Reject // sites that met the jump pattern but got ShapeCall, with the reason
	Warnings      []string // problems reading the image (e.g. a damaged .eh_frame); the scan went on
}

// String summarises the counters on one line (without the lists), e.g. for
// the loader's ZPOLINE_DEBUG output.
func (s Stats) String() string {
	return fmt.Sprintf("%d sites (%d jump, %d call) from %d candidates, %d rejected, %d demoted; "+
		"%d bytes examined, %d decoded in %d functions, %d by resync windows, %d decode errors, %d resyncs",
		s.Sites, s.Jump, s.Call, s.Candidates, s.Rejected, len(s.Demoted),
		s.BytesExamined, s.BytesDecoded, s.FuncsDecoded, s.Fallback, s.DecodeErrors, s.Resyncs)
}

// add accumulates o into s.
func (s *Stats) add(o Stats) {
	s.BytesExamined += o.BytesExamined
	s.BytesDecoded += o.BytesDecoded
	s.Candidates += o.Candidates
	s.Sites += o.Sites
	s.Jump += o.Jump
	s.Call += o.Call
	s.FuncsDecoded += o.FuncsDecoded
	s.Fallback += o.Fallback
	s.DecodeErrors += o.DecodeErrors
	s.Resyncs += o.Resyncs
	s.Rejected += o.Rejected
	s.Rejects = append(s.Rejects, o.Rejects...)
	s.Demoted = append(s.Demoted, o.Demoted...)
	s.Warnings = append(s.Warnings, o.Warnings...)
}
