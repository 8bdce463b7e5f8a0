// Package vectorfree proves, by decoding, that a hook function never touches the vector,
// x87 or mask registers, so that the loader may call it without saving them (what a
// hook library otherwise declares with ZPOLINE_HOOK_VECTOR_FREE).
//
// The proof follows every path from the entry: both sides of conditional branches,
// direct jumps and calls (and the instruction after a call), and jumps and calls through
// a RIP-relative pointer (a PLT slot's GOT entry, resolved by the time the library was
// loaded with RTLD_NOW: the pointer's current value is followed). Any other indirect
// jump or call, an instruction the decoder does not know, a register operand among
// x87, MMX, XMM, YMM, ZMM or opmask registers, an instruction that reaches that state
// without naming a register (x87, XSAVE and FXSAVE families, LDMXCSR, VZEROUPPER, EMMS),
// code outside the readable executable ranges given, or more instructions than the
// budget, and the answer is no. It is conservative: "no" costs a vector save per call,
// a wrong "yes" would corrupt the program's registers.
package vectorfree

import (
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// Memory reads the process's memory: n bytes at addr, or an error.
type Memory func(addr uint64, n int) ([]byte, error)

// Range is [Start, End) of readable executable memory.
type Range struct{ Start, End uint64 }

// MaxInstructions bounds the instructions decoded for one proof.
const MaxInstructions = 20000

// endbr64 (f3 0f 1e fa) is a no-op outside CET; the decoder does not know it.
var endbr64 = []byte{0xf3, 0x0f, 0x1e, 0xfa}

// Prove reports whether the function at entry, and everything it can reach, leaves the
// vector, x87 and mask registers alone; if not, why.
func Prove(mem Memory, code []Range, entry uint64) (bool, string) {
	inCode := func(a uint64, n int) bool {
		for _, r := range code {
			if a >= r.Start && a+uint64(n) <= r.End {
				return true
			}
		}
		return false
	}
	seen := map[uint64]bool{}
	work := []uint64{entry}
	for len(work) > 0 {
		pc := work[len(work)-1]
		work = work[:len(work)-1]
		for !seen[pc] { // one path, until it ends or joins one already followed
			if len(seen) >= MaxInstructions {
				return false, fmt.Sprintf("more than %d instructions reachable", MaxInstructions)
			}
			seen[pc] = true
			if !inCode(pc, 1) {
				return false, fmt.Sprintf("code at %#x is outside the executable mappings", pc)
			}
			n := 15
			for n > 1 && !inCode(pc, n) {
				n--
			}
			b, err := mem(pc, n)
			if err != nil {
				return false, fmt.Sprintf("cannot read %#x: %v", pc, err)
			}
			if len(b) >= 4 && string(b[:4]) == string(endbr64) {
				pc += 4
				continue
			}
			inst, err := x86asm.Decode(b, 64)
			if err != nil {
				return false, fmt.Sprintf("undecodable instruction at %#x", pc)
			}
			if why := touchesVectorState(inst); why != "" {
				return false, fmt.Sprintf("%s at %#x", why, pc)
			}
			next := pc + uint64(inst.Len)
			if inst.Op == x86asm.RET || inst.Op == x86asm.UD2 || inst.Op == x86asm.HLT || inst.Op == x86asm.INT {
				break // the path ends
			}
			if inst.Op == x86asm.JMP || inst.Op == x86asm.CALL || isCondJump(inst.Op) {
				target, ok, why := branchTarget(mem, inCode, inst, next)
				if !ok {
					return false, fmt.Sprintf("%s at %#x", why, pc)
				}
				if inst.Op == x86asm.JMP {
					pc = target
					continue
				}
				work = append(work, target)
			}
			pc = next
		}
	}
	return true, ""
}

// branchTarget is where a jump or call goes: a relative target, or the current value of
// a RIP-relative pointer (a GOT entry).
func branchTarget(mem Memory, inCode func(uint64, int) bool, inst x86asm.Inst, next uint64) (uint64, bool, string) {
	switch a := inst.Args[0].(type) {
	case x86asm.Rel:
		return next + uint64(int64(a)), true, ""
	case x86asm.Mem:
		if inst.Op == x86asm.JMP || inst.Op == x86asm.CALL {
			if a.Base == x86asm.RIP && a.Index == 0 && a.Segment == 0 {
				b, err := mem(next+uint64(a.Disp), 8)
				if err != nil || len(b) < 8 {
					return 0, false, "unreadable jump slot"
				}
				t := binary.LittleEndian.Uint64(b)
				if !inCode(t, 1) {
					return 0, false, "jump slot pointing outside the executable mappings"
				}
				return t, true, ""
			}
		}
	}
	return 0, false, "indirect " + strings.ToLower(inst.Op.String())
}

func isCondJump(op x86asm.Op) bool {
	switch op {
	case x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE, x86asm.JG, x86asm.JGE, x86asm.JL,
		x86asm.JLE, x86asm.JNE, x86asm.JNO, x86asm.JNP, x86asm.JNS, x86asm.JO, x86asm.JP, x86asm.JS,
		x86asm.JCXZ, x86asm.JECXZ, x86asm.JRCXZ, x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE:
		return true
	}
	return false
}

// touchesVectorState names why inst may read or write vector, x87 or mask state, or "".
func touchesVectorState(inst x86asm.Inst) string {
	for _, a := range inst.Args {
		if r, ok := a.(x86asm.Reg); ok && r >= x86asm.F0 && r <= x86asm.K7 {
			return "vector or x87 register " + r.String()
		}
	}
	name := inst.Op.String()
	switch {
	case strings.HasPrefix(name, "F"), strings.HasPrefix(name, "V"), strings.HasPrefix(name, "XSAVE"),
		strings.HasPrefix(name, "XRSTOR"), name == "EMMS", name == "FEMMS", name == "LDMXCSR",
		name == "STMXCSR":
		return "vector or x87 instruction " + strings.ToLower(name)
	}
	return ""
}
