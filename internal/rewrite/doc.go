// Package rewrite finds the system-call instructions of x86-64 machine code
// and decides how each is to be patched. It is pure Go over []byte (no cgo,
// no unsafe): the loader reads a mapping's bytes and its ELF image, calls
// ScanMapping (or FindSites), and applies the result.
//
// # Site discovery
//
// A raw search for the bytes 0f 05 (syscall) and 0f 34 (sysenter)
// over-matches: the pair also occurs inside other instructions (in an
// immediate such as `mov $0x50f,%eax` = b8 0f 05 00 00, in a displacement,
// in a call's rel32). Rewriting one of those corrupts the program. So the
// byte search (bytes.IndexByte, fast) only yields candidates, and each is
// confirmed by decoding with golang.org/x/arch/x86/x86asm in 64-bit mode.
//
// x86 code cannot be decoded from an arbitrary byte: decoding must start at
// an instruction boundary. The known boundaries are function starts, which
// ELF images carry in the FDEs of .eh_frame (present in nearly all C/C++
// x86-64 code, stripped or not, because unwinding needs them), in the
// STT_FUNC symbols of .symtab/.dynsym, and for Go binaries in .gopclntab
// (which the Go runtime needs, so it survives stripping). FunctionRanges
// merges them. A candidate inside a function is decided by one linear sweep
// from the function's start (overlapping ranges are swept together and the
// sweep restarts at each start it steps over; an undecodable byte, such as
// some AVX-512 encodings, is skipped); each function is decoded at most
// once and only as far as needed, which keeps the cost to a few percent of
// a whole-image sweep (x86asm decodes at roughly 10–20 MB/s). A syscall
// directly after the end of a range counts as part of it when the sweep
// ends exactly on it (glibc's clone3 closes its CFI just before the
// syscall, so that the child never unwinds into the parent). A candidate
// that no function range covers is accepted only if decoding from several
// points 64 to 256 bytes before it all step exactly onto it.
//
// # Patch shapes
//
// The classic zpoline patch, ShapeCall, turns the two bytes into
// `callq *%rax` (ff d0). callq writes its return address at -8(%rsp), in
// the 128-byte red zone below the stack pointer that the x86-64 ABI lets
// leaf code use without moving rsp, and glibc does keep live data there
// across system calls. Most system calls are emitted as
// `mov $nr,%eax; syscall` (436 of glibc 2.36's 526): those 7 bytes (9 for
// the `mov $nr,%rax` form) can instead become `jmp *abs32` through a
// per-site slot in low memory, which pushes nothing; the stub it reaches
// replays the mov and the syscall and jumps back. Any other instruction of
// 5 bytes or more that runs the same at any address (a plain data
// instruction without a rip-relative operand, e.g. the `mov 0x8(%rsp),%r9`
// that ends glibc's syscall()) can be displaced the same way (17 more sites
// in glibc 2.36). This ShapeJump is safe
// only if nothing can enter the replaced bytes other than at their first
// byte: no direct branch of the containing function (or, checked as well,
// of any other decoded function, or bytes outside any function that could
// encode one) may target (Start, Addr+2), and no function may start there.
// Otherwise, and for sites found without a function range, the site gets
// ShapeCall.
//
// # rt_sigreturn
//
// A syscall whose preceding mov loads 15 (rt_sigreturn, glibc's
// __restore_rt and the Go runtime's sigreturn) is not returned as a site:
// rt_sigreturn must run with the stack pointer exactly at the signal frame,
// and neither shape's detour can guarantee that cheaply. It is reported in
// Stats.Rejects with kind RejectSigreturn; it is never a hooking point
// anyway (the kernel does not return from it to the caller).
//
// Nothing here panics on any input; the parsers report the offset that
// failed and the decoder is guarded.
package rewrite
