package rewrite

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// asm concatenates byte groups; each test writes one instruction per group
// with its assembly (AT&T, as objdump prints it) in a comment.
func asm(groups ...[]byte) []byte { return bytes.Join(groups, nil) }

// b is shorthand for a byte group.
func b(bs ...byte) []byte { return bs }

// nops returns n one-byte nops (90).
func nops(n int) []byte { return bytes.Repeat([]byte{0x90}, n) }

const testBase = 0x7f1234560000

// want describes one expected site by offset from testBase.
type want struct {
	addr  int
	insn  Insn
	shape Shape
	start int   // for ShapeJump
	nr    int64 // for ShapeJump
}

// wantReject describes one expected reject or demotion by offset.
type wantReject struct {
	addr int
	kind RejectKind
}

func TestFindSites(t *testing.T) {
	tests := []struct {
		name    string
		code    []byte
		funcs   []Range // offsets from testBase; nil: no function ranges
		text    []Range // offsets; nil: all of code
		sites   []want
		rejects []wantReject
		demoted []wantReject
		check   func(t *testing.T, st Stats)
	}{
		{
			name: "jump shape, mov eax",
			code: asm(
				b(0x55),                         // 0: push %rbp
				b(0xb8, 0x27, 0x00, 0x00, 0x00), // 1: mov $0x27,%eax   (getpid)
				b(0x0f, 0x05),                   // 6: syscall
				b(0x5d),                         // 8: pop %rbp
				b(0xc3),                         // 9: ret
			),
			funcs: []Range{{0, 10}},
			sites: []want{{addr: 6, shape: ShapeJump, start: 1, nr: 39}},
		},
		{
			name: "jump shape, mov rax, sign-extended number",
			code: asm(
				b(0x48, 0xc7, 0xc0, 0x3c, 0x00, 0x00, 0x00), // 0: mov $0x3c,%rax  (exit)
				b(0x0f, 0x05), // 7: syscall
				b(0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff), // 9: mov $0xffffffffffffffff,%rax
				b(0x0f, 0x05),                   // 16: syscall
				b(0xb8, 0xff, 0xff, 0xff, 0xff), // 18: mov $0xffffffff,%eax
				b(0x0f, 0x05),                   // 23: syscall
				b(0xc3),                         // 25: ret
			),
			funcs: []Range{{0, 26}},
			sites: []want{
				{addr: 7, shape: ShapeJump, start: 0, nr: 60},
				{addr: 16, shape: ShapeJump, start: 9, nr: -1},
				{addr: 23, shape: ShapeJump, start: 18, nr: 0xffffffff},
			},
		},
		{
			name: "no mov before: call shape",
			code: asm(
				b(0x89, 0xf8), // 0: mov %edi,%eax
				b(0x0f, 0x05), // 2: syscall
				b(0xc3),       // 4: ret
			),
			funcs: []Range{{0, 5}},
			sites: []want{{addr: 2, shape: ShapeCall}},
		},
		{
			name: "other displaceable instructions: jump shape",
			code: asm(
				b(0xc7, 0xc0, 0x27, 0x00, 0x00, 0x00), // 0: mov $0x27,%eax (c7 /0 form)
				b(0x0f, 0x05),                         // 6: syscall
				b(0x48, 0xc7, 0xc1, 0x27, 0, 0, 0),    // 8: mov $0x27,%rcx
				b(0x0f, 0x05),                         // 15: syscall
				b(0x4c, 0x8b, 0x4c, 0x24, 0x08),       // 17: mov 0x8(%rsp),%r9   (glibc's syscall())
				b(0x0f, 0x05),                         // 22: syscall
				b(0x48, 0x81, 0xc4, 0x80, 0, 0, 0),    // 24: add $0x80,%rsp
				b(0x0f, 0x05),                         // 31: syscall
				b(0xc3),                               // 33: ret
			),
			funcs: []Range{{0, 34}},
			sites: []want{
				{addr: 6, shape: ShapeJump, start: 0, nr: 39},
				{addr: 15, shape: ShapeJump, start: 8, nr: -1},
				{addr: 22, shape: ShapeJump, start: 17, nr: -1},
				{addr: 31, shape: ShapeJump, start: 24, nr: -1},
			},
		},
		{
			name: "instructions that cannot be displaced: call shape",
			code: asm(
				b(0x66, 0xb8, 0x27, 0x00),                   // 0: mov $0x27,%ax       (4 bytes)
				b(0x0f, 0x05),                               // 4: syscall
				b(0x48, 0x8d, 0x05, 0x10, 0x00, 0x00, 0x00), // 6: lea 0x10(%rip),%rax (rip-relative)
				b(0x0f, 0x05),                               // 13: syscall
				b(0x8b, 0x05, 0x10, 0x00, 0x00, 0x00),       // 15: mov 0x10(%rip),%eax (rip-relative)
				b(0x0f, 0x05),                               // 21: syscall
				b(0xe8, 0x00, 0x00, 0x00, 0x00),             // 23: call 28           (control flow)
				b(0x0f, 0x05),                               // 28: syscall
				b(0x48, 0x0f, 0xaf, 0x44, 0x24, 0x08),       // 30: imul 0x8(%rsp),%rax (not in the list)
				b(0x0f, 0x05),                               // 36: syscall
				b(0xc3),                                     // 38: ret
			),
			funcs: []Range{{0, 39}},
			sites: []want{
				{addr: 4, shape: ShapeCall}, {addr: 13, shape: ShapeCall}, {addr: 21, shape: ShapeCall},
				{addr: 28, shape: ShapeCall}, {addr: 36, shape: ShapeCall},
			},
		},
		{
			name: "branch into the syscall forces call shape",
			code: asm(
				b(0x85, 0xff),                   // 0: test %edi,%edi
				b(0x74, 0x05),                   // 2: je 9   (the syscall)
				b(0xb8, 0x27, 0x00, 0x00, 0x00), // 4: mov $0x27,%eax
				b(0x0f, 0x05),                   // 9: syscall
				b(0xc3),                         // 11: ret
			),
			funcs:   []Range{{0, 12}},
			sites:   []want{{addr: 9, shape: ShapeCall}},
			demoted: []wantReject{{9, DemoteBranchTarget}},
		},
		{
			name: "backward branch into the mov's immediate forces call shape",
			code: asm(
				b(0xb8, 0x27, 0x00, 0x00, 0x00), // 0: mov $0x27,%eax
				b(0x0f, 0x05),                   // 5: syscall
				b(0x85, 0xc0),                   // 7: test %eax,%eax
				b(0x75, 0xf7),                   // 9: jne 2   (inside the mov)
				b(0xc3),                         // 11: ret
			),
			funcs:   []Range{{0, 12}},
			sites:   []want{{addr: 5, shape: ShapeCall}},
			demoted: []wantReject{{5, DemoteBranchTarget}},
		},
		{
			name: "branches to the mov and past the syscall are fine",
			code: asm(
				b(0x85, 0xff),                   // 0: test %edi,%edi
				b(0x74, 0x09),                   // 2: je 13   (just past the syscall)
				b(0x75, 0x00),                   // 4: jne 6   (the mov)
				b(0xb8, 0x27, 0x00, 0x00, 0x00), // 6: mov $0x27,%eax
				b(0x0f, 0x05),                   // 11: syscall
				b(0xc3),                         // 13: ret
			),
			funcs: []Range{{0, 14}},
			sites: []want{{addr: 11, shape: ShapeJump, start: 6, nr: 39}},
		},
		{
			name: "branch from another function (rel32) forces call shape",
			code: asm(
				// function A
				b(0xb8, 0x27, 0x00, 0x00, 0x00), // 0: mov $0x27,%eax
				b(0x0f, 0x05),                   // 5: syscall
				b(0xc3),                         // 7: ret
				// function B
				b(0xb8, 0x27, 0x00, 0x00, 0x00), // 8: mov $0x27,%eax
				b(0xe9, 0xf3, 0xff, 0xff, 0xff), // 13: jmp 5   (A's syscall)
			),
			funcs:   []Range{{0, 8}, {8, 18}},
			sites:   []want{{addr: 5, shape: ShapeCall}},
			demoted: []wantReject{{5, DemoteBranchTarget}},
		},
		{
			name: "bytes outside every function that could branch in force call shape",
			code: asm(
				b(0xeb, 0x06), // 0: jmp 8 (not covered by any function range)
				nops(1),       // 2: nop
				// function
				b(0xb8, 0x27, 0x00, 0x00, 0x00), // 3: mov $0x27,%eax
				b(0x0f, 0x05),                   // 8: syscall
				b(0xc3),                         // 10: ret
			),
			funcs:   []Range{{3, 11}},
			sites:   []want{{addr: 8, shape: ShapeCall}},
			demoted: []wantReject{{8, DemoteSuspectBranch}},
		},
		{
			name: "a function starting at the syscall forces call shape",
			code: asm(
				b(0xb8, 0x27, 0x00, 0x00, 0x00), // 0: mov $0x27,%eax
				b(0x0f, 0x05),                   // 5: syscall   <- also a symbol
				b(0xc3),                         // 7: ret
			),
			funcs:   []Range{{0, 8}, {5, 8}},
			sites:   []want{{addr: 5, shape: ShapeCall}},
			demoted: []wantReject{{5, DemoteFuncStart}},
		},
		{
			name: "rt_sigreturn is skipped",
			code: asm(
				nops(1), // 0: nop
				b(0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00), // 1: mov $0xf,%rax   (__restore_rt)
				b(0x0f, 0x05),                         // 8: syscall
				b(0xb8, 0x0f, 0x00, 0x00, 0x00),       // 10: mov $0xf,%eax
				b(0x0f, 0x05),                         // 15: syscall
				b(0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00), // 17: mov $0xf,%eax (c7 /0 form)
				b(0x0f, 0x05),                         // 23: syscall
				b(0x66, 0xb8, 0x0f, 0x00),             // 25: mov $0xf,%ax  (not all of eax: a call site)
				b(0x0f, 0x05),                         // 29: syscall
				b(0xc3),                               // 31: ret
			),
			funcs:   []Range{{0, 32}},
			sites:   []want{{addr: 29, shape: ShapeCall}},
			rejects: []wantReject{{8, RejectSigreturn}, {15, RejectSigreturn}, {23, RejectSigreturn}},
		},
		{
			name: "0f 05 inside an immediate is not a site",
			code: asm(
				b(0xb8, 0x0f, 0x05, 0x00, 0x00),             // 0: mov $0x50f,%eax
				b(0xe8, 0x0f, 0x05, 0x00, 0x00),             // 5: call 0x519
				b(0x48, 0x8d, 0x0d, 0x0f, 0x34, 0x00, 0x00), // 10: lea 0x340f(%rip),%rcx
				b(0xc3), // 17: ret
			),
			funcs: []Range{{0, 18}},
			rejects: []wantReject{
				{1, RejectNotBoundary}, {6, RejectNotBoundary}, {13, RejectNotBoundary},
			},
		},
		{
			name: "prefixed syscall is not a boundary",
			code: asm(
				b(0x66, 0x0f, 0x05), // 0: data16 syscall
				b(0xc3),             // 3: ret
			),
			funcs:   []Range{{0, 4}},
			rejects: []wantReject{{1, RejectNotBoundary}},
		},
		{
			name: "sysenter: found, never jump shape",
			code: asm(
				b(0xb8, 0x14, 0x00, 0x00, 0x00), // 0: mov $0x14,%eax
				b(0x0f, 0x34),                   // 5: sysenter
				b(0x0f, 0x05),                   // 7: syscall
				b(0xc3),                         // 9: ret
			),
			funcs: []Range{{0, 10}},
			sites: []want{{addr: 5, insn: InsnSysenter, shape: ShapeCall}, {addr: 7, shape: ShapeCall}},
		},
		{
			name: "undecodable byte is skipped and the sweep resyncs",
			code: asm(
				b(0x0f, 0x04),                   // 0: (bad: 0f 04 is undefined) -> skip 0f
				b(0x90),                         //    then 04 90 = add $0x90,%al
				b(0x90),                         // 3: nop
				b(0xb8, 0x27, 0x00, 0x00, 0x00), // 4: mov $0x27,%eax
				b(0x0f, 0x05),                   // 9: syscall
				b(0xc3),                         // 11: ret
			),
			funcs: []Range{{0, 12}},
			sites: []want{{addr: 9, shape: ShapeJump, start: 4, nr: 39}},
			check: func(t *testing.T, st Stats) {
				if st.DecodeErrors != 1 {
					t.Errorf("DecodeErrors = %d, want 1", st.DecodeErrors)
				}
			},
		},
		{
			name: "sweep restarts at a function start it stepped over",
			code: asm(
				b(0x48, 0xb8, 0x00, 0x00, 0x00), // 0: movabs $0x27b8000000,%rax (10 bytes: runs over 5)
				b(0xb8, 0x27, 0x00, 0x00, 0x00), // 5: mov $0x27,%eax   <- function start
				b(0x0f, 0x05),                   // 10: syscall
				b(0xc3),                         // 12: ret
			),
			funcs: []Range{{0, 13}, {5, 13}},
			sites: []want{{addr: 10, shape: ShapeJump, start: 5, nr: 39}},
			check: func(t *testing.T, st Stats) {
				if st.Resyncs != 1 || st.FuncsDecoded != 1 {
					t.Errorf("Resyncs = %d, FuncsDecoded = %d, want 1, 1", st.Resyncs, st.FuncsDecoded)
				}
			},
		},
		{
			name: "a known start inside an instruction wins, even at the candidate",
			code: asm(
				b(0x48, 0xb8), // 0: movabs $0x90909090c3050f,%rax (10 bytes: runs over 2)
				b(0x0f, 0x05), // 2: syscall   <- function start
				b(0xc3),       // 4: ret
				nops(5),       // 5: nop x 5
			),
			funcs:   []Range{{0, 10}, {2, 10}},
			sites:   []want{{addr: 2, shape: ShapeCall}},
			demoted: nil,
			check: func(t *testing.T, st Stats) {
				if st.Resyncs != 1 {
					t.Errorf("Resyncs = %d, want 1", st.Resyncs)
				}
			},
		},
		{
			name: "syscall right after the end of a function range (glibc clone3)",
			code: asm(
				b(0x49, 0x89, 0xc8),             // 0: mov %rcx,%r8
				b(0xb8, 0xb3, 0x01, 0x00, 0x00), // 3: mov $0x1b3,%eax   (FDE ends here)
				b(0x0f, 0x05),                   // 8: syscall
				b(0xc3),                         // 10: ret
			),
			funcs: []Range{{0, 8}},
			sites: []want{{addr: 8, shape: ShapeJump, start: 3, nr: 435}},
		},
		{
			name: "no function range: resync windows confirm, call shape",
			code: asm(
				nops(300),                       // 0: nop x 300
				b(0xb8, 0x27, 0x00, 0x00, 0x00), // 300: mov $0x27,%eax
				b(0x0f, 0x05),                   // 305: syscall
				b(0xc3),                         // 307: ret
			),
			sites:   []want{{addr: 305, shape: ShapeCall}},
			demoted: []wantReject{{305, DemoteNoFunction}},
			check: func(t *testing.T, st Stats) {
				if st.Fallback != 1 || st.FuncsDecoded != 0 {
					t.Errorf("Fallback = %d, FuncsDecoded = %d, want 1, 0", st.Fallback, st.FuncsDecoded)
				}
			},
		},
		{
			name: "no function range: rt_sigreturn is skipped too",
			code: asm(
				nops(100), // 0: nop x 100
				b(0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00), // 100: mov $0xf,%rax
				b(0x0f, 0x05), // 107: syscall
			),
			rejects: []wantReject{{107, RejectSigreturn}},
		},
		{
			// valgrind's sigreturn stub: from an even offset, ud2 (0f 0b)
			// decodes as `or (%rdi),%ecx` (0b 0f) and the windows swallow
			// the mov: `or -0x39(%rax),%ecx; ror $0,(%rdi); add %al,(%rax)`
			// still lands on the syscall.
			name: "no function range: rt_sigreturn behind ud2 padding",
			code: asm(
				nops(1),                          // 0: nop
				bytes.Repeat(b(0x0f, 0x0b), 100), // 1: ud2 x 100
				b(0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00), // 201: mov $0xf,%rax
				b(0x0f, 0x05), // 208: syscall
			),
			rejects: []wantReject{{208, RejectSigreturn}},
		},
		{
			name: "no function range: a pair inside an immediate is refused",
			code: asm(
				nops(300),                       // 0: nop x 300
				b(0xb8, 0x0f, 0x05, 0x00, 0x00), // 300: mov $0x50f,%eax
				b(0xc3),                         // 305: ret
			),
			rejects: []wantReject{{301, RejectUnconfirmed}},
		},
		{
			name: "no function range near the start of text",
			code: asm(
				b(0x0f, 0x05), // 0: syscall
				b(0xc3),       // 2: ret
			),
			sites: []want{{addr: 0, shape: ShapeCall}},
		},
		{
			name: "outside the text ranges",
			code: asm(
				b(0x7f, 0x45, 0x4c, 0x46, 0x0f, 0x05), // 0: "\x7fELF" and a pair in a header
				b(0x0f, 0x05),                         // 6: syscall
				b(0xc3),                               // 8: ret
			),
			funcs:   []Range{{0, 9}}, // starts outside text: ignored
			text:    []Range{{6, 9}},
			sites:   []want{{addr: 6, shape: ShapeCall}},
			rejects: []wantReject{{4, RejectOutsideText}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sites, st := FindSitesIn(tt.code, testBase, offsets(tt.funcs), offsetsOrNil(tt.text))
			checkSites(t, tt.code, sites, st, tt.sites, tt.rejects, tt.demoted)
			if tt.check != nil {
				tt.check(t, st)
			}
		})
	}
}

// TestPageStraddle: glibc 2.36 has syscalls at libc+0x3efff and +0xfcfff.
func TestPageStraddle(t *testing.T) {
	for _, tc := range []struct {
		name  string
		at    int // offset of the syscall
		shape Shape
	}{
		{"jump shape across the page end", 4095, ShapeJump},
		{"jump shape with the mov across the page end", 4097, ShapeJump},
		{"call shape across the page end", 4095, ShapeCall},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := nops(8192)
			before := b(0xb8, 0x27, 0x00, 0x00, 0x00) // mov $0x27,%eax
			if tc.shape == ShapeCall {
				before = b(0x89, 0xf8, 0x90, 0x90, 0x90) // mov %edi,%eax; nop; nop; nop
			}
			copy(code[tc.at-5:], before)
			copy(code[tc.at:], b(0x0f, 0x05, 0xc3)) // syscall; ret
			base := uint64(0x7f0000000000)
			sites, st := FindSites(code, base, []Range{{base + 4000, base + uint64(tc.at) + 3}})
			w := want{addr: tc.at, shape: tc.shape}
			if tc.shape == ShapeJump {
				w.start, w.nr = tc.at-5, 39
			}
			checkSitesAt(t, base, code, sites, st, []want{w}, nil, nil)
			s := sites[0]
			if first, last := s.Start/4096, (s.End()-1)/4096; first == last {
				t.Errorf("site %v does not straddle a page", s)
			}
		})
	}
}

func offsets(rs []Range) []Range {
	out := make([]Range, len(rs))
	for i, r := range rs {
		out[i] = Range{testBase + r.Start, testBase + r.End}
	}
	return out
}

func offsetsOrNil(rs []Range) []Range {
	if rs == nil {
		return nil
	}
	return offsets(rs)
}

func checkSites(t *testing.T, code []byte, sites []Site, st Stats, ws []want, rejects, demoted []wantReject) {
	t.Helper()
	checkSitesAt(t, testBase, code, sites, st, ws, rejects, demoted)
}

func checkSitesAt(t *testing.T, base uint64, code []byte, sites []Site, st Stats, ws []want, rejects, demoted []wantReject) {
	t.Helper()
	dump := func() string {
		var sb strings.Builder
		for _, s := range sites {
			fmt.Fprintf(&sb, "\n  site %v", s)
		}
		for _, r := range st.Rejects {
			fmt.Fprintf(&sb, "\n  reject %v", r)
		}
		for _, r := range st.Demoted {
			fmt.Fprintf(&sb, "\n  demoted %v", r)
		}
		return sb.String()
	}
	if len(sites) != len(ws) {
		t.Fatalf("%d sites, want %d:%s", len(sites), len(ws), dump())
	}
	for i, w := range ws {
		s := sites[i]
		wantSite := Site{Addr: base + uint64(w.addr), Insn: w.insn, Shape: w.shape, Start: base + uint64(w.addr), Nr: -1}
		if w.shape == ShapeJump {
			wantSite.Start, wantSite.Nr = base+uint64(w.start), w.nr
			wantSite.Prefix = code[w.start:w.addr]
		}
		if s.Addr != wantSite.Addr || s.Insn != wantSite.Insn || s.Shape != wantSite.Shape || s.Start != wantSite.Start ||
			s.Nr != wantSite.Nr || !bytes.Equal(s.Prefix, wantSite.Prefix) {
			t.Errorf("site %d = %v, want %v%s", i, s, wantSite, dump())
		}
		if s.Shape == ShapeJump && s.End()-s.Start < JumpLen {
			t.Errorf("jump site %v is shorter than the jump", s)
		}
	}
	if len(st.Rejects) != len(rejects) || st.Rejected != len(rejects) {
		t.Fatalf("%d rejects (Rejected %d), want %d:%s", len(st.Rejects), st.Rejected, len(rejects), dump())
	}
	for i, r := range rejects {
		if got := st.Rejects[i]; got.Addr != base+uint64(r.addr) || got.Kind != r.kind || got.Reason == "" {
			t.Errorf("reject %d = %v, want %s at %#x", i, got, r.kind, base+uint64(r.addr))
		}
	}
	if len(st.Demoted) != len(demoted) {
		t.Fatalf("%d demoted, want %d:%s", len(st.Demoted), len(demoted), dump())
	}
	for i, r := range demoted {
		if got := st.Demoted[i]; got.Addr != base+uint64(r.addr) || got.Kind != r.kind || got.Reason == "" {
			t.Errorf("demoted %d = %v, want %s at %#x", i, got, r.kind, base+uint64(r.addr))
		}
	}
	jump, call := 0, 0
	for _, s := range sites {
		if s.Shape == ShapeJump {
			jump++
		} else {
			call++
		}
	}
	if st.Sites != len(sites) || st.Jump != jump || st.Call != call || st.Candidates != len(sites)+len(rejects) {
		t.Errorf("stats %+v do not add up for %d sites (%d jump) and %d rejects", st, len(sites), jump, len(rejects))
	}
	t.Logf("%s", dump())
}
