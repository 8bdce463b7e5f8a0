// Package decode is zpoline-go's one decoder of x86-64 Linux system call arguments. The
// typed Go hook interface uses it to hand hooks paths, flags and buffers, and the
// `zpoline trace` command uses it to print strace-like lines for the records its C
// recorder writes; both see the same names and the same text.
//
// # Records
//
// A Call holds what a hook or a recorder captured: the number, the six argument
// registers, the result (-errno for a failure), whether the call returned at all, and
// copies of the memory its pointer arguments refer to: Call.In for memory copied at
// entry (paths, data written, structures the kernel reads) and Call.Out for memory
// copied at exit (data read, structures the kernel fills), each keyed by argument index.
// Copies are optional: a pointer without a copy prints in hex, as strace prints memory
// it cannot read. Formatting never runs in the traced program and never dereferences a
// pointer; it only reads the copies, so it cannot fault, and it never panics on any
// Call (FuzzFormat).
//
// # What to copy
//
// Captures(c, phase) lists the copies Format can use for a call, computed from its
// arguments (and at exit its result): the argument index, the phase, a layout (How) and
// a size. Collect makes them with a MemReader, such as ProcessReader, which uses
// process_vm_readv so that a bad pointer yields a short copy rather than a fault. The
// C recorder of `zpoline trace` must produce the same layouts:
//
//   - Fixed: Size bytes from the pointer. A recorder may copy fewer bytes where memory
//     ends, and only a prefix of copies marked Data (buffers); Format prints the bytes
//     it has and "..." when it knows there were more.
//   - CString: the bytes of a NUL-terminated string up to and including the NUL, at most
//     Size bytes (4096 for paths). A copy without the NUL was cut short.
//   - Strings (argv, envp): a little-endian uint32 with the number of non-NULL pointers
//     in the array, then, for as many strings as the recorder copied (Capture.Count: -1
//     all, 0 none, as for envp whose count is all strace prints), a uint32 length and a
//     CString copy of that length.
//   - Iovecs: Count struct iovec (16 bytes each) as in memory, then for each element a
//     uint32 length and that many bytes of its buffer: the start of the buffer for a
//     write, the bytes the kernel stored (the result, distributed over the buffers in
//     order) for a read.
//
// Copies are raw x86-64 memory; the decoder knows the layouts of the structures it
// prints (stat, statx, statfs, timespec, sigaction, sigset, sockaddr, pollfd,
// epoll_event, rlimit, rusage, utsname, sysinfo, tms, msghdr, open_how, clone_args,
// flock, siginfo, winsize, linux_dirent64).
//
// # Text
//
// Format(c, opts) prints a call the way strace 6 does, e.g.
//
//	openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
//	read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 1234
//	openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)
//	mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0c5a1e3000
//	exit_group(0) = ?
//	syscall_600(0x1, 0x2, 0x3, 0, 0, 0) = -1 ENOSYS (Function not implemented)
//
// with strace's conventions: strings quoted with C escapes (octal for other bytes) and
// cut at Options.StrSize bytes (default 32) with "...", paths in full, flag sets as
// names joined by '|' with unknown bits as "|0x...", unknown enumeration values as
// "0x7 /* SEEK_??? */", modes in octal, signals by name, NULL for null pointers,
// structures abbreviated as strace does ("{st_mode=S_IFREG|0644, st_size=3, ...}").
// Options.Raw prints every argument and the result in hex (strace -e raw=all).
// FormatCall and FormatResult return the two halves, for a caller that aligns results;
// AppendFormat appends a line to a caller's buffer without allocating (about 70 ns for
// getppid, 350 ns for a read with its buffer, on the development machine).
//
// About 370 system calls have a signature (ArgKinds, TypedCount); the rest print every
// argument in hex. TestStraceCrossCheck runs a subject process under strace (when
// strace is installed) and checks, for about 240 calls of some 145 different system
// calls, that Format prints exactly the line strace printed. Known differences from
// strace, by design or for simplicity:
//
//   - Unknown numbers are "syscall_600" (decimal, the module's systab name), strace
//     says "syscall_0x258".
//   - Pointers inside structures are not followed: msghdr's msg_iov and msg_name,
//     clone3's "=> {parent_tid=[...]}", ioctl structures other than struct winsize
//     (TCGETS prints its pointer), sendmmsg/recvmmsg vectors.
//   - Socket addresses of families other than AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK
//     print their raw bytes as sa_data.
//   - Value names newer than the installed strace may be printed (e.g.
//     MEMBARRIER_CMD_GET_REGISTRATIONS), and a few rare structures are abbreviated
//     further than strace does (statx, rusage).
//
// # Classes and filters
//
// ClassOf and Classes give strace's system call classes (%file, %network, %process,
// %signal, %desc, %memory, %ipc, and the stat, statfs, pure, creds and clock groups),
// and ParseTraceSet parses the value of strace's -e trace= into a Set: names, numbers,
// classes, "all", "none", /regex, ?name, and '!' negating the whole list. Unknown names
// are errors matching ErrUnknownSyscall (`unknown system call "foo"`).
//
// # Typed access
//
// For hooks: Int, Fd, Path, Bytes, Timespec and StatMode read one argument as its kind
// says; FormatArg prints one argument as Format would; Flags prints a flag or
// enumeration value by kind; ErrnoName, ErrnoText and SignalName name numbers; Name,
// Number and ArgCount delegate to the module's system call table (internal/systab).
package decode
