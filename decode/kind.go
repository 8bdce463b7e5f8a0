package decode

import (
	"strconv"
)

// Kind is the type of one system call argument: how it is printed and, for pointers,
// which memory it refers to. ArgKinds gives the kinds of a call's arguments; Flags
// prints a value of a flag or enumeration kind by itself.
type Kind uint8

// Argument kinds. Scalar kinds print the register; pointer kinds print the memory copy
// when the Call has one and the pointer in hex otherwise.
const (
	KindHex               Kind = iota // any value, printed in hex (arguments without a better kind)
	KindInt                           // C int: signed 32-bit decimal
	KindUint                          // C unsigned int: 32-bit decimal
	KindLong                          // long, off_t, pid as long: signed 64-bit decimal
	KindUlong                         // size_t, unsigned long: 64-bit decimal
	KindPtr                           // pointer not decoded: NULL or hex
	KindFd                            // file descriptor (int)
	KindDirfd                         // directory descriptor of the *at calls: AT_FDCWD or a descriptor
	KindUid                           // uid_t or gid_t: -1 prints as -1
	KindPath                          // NUL-terminated path, printed in full
	KindString                        // NUL-terminated string, limited by Options.StrSize
	KindBufIn                         // bytes the program passes, length in another argument
	KindBufOut                        // bytes the kernel writes, length = the result
	KindRandomOut                     // bytes the kernel writes, printed hex-escaped (getrandom)
	KindStrOut                        // NUL-terminated string the kernel writes (getcwd)
	KindMode                          // permission bits: octal, "0644"
	KindModeType                      // file type and permission bits: "S_IFCHR|0600"
	KindDev                           // device number: "makedev(0x1, 0x3)"
	KindOpenFlags                     // O_RDONLY|O_CLOEXEC
	KindOFlags                        // O_* flags without an access mode (dup3, pipe2): O_CLOEXEC
	KindOpenMode                      // the mode of open/openat, printed only with O_CREAT or O_TMPFILE
	KindAtFlags                       // AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH
	KindFaccessatFlags                // AT_EACCESS|AT_SYMLINK_NOFOLLOW
	KindStatxFlags                    // AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH
	KindStatxMask                     // STATX_BASIC_STATS
	KindAccessMode                    // F_OK or R_OK|W_OK|X_OK
	KindWhence                        // SEEK_SET
	KindProt                          // PROT_READ|PROT_WRITE
	KindMmapFlags                     // MAP_PRIVATE|MAP_ANONYMOUS
	KindMremapFlags                   // MREMAP_MAYMOVE
	KindMremapAddr                    // new address of mremap, printed only with MREMAP_MAYMOVE|MREMAP_FIXED
	KindMsyncFlags                    // MS_SYNC
	KindMadvise                       // MADV_DONTNEED
	KindMlockallFlags                 // MCL_CURRENT|MCL_FUTURE
	KindMlock2Flags                   // MLOCK_ONFAULT
	KindCloneFlags                    // CLONE_VM|CLONE_FS (unshare, setns; clone has its own form)
	KindSignal                        // SIGINT, SIGRTMIN, SIGRT_3
	KindSigset                        // pointer to a signal set: [INT TERM], ~[RTMIN]
	KindSigHow                        // SIG_BLOCK
	KindSigaction                     // pointer to struct sigaction
	KindSaFlags                       // SA_RESTORER|SA_RESTART (inside sigaction)
	KindStack                         // pointer to stack_t (sigaltstack)
	KindFutexOp                       // FUTEX_WAIT_PRIVATE
	KindAddrFamily                    // AF_INET
	KindSockType                      // SOCK_STREAM|SOCK_CLOEXEC
	KindSockFlags                     // SOCK_CLOEXEC|SOCK_NONBLOCK (accept4)
	KindSockProto                     // protocol of socket(): IPPROTO_TCP, NETLINK_ROUTE
	KindSockaddr                      // pointer to a socket address, length in another argument
	KindSocklen                       // pointer to socklen_t: [16] or [128 => 16]
	KindSockLevel                     // SOL_SOCKET
	KindSockOpt                       // option name, by level: SO_REUSEADDR, TCP_NODELAY
	KindSockOptVal                    // option value: [1] for an int, else bytes
	KindMsgFlags                      // MSG_DONTWAIT|MSG_NOSIGNAL
	KindShutdownHow                   // SHUT_RDWR
	KindMsghdr                        // pointer to struct msghdr
	KindFcntlCmd                      // F_SETFD
	KindFcntlArg                      // the third argument of fcntl, by command
	KindIoctlCmd                      // TCGETS, or _IOC(...)
	KindIoctlArg                      // the third argument of ioctl, by request
	KindFlockOp                       // LOCK_EX|LOCK_NB
	KindStat                          // pointer to struct stat
	KindStatx                         // pointer to struct statx
	KindStatfs                        // pointer to struct statfs
	KindTimespec                      // pointer to struct timespec
	KindTimeval                       // pointer to struct timeval
	KindItimerspec                    // pointer to struct itimerspec
	KindItimerval                     // pointer to struct itimerval
	KindUtimens                       // pointer to struct timespec[2] (utimensat)
	KindClockID                       // CLOCK_MONOTONIC
	KindTimerFlags                    // TIMER_ABSTIME
	KindItimerWhich                   // ITIMER_REAL
	KindRlimitResource                // RLIMIT_NOFILE
	KindRlimit                        // pointer to struct rlimit
	KindRusageWho                     // RUSAGE_SELF
	KindRusage                        // pointer to struct rusage
	KindPollfds                       // pointer to struct pollfd[nfds]
	KindFdset                         // pointer to fd_set: [3 4]
	KindIovec                         // pointer to struct iovec[iovcnt]
	KindArgv                          // argv of execve: ["ls", "-l"]
	KindEnvp                          // envp of execve: 0x7ffd... /* 20 vars */
	KindWaitStatus                    // pointer to int wstatus: [{WIFEXITED(s) && WEXITSTATUS(s) == 0}]
	KindWaitOptions                   // WNOHANG|__WALL (wait4)
	KindWaitidOptions                 // WEXITED|WNOHANG (waitid)
	KindIdtype                        // P_PID
	KindSiginfo                       // pointer to siginfo_t
	KindUtsname                       // pointer to struct utsname
	KindSysinfo                       // pointer to struct sysinfo
	KindTms                           // pointer to struct tms
	KindIntPtr                        // pointer to int: [5]
	KindLoffPtr                       // pointer to loff_t or off_t: [4096]
	KindPipeFds                       // pointer to int[2]: [3, 4]
	KindEpollOp                       // EPOLL_CTL_ADD
	KindEpollEvent                    // pointer to one struct epoll_event
	KindEpollEvents                   // pointer to struct epoll_event[result]
	KindEpollFlags                    // EPOLL_CLOEXEC
	KindEventfdFlags                  // EFD_CLOEXEC|EFD_NONBLOCK
	KindTimerfdFlags                  // TFD_CLOEXEC, TFD_TIMER_ABSTIME
	KindSignalfdFlags                 // SFD_CLOEXEC
	KindInotifyInitFlags              // IN_CLOEXEC
	KindInotifyMask                   // IN_CREATE|IN_DELETE
	KindGetrandomFlags                // GRND_NONBLOCK
	KindMemfdFlags                    // MFD_CLOEXEC
	KindRenameFlags                   // RENAME_NOREPLACE
	KindCloseRangeFlags               // CLOSE_RANGE_CLOEXEC
	KindPidfdFlags                    // PIDFD_NONBLOCK
	KindOpenHow                       // pointer to struct open_how (openat2)
	KindCloneArgs                     // pointer to struct clone_args (clone3)
	KindArchPrctlCode                 // ARCH_SET_FS
	KindPrctlOption                   // PR_SET_NAME
	KindPtraceRequest                 // PTRACE_TRACEME
	KindCPUMask                       // pointer to a CPU mask: [0 1 2 3]
	KindDirents                       // pointer to linux_dirent64 records: 0x... /* 4 entries */
	KindPrioWhich                     // PRIO_PROCESS
	KindSchedPolicy                   // SCHED_OTHER
	KindMembarrierCmd                 // MEMBARRIER_CMD_QUERY
	KindFallocateMode                 // FALLOC_FL_KEEP_SIZE
	KindSpliceFlags                   // SPLICE_F_MOVE
	KindMountFlags                    // MS_BIND|MS_REC
	KindUmountFlags                   // MNT_DETACH
	KindIoUringEnterFlags             // IORING_ENTER_GETEVENTS
	KindIoUringOp                     // IORING_REGISTER_BUFFERS
	KindIpcCmd                        // IPC_RMID
	KindIpcFlags                      // IPC_CREAT|0600
	KindShmFlags                      // IPC_CREAT|SHM_HUGETLB|0600
	KindShmatFlags                    // SHM_RDONLY
	KindRseqFlags                     // RSEQ_FLAG_UNREGISTER
	KindFadvice                       // POSIX_FADV_DONTNEED
	KindXattrFlags                    // XATTR_CREATE
	KindSyncRangeFlags                // SYNC_FILE_RANGE_WRITE
	KindSeccompOp                     // SECCOMP_SET_MODE_FILTER
	KindLockType                      // F_RDLCK (struct flock, F_SETLEASE)
	KindFdFlags                       // FD_CLOEXEC
	KindSeals                         // F_SEAL_SEAL|F_SEAL_WRITE
	KindMincoreVec                    // mincore result vector: [1, 0, 1]
	KindMembarrierCPU                 // cpu_id of membarrier, printed only with MEMBARRIER_CMD_FLAG_CPU
	KindPersonality                   // PER_LINUX|ADDR_NO_RANDOMIZE
	KindLast                          // number of kinds; not a kind
)

var kindNames = [KindLast]string{
	"hex", "int", "uint", "long", "ulong", "ptr", "fd", "dirfd", "uid", "path", "string", "buf_in",
	"buf_out", "random_out", "str_out", "mode", "mode_type", "dev", "open_flags", "o_flags", "open_mode", "at_flags",
	"faccessat_flags", "statx_flags", "statx_mask", "access_mode", "whence", "prot", "mmap_flags",
	"mremap_flags", "mremap_addr", "msync_flags", "madvise", "mlockall_flags", "mlock2_flags", "clone_flags", "signal",
	"sigset", "sighow", "sigaction", "sa_flags", "stack", "futex_op", "addr_family", "sock_type",
	"sock_flags", "sock_proto", "sockaddr", "socklen", "sock_level", "sock_opt", "sock_opt_val",
	"msg_flags", "shutdown_how", "msghdr", "fcntl_cmd", "fcntl_arg", "ioctl_cmd", "ioctl_arg",
	"flock_op", "stat", "statx", "statfs", "timespec", "timeval", "itimerspec", "itimerval", "utimens",
	"clock_id", "timer_flags", "itimer_which", "rlimit_resource", "rlimit", "rusage_who", "rusage",
	"pollfds", "fdset", "iovec", "argv", "envp", "wait_status", "wait_options", "waitid_options",
	"idtype", "siginfo", "utsname", "sysinfo", "tms", "int_ptr", "loff_ptr", "pipe_fds", "epoll_op",
	"epoll_event", "epoll_events", "epoll_flags", "eventfd_flags", "timerfd_flags", "signalfd_flags",
	"inotify_init_flags", "inotify_mask", "getrandom_flags", "memfd_flags", "rename_flags",
	"close_range_flags", "pidfd_flags", "open_how", "clone_args", "arch_prctl_code", "prctl_option",
	"ptrace_request", "cpu_mask", "dirents", "prio_which", "sched_policy", "membarrier_cmd",
	"fallocate_mode", "splice_flags", "mount_flags", "umount_flags", "io_uring_enter_flags",
	"io_uring_op", "ipc_cmd", "ipc_flags", "shm_flags", "shmat_flags", "rseq_flags", "fadvice",
	"xattr_flags", "sync_range_flags", "seccomp_op", "lock_type", "fd_flags", "seals", "mincore_vec",
	"personality", "membarrier_cpu",
}

// String returns the kind's name in snake case ("open_flags").
func (k Kind) String() string {
	if k < KindLast {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// kindTable is the table of a plain flag or enumeration kind.
type kindTable struct {
	x     *xlat
	flags bool
}

// kindTabs is kindTables indexed by kind.
var kindTabs [KindLast]kindTable

func init() {
	for k, t := range kindTables {
		kindTabs[k] = t
	}
}

// kindTables maps the plain flag and enumeration kinds to their tables.
var kindTables = map[Kind]kindTable{
	KindAtFlags:           {xAtFlags, true},
	KindFaccessatFlags:    {xFaccessatFlags, true},
	KindStatxMask:         {xStatxMask, true},
	KindAccessMode:        {xAccessMode, true},
	KindWhence:            {xWhence, false},
	KindProt:              {xProt, true},
	KindMremapFlags:       {xMremap, true},
	KindMsyncFlags:        {xMsync, true},
	KindMadvise:           {xMadvise, false},
	KindMlockallFlags:     {xMlockall, true},
	KindMlock2Flags:       {xMlock2, true},
	KindCloneFlags:        {xClone, true},
	KindSigHow:            {xSigHow, false},
	KindSaFlags:           {xSaFlags, true},
	KindAddrFamily:        {xAddrFamily, false},
	KindSockFlags:         {xSockFlags, true},
	KindSockLevel:         {xSockLevel, false},
	KindMsgFlags:          {xMsgFlags, true},
	KindShutdownHow:       {xShutdown, false},
	KindFcntlCmd:          {xFcntlCmd, false},
	KindFlockOp:           {xFlockOp, true},
	KindClockID:           {xClock, false},
	KindTimerFlags:        {xTimerFlags, true},
	KindItimerWhich:       {xItimer, false},
	KindRlimitResource:    {xRlimit, false},
	KindRusageWho:         {xRusageWho, false},
	KindSchedPolicy:       {xSchedPol, false},
	KindOFlags:            {xOpenFlags, true},
	KindWaitOptions:       {xWait4Options, true},
	KindWaitidOptions:     {xWaitOptions, true},
	KindIdtype:            {xIdtype, false},
	KindEpollOp:           {xEpollOp, false},
	KindEpollFlags:        {xEpollFlags, true},
	KindEventfdFlags:      {xEventfdFlags, true},
	KindTimerfdFlags:      {xTimerfdFlags, true},
	KindSignalfdFlags:     {xSignalfdFlags, true},
	KindInotifyInitFlags:  {xInotifyInit, true},
	KindInotifyMask:       {xInotifyMask, true},
	KindGetrandomFlags:    {xGrnd, true},
	KindRenameFlags:       {xRename, true},
	KindCloseRangeFlags:   {xCloseRange, true},
	KindPidfdFlags:        {xPidfdFlags, true},
	KindArchPrctlCode:     {xArchPrctl, false},
	KindPrctlOption:       {xPrctl, false},
	KindPtraceRequest:     {xPtrace, false},
	KindPrioWhich:         {xPrioWhich, false},
	KindMembarrierCmd:     {xMembarrier, false},
	KindFallocateMode:     {xFalloc, true},
	KindSpliceFlags:       {xSplice, true},
	KindMountFlags:        {xMountFl, true},
	KindUmountFlags:       {xUmount, true},
	KindIoUringEnterFlags: {xIoUringEnter, true},
	KindIoUringOp:         {xIoUringRegister, false},
	KindShmatFlags:        {xShmat, true},
	KindRseqFlags:         {xRseq, true},
	KindFadvice:           {xFadvise, false},
	KindXattrFlags:        {xXattr, true},
	KindSyncRangeFlags:    {xFsyncRange, true},
	KindSeccompOp:         {xSeccompOp, false},
	KindLockType:          {xLockType, false},
	KindFdFlags:           {xFdFlags, true},
	KindSeals:             {xSeals, true},
	KindEpollEvent:        {xEpollEv, true},
	KindPollfds:           {xPollEv, true},
	KindIpcCmd:            {xIpcCmd, false},
}

// Flags returns the symbolic form of the value v of an argument of kind k, as Format
// prints it: names joined by '|' for flag sets ("O_RDONLY|O_CLOEXEC", unknown bits as
// "|0x40000000"), the name for enumerations ("SEEK_END", unknown values as
// "0x7 /* SEEK_??? */"), signal names ("SIGINT"), octal for modes ("0644"). For
// KindEpollEvent and KindPollfds it names the event bits (EPOLLIN, POLLIN). For kinds
// that are not a value (pointers, paths) it returns v in hex.
func Flags(k Kind, v uint64) string {
	var b wbuf
	writeValue(&b, k, v)
	return b.String()
}

// writeValue writes the symbolic form of the scalar value v of kind k.
func writeValue(b *wbuf, k Kind, v uint64) {
	if k < KindLast && kindTabs[k].x != nil {
		t := kindTabs[k]
		if t.flags {
			t.x.flags(b, v)
		} else {
			// Enumerations are C ints: the kernel looks at the low 32 bits.
			t.x.enum(b, uint64(uint32(v)))
		}
		return
	}
	switch k {
	case KindInt, KindFd:
		wInt(b, int64(int32(v)))
	case KindUint:
		wUint(b, uint64(uint32(v)))
	case KindLong:
		wInt(b, int64(v))
	case KindUlong:
		wUint(b, v)
	case KindUid:
		writeUid(b, v)
	case KindDirfd:
		writeDirfd(b, v)
	case KindMode, KindOpenMode:
		writeOct(b, uint64(uint32(v)))
	case KindModeType:
		writeModeType(b, uint32(v))
	case KindDev:
		writeDev(b, v)
	case KindOpenFlags:
		writeOpenFlags(b, v)
	case KindStatxFlags:
		writeStatxFlags(b, v)
	case KindMmapFlags:
		writeMmapFlags(b, v)
	case KindSignal:
		writeSignal(b, v)
	case KindFutexOp:
		writeFutexOp(b, v)
	case KindSockType:
		writeSockType(b, v)
	case KindIoctlCmd:
		writeIoctlCmd(b, v)
	case KindMemfdFlags:
		writeMemfdFlags(b, v)
	case KindIpcFlags:
		writeIpcFlags(b, xIpcFlags, v)
	case KindShmFlags:
		writeIpcFlags(b, xShmFlags, v)
	case KindPtr:
		writePtr(b, v)
	case KindPersonality:
		writePersonality(b, v)
	default:
		writeHex(b, v)
	}
}

// writePtr writes a pointer: NULL or hex.
func writePtr(b *wbuf, v uint64) {
	if v == 0 {
		b.WriteString("NULL")
		return
	}
	writeHex(b, v)
}

// atFdcwd is AT_FDCWD as the kernel sees it in an int argument.
const atFdcwd = -100

func writeDirfd(b *wbuf, v uint64) {
	if int32(v) == atFdcwd {
		b.WriteString("AT_FDCWD")
		return
	}
	wInt(b, int64(int32(v)))
}

func writeUid(b *wbuf, v uint64) {
	if uint32(v) == 0xffffffff {
		b.WriteString("-1")
		return
	}
	wUint(b, uint64(uint32(v)))
}

// writeModeType writes a file type and mode as strace does: "S_IFREG|0644",
// "S_IFDIR|S_ISVTX|0777"; the mode alone when the type is zero.
func writeModeType(b *wbuf, m uint32) {
	if t := uint64(m & 0o170000); t != 0 {
		if n, ok := xFileType.lookup(t); ok {
			b.WriteString(n)
		} else {
			writeOct(b, t)
		}
		b.WriteByte('|')
		for _, f := range []struct {
			bit  uint32
			name string
		}{{0o4000, "S_ISUID"}, {0o2000, "S_ISGID"}, {0o1000, "S_ISVTX"}} {
			if m&f.bit != 0 {
				b.WriteString(f.name)
				b.WriteByte('|')
			}
		}
		writeOct(b, uint64(m&0o777))
		return
	}
	writeOct(b, uint64(m))
}

// writeDev writes a dev_t as strace does: "makedev(0x1, 0x3)".
func writeDev(b *wbuf, d uint64) {
	major := (d>>8)&0xfff | (d>>32)&^0xfff
	minor := d&0xff | (d>>12)&^0xff
	b.WriteString("makedev(")
	b.WriteString("0x" + strconv.FormatUint(major, 16))
	b.WriteString(", ")
	b.WriteString("0x" + strconv.FormatUint(minor, 16))
	b.WriteByte(')')
}

func writeOpenFlags(b *wbuf, v uint64) {
	xOpenAccess.enum(b, v&3)
	xOpenFlags.flagsAfter(b, v&^3)
}

func writeStatxFlags(b *wbuf, v uint64) {
	xStatxSync.enum(b, v&0x6000)
	xAtFlags.flagsAfter(b, v&^0x6000)
}

// mapHugeShift is MAP_HUGE_SHIFT, also MFD_HUGE_SHIFT.
const mapHugeShift = 26

func writeMmapFlags(b *wbuf, v uint64) {
	xMapType.enum(b, v&0xf)
	rest := v &^ 0xf
	huge := rest & (0x3f << mapHugeShift)
	rest &^= huge
	xMapFlags.flagsAfter(b, rest)
	if huge != 0 {
		b.WriteString("|" + strconv.FormatUint(huge>>mapHugeShift, 10) + "<<MAP_HUGE_SHIFT")
	}
}

func writeMemfdFlags(b *wbuf, v uint64) {
	huge := v & (0x3f << mapHugeShift)
	v &^= huge
	if v != 0 || huge == 0 {
		xMemfd.flags(b, v)
		if huge != 0 {
			b.WriteByte('|')
		}
	}
	if huge != 0 {
		b.WriteString(strconv.FormatUint(huge>>mapHugeShift, 10) + "<<MFD_HUGE_SHIFT")
	}
}

// writeIpcFlags writes IPC flags with the permission bits in octal: "IPC_CREAT|0600".
func writeIpcFlags(b *wbuf, t *xlat, v uint64) {
	perm := v & 0o777
	v &^= 0o777
	if v != 0 {
		t.flags(b, v)
		b.WriteByte('|')
	}
	writeOct(b, perm)
}

func writeSockType(b *wbuf, v uint64) {
	if n, ok := xSockType.lookup(v & 0xf); ok {
		b.WriteString(n)
		xSockFlags.flagsAfter(b, v&^0xf)
		return
	}
	xSockFlags.flags(b, v)
}

// Futex operation bits.
const (
	futexPrivate  = 128
	futexRealtime = 256
)

func writeFutexOp(b *wbuf, v uint64) {
	cmd := v &^ (futexPrivate | futexRealtime)
	n, ok := xFutexCmd.lookup(cmd)
	if !ok {
		writeHex(b, v)
		b.WriteString(" /* FUTEX_??? */")
		return
	}
	b.WriteString(n)
	if v&futexPrivate != 0 {
		b.WriteString("_PRIVATE")
	}
	if v&futexRealtime != 0 {
		b.WriteString("|FUTEX_CLOCK_REALTIME")
	}
}

// writeIoctlCmd writes an ioctl request by name, or in the kernel's _IOC notation.
func writeIoctlCmd(b *wbuf, v uint64) {
	v = uint64(uint32(v))
	if n, ok := xTermios.lookup(v); ok {
		b.WriteString(n)
		return
	}
	dir := v >> 30
	b.WriteString("_IOC(")
	switch dir {
	case 0:
		b.WriteString("_IOC_NONE")
	case 1:
		b.WriteString("_IOC_WRITE")
	case 2:
		b.WriteString("_IOC_READ")
	default:
		b.WriteString("_IOC_READ|_IOC_WRITE")
	}
	b.WriteString(", 0x" + strconv.FormatUint((v>>8)&0xff, 16))
	b.WriteString(", 0x" + strconv.FormatUint(v&0xff, 16))
	b.WriteString(", 0x" + strconv.FormatUint((v>>16)&0x3fff, 16))
	b.WriteByte(')')
}

var xPersonaFlags = x("",
	xent{0x0020000, "UNAME26"}, xent{0x0040000, "ADDR_NO_RANDOMIZE"}, xent{0x0080000, "FDPIC_FUNCPTRS"},
	xent{0x0100000, "MMAP_PAGE_ZERO"}, xent{0x0200000, "ADDR_COMPAT_LAYOUT"}, xent{0x0400000, "READ_IMPLIES_EXEC"},
	xent{0x0800000, "ADDR_LIMIT_32BIT"}, xent{0x1000000, "SHORT_INODE"}, xent{0x2000000, "WHOLE_SECONDS"},
	xent{0x4000000, "STICKY_TIMEOUTS"}, xent{0x8000000, "ADDR_LIMIT_3GB"})

var xPersona = x("PER_", xent{0, "PER_LINUX"}, xent{8, "PER_LINUX32"}, xent{0x0010, "PER_LINUX_FDPIC"})

// writePersonality writes a persona with its flags: "PER_LINUX|ADDR_NO_RANDOMIZE";
// 0xffffffff, the query, prints in hex.
func writePersonality(b *wbuf, v uint64) {
	v = uint64(uint32(v))
	if v == 0xffffffff {
		writeHex(b, v)
		return
	}
	xPersona.enum(b, v&0xff)
	xPersonaFlags.flagsAfter(b, v&^0xff)
}
