// Package impl holds the tests of libzpoline_hook_impl.so, zpoline-go's default hook
// library. The library itself is C, in src/zp_hook_impl.c (see its opening comment for
// why it is C, the contexts it runs in and what it may call); it has no Go code, and
// this package exists so that `go test ./...` builds the library, a C driver
// (test/driver.c) and the generated header zp_systab.h into a temporary directory and
// checks the lines the hook writes, its exports, that it links without libc and that its
// machine code never touches a vector register.
//
// The library exports the zpoline-rs hook ABI (zpoline_hook_init, zpoline_hook_function)
// and zpoline-go's zpoline_hook_attach (include/zpoline.h). For every system call it
// performs the call through the loader's api->syscall and writes one line to stderr, or
// to the file named by $ZPOLINE_LOG:
//
//	[pid 1234] openat(0xffffff9c, 0x7ffd1c0a3f10, 0x80000, 0x0) = -1 ENOENT
//
// The build commands are in LibFlags and the Makefile rule for
// build/libzpoline_hook_impl.so.
package impl

// LibFlags are the compiler flags libzpoline_hook_impl.so is built with (besides -I for
// include/ and the directory of the generated zp_systab.h). -mgeneral-regs-only makes its
// ZPOLINE_HOOK_VECTOR_FREE declaration true; -nostdlib with -Wl,-z,defs turns any call
// into libc (which the hook path must never make) into a link error, and keeps dlmopen
// from loading a second libc into the hook's namespace; -Wframe-larger-than bounds the
// stack the hook uses on the loader's per-thread hook stack.
var LibFlags = []string{
	"-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror", "-mgeneral-regs-only",
	"-fvisibility=hidden", "-nostdlib", "-Wl,-z,defs", "-Wframe-larger-than=1024",
}
