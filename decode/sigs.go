package decode

import (
	"sync"

	"github.com/zpoline-go/zpoline/internal/systab"
)

// dir says which copies of a pointer argument the decoder uses.
type dir uint8

const (
	dirNone dir = 0
	dirIn   dir = 1 << iota // read by the kernel: copied at entry
	dirOut                  // written by the kernel: copied at exit
)

// arg describes one argument of a system call.
type arg struct {
	kind Kind
	dir  dir
	n    int8 // index of the argument holding the length or count, -1 if none
}

// retKind says how a successful result prints.
type retKind uint8

const (
	retDec         retKind = iota // decimal
	retHex                        // address: mmap, brk, mremap, shmat
	retOct                        // umask
	retFcntl                      // fcntl: flags of F_GETFL, F_GETFD, F_GET_SEALS
	retPoll                       // poll, ppoll: "0 (Timeout)" or the returned events
	retSelect                     // select, pselect6: "0 (Timeout)" or the ready sets
	retPrctl                      // prctl: PR_GET_DUMPABLE's value named
	retSchedPolicy                // sched_getscheduler: "0 (SCHED_OTHER)"
	retPersonality                // personality: "0 (PER_LINUX)"
	retMembarrier                 // membarrier: the commands MEMBARRIER_CMD_QUERY returns
)

// sig is the signature of one system call.
type sig struct {
	args []arg
	ret  retKind
	nf   bool           // never fails: results in -4095..-1 are values, not errors
	fn   func(*printer) // prints the whole argument list, for calls whose arguments depend on each other
}

func a(k Kind) arg                  { return arg{kind: k, n: -1} }
func in(k Kind) arg                 { return arg{kind: k, dir: dirIn, n: -1} }
func inN(k Kind, n int8) arg        { return arg{kind: k, dir: dirIn, n: n} }
func out(k Kind) arg                { return arg{kind: k, dir: dirOut, n: -1} }
func outN(k Kind, n int8) arg       { return arg{kind: k, dir: dirOut, n: n} }
func inout(k Kind) arg              { return arg{kind: k, dir: dirIn | dirOut, n: -1} }
func inoutN(k Kind, n int8) arg     { return arg{kind: k, dir: dirIn | dirOut, n: n} }
func s(args ...arg) sig             { return sig{args: args} }
func sr(r retKind, args ...arg) sig { return sig{args: args, ret: r} }

var (
	fd     = a(KindFd)
	dirfd  = a(KindDirfd)
	path   = in(KindPath)
	str    = in(KindString)
	ptr    = a(KindPtr)
	hex    = a(KindHex)
	i32    = a(KindInt)
	u32    = a(KindUint)
	i64    = a(KindLong)
	u64    = a(KindUlong)
	uid    = a(KindUid)
	mode   = a(KindMode)
	sigArg = a(KindSignal)
)

// sigTable holds the signatures by name. Calls that are not listed print every argument
// in hex, as strace does for calls it does not decode.
var sigTable = map[string]sig{
	"read":                    s(fd, out(KindBufOut), u64),
	"write":                   s(fd, inN(KindBufIn, 2), u64),
	"open":                    s(path, a(KindOpenFlags), a(KindOpenMode)),
	"close":                   s(fd),
	"stat":                    s(path, out(KindStat)),
	"fstat":                   s(fd, out(KindStat)),
	"lstat":                   s(path, out(KindStat)),
	"poll":                    sr(retPoll, inoutN(KindPollfds, 1), u32, i32),
	"lseek":                   s(fd, i64, a(KindWhence)),
	"mmap":                    sr(retHex, ptr, u64, a(KindProt), a(KindMmapFlags), fd, hex),
	"mprotect":                s(ptr, u64, a(KindProt)),
	"munmap":                  s(ptr, u64),
	"brk":                     {args: []arg{ptr}, ret: retHex, nf: true},
	"rt_sigaction":            s(sigArg, in(KindSigaction), out(KindSigaction), u64),
	"rt_sigprocmask":          s(a(KindSigHow), inN(KindSigset, 3), outN(KindSigset, 3), u64),
	"rt_sigreturn":            s(),
	"ioctl":                   s(fd, a(KindIoctlCmd), a(KindIoctlArg)),
	"pread64":                 s(fd, out(KindBufOut), u64, i64),
	"pwrite64":                s(fd, inN(KindBufIn, 2), u64, i64),
	"readv":                   s(fd, outN(KindIovec, 2), i32),
	"writev":                  s(fd, inN(KindIovec, 2), i32),
	"access":                  s(path, a(KindAccessMode)),
	"pipe":                    s(out(KindPipeFds)),
	"select":                  sr(retSelect, i32, inoutN(KindFdset, 0), inoutN(KindFdset, 0), inoutN(KindFdset, 0), inout(KindTimeval)),
	"sched_yield":             s(),
	"mremap":                  sr(retHex, ptr, u64, u64, a(KindMremapFlags), a(KindMremapAddr)),
	"msync":                   s(ptr, u64, a(KindMsyncFlags)),
	"mincore":                 s(ptr, u64, out(KindMincoreVec)),
	"madvise":                 s(ptr, u64, a(KindMadvise)),
	"shmget":                  s(hex, u64, a(KindShmFlags)),
	"shmat":                   sr(retHex, i32, ptr, a(KindShmatFlags)),
	"shmctl":                  s(i32, a(KindIpcCmd), ptr),
	"dup":                     s(fd),
	"dup2":                    s(fd, fd),
	"pause":                   s(),
	"nanosleep":               s(in(KindTimespec), out(KindTimespec)),
	"getitimer":               s(a(KindItimerWhich), out(KindItimerval)),
	"alarm":                   s(u32),
	"setitimer":               s(a(KindItimerWhich), in(KindItimerval), out(KindItimerval)),
	"getpid":                  {nf: true},
	"sendfile":                s(fd, fd, inout(KindLoffPtr), u64),
	"socket":                  s(a(KindAddrFamily), a(KindSockType), a(KindSockProto)),
	"connect":                 s(fd, inN(KindSockaddr, 2), u32),
	"accept":                  s(fd, outN(KindSockaddr, 2), inout(KindSocklen)),
	"sendto":                  s(fd, inN(KindBufIn, 2), u64, a(KindMsgFlags), inN(KindSockaddr, 5), u32),
	"recvfrom":                s(fd, out(KindBufOut), u64, a(KindMsgFlags), outN(KindSockaddr, 5), inout(KindSocklen)),
	"sendmsg":                 s(fd, in(KindMsghdr), a(KindMsgFlags)),
	"recvmsg":                 s(fd, inout(KindMsghdr), a(KindMsgFlags)),
	"shutdown":                s(fd, a(KindShutdownHow)),
	"bind":                    s(fd, inN(KindSockaddr, 2), u32),
	"listen":                  s(fd, i32),
	"getsockname":             s(fd, outN(KindSockaddr, 2), inout(KindSocklen)),
	"getpeername":             s(fd, outN(KindSockaddr, 2), inout(KindSocklen)),
	"socketpair":              s(a(KindAddrFamily), a(KindSockType), a(KindSockProto), out(KindPipeFds)),
	"setsockopt":              s(fd, a(KindSockLevel), a(KindSockOpt), inN(KindSockOptVal, 4), u32),
	"getsockopt":              s(fd, a(KindSockLevel), a(KindSockOpt), outN(KindSockOptVal, 4), inout(KindSocklen)),
	"fork":                    s(),
	"vfork":                   s(),
	"execve":                  s(path, in(KindArgv), in(KindEnvp)),
	"exit":                    s(i32),
	"wait4":                   s(i32, out(KindWaitStatus), a(KindWaitOptions), out(KindRusage)),
	"kill":                    s(i32, sigArg),
	"uname":                   s(out(KindUtsname)),
	"semget":                  s(hex, i32, a(KindIpcFlags)),
	"semop":                   s(i32, ptr, u32),
	"semctl":                  s(i32, i32, a(KindIpcCmd), hex),
	"shmdt":                   s(ptr),
	"msgget":                  s(hex, a(KindIpcFlags)),
	"msgsnd":                  s(i32, ptr, u64, a(KindIpcFlags)),
	"msgrcv":                  s(i32, ptr, u64, i64, a(KindIpcFlags)),
	"msgctl":                  s(i32, a(KindIpcCmd), ptr),
	"fcntl":                   sr(retFcntl, fd, a(KindFcntlCmd), inout(KindFcntlArg)),
	"flock":                   s(fd, a(KindFlockOp)),
	"fsync":                   s(fd),
	"fdatasync":               s(fd),
	"truncate":                s(path, i64),
	"ftruncate":               s(fd, i64),
	"getdents":                s(fd, out(KindDirents), u32),
	"getcwd":                  s(out(KindStrOut), u64),
	"chdir":                   s(path),
	"fchdir":                  s(fd),
	"rename":                  s(path, path),
	"mkdir":                   s(path, mode),
	"rmdir":                   s(path),
	"creat":                   s(path, mode),
	"link":                    s(path, path),
	"unlink":                  s(path),
	"symlink":                 s(path, path),
	"readlink":                s(path, out(KindBufOut), u64),
	"chmod":                   s(path, mode),
	"fchmod":                  s(fd, mode),
	"chown":                   s(path, uid, uid),
	"fchown":                  s(fd, uid, uid),
	"lchown":                  s(path, uid, uid),
	"umask":                   {args: []arg{mode}, ret: retOct, nf: true},
	"gettimeofday":            s(out(KindTimeval), ptr),
	"getrlimit":               s(a(KindRlimitResource), out(KindRlimit)),
	"getrusage":               s(a(KindRusageWho), out(KindRusage)),
	"sysinfo":                 s(out(KindSysinfo)),
	"times":                   {args: []arg{out(KindTms)}, nf: true},
	"getuid":                  {nf: true},
	"syslog":                  s(i32, ptr, i32),
	"getgid":                  {nf: true},
	"setuid":                  s(uid),
	"setgid":                  s(uid),
	"geteuid":                 {nf: true},
	"getegid":                 {nf: true},
	"setpgid":                 s(i32, i32),
	"getppid":                 {nf: true},
	"getpgrp":                 {nf: true},
	"setsid":                  s(),
	"setreuid":                s(uid, uid),
	"setregid":                s(uid, uid),
	"getgroups":               s(i32, ptr),
	"setgroups":               s(i32, ptr),
	"setresuid":               s(uid, uid, uid),
	"getresuid":               s(out(KindIntPtr), out(KindIntPtr), out(KindIntPtr)),
	"setresgid":               s(uid, uid, uid),
	"getresgid":               s(out(KindIntPtr), out(KindIntPtr), out(KindIntPtr)),
	"getpgid":                 s(i32),
	"setfsuid":                {args: []arg{uid}, nf: true},
	"setfsgid":                {args: []arg{uid}, nf: true},
	"getsid":                  s(i32),
	"capget":                  s(ptr, ptr),
	"capset":                  s(ptr, ptr),
	"rt_sigpending":           s(outN(KindSigset, 1), u64),
	"rt_sigtimedwait":         s(inN(KindSigset, 3), ptr, in(KindTimespec), u64),
	"rt_sigqueueinfo":         s(i32, sigArg, ptr),
	"rt_sigsuspend":           s(inN(KindSigset, 1), u64),
	"sigaltstack":             s(in(KindStack), out(KindStack)),
	"utime":                   s(path, ptr),
	"mknod":                   s(path, a(KindModeType), a(KindDev)),
	"personality":             {args: []arg{a(KindPersonality)}, ret: retPersonality, nf: true},
	"statfs":                  s(path, out(KindStatfs)),
	"fstatfs":                 s(fd, out(KindStatfs)),
	"getpriority":             s(a(KindPrioWhich), i32),
	"setpriority":             s(a(KindPrioWhich), i32, i32),
	"sched_setparam":          s(i32, ptr),
	"sched_getparam":          s(i32, ptr),
	"sched_setscheduler":      s(i32, a(KindSchedPolicy), ptr),
	"sched_getscheduler":      sr(retSchedPolicy, i32),
	"sched_get_priority_max":  s(a(KindSchedPolicy)),
	"sched_get_priority_min":  s(a(KindSchedPolicy)),
	"sched_rr_get_interval":   s(i32, out(KindTimespec)),
	"mlock":                   s(ptr, u64),
	"munlock":                 s(ptr, u64),
	"mlockall":                s(a(KindMlockallFlags)),
	"munlockall":              s(),
	"vhangup":                 s(),
	"modify_ldt":              s(i32, ptr, u64),
	"pivot_root":              s(path, path),
	"adjtimex":                s(ptr),
	"setrlimit":               s(a(KindRlimitResource), in(KindRlimit)),
	"chroot":                  s(path),
	"sync":                    s(),
	"acct":                    s(path),
	"settimeofday":            s(in(KindTimeval), ptr),
	"mount":                   s(path, path, str, a(KindMountFlags), ptr),
	"umount2":                 s(path, a(KindUmountFlags)),
	"swapon":                  s(path, hex),
	"swapoff":                 s(path),
	"reboot":                  s(hex, hex, hex, ptr),
	"sethostname":             s(inN(KindBufIn, 1), u64),
	"setdomainname":           s(inN(KindBufIn, 1), u64),
	"iopl":                    s(i32),
	"ioperm":                  s(u64, u64, i32),
	"init_module":             s(ptr, u64, str),
	"delete_module":           s(str, hex),
	"gettid":                  {nf: true},
	"readahead":               s(fd, i64, u64),
	"setxattr":                s(path, str, inN(KindBufIn, 3), u64, a(KindXattrFlags)),
	"lsetxattr":               s(path, str, inN(KindBufIn, 3), u64, a(KindXattrFlags)),
	"fsetxattr":               s(fd, str, inN(KindBufIn, 3), u64, a(KindXattrFlags)),
	"getxattr":                s(path, str, out(KindBufOut), u64),
	"lgetxattr":               s(path, str, out(KindBufOut), u64),
	"fgetxattr":               s(fd, str, out(KindBufOut), u64),
	"listxattr":               s(path, out(KindBufOut), u64),
	"llistxattr":              s(path, out(KindBufOut), u64),
	"flistxattr":              s(fd, out(KindBufOut), u64),
	"removexattr":             s(path, str),
	"lremovexattr":            s(path, str),
	"fremovexattr":            s(fd, str),
	"tkill":                   s(i32, sigArg),
	"time":                    s(ptr),
	"sched_setaffinity":       s(i32, u32, inN(KindCPUMask, 1)),
	"sched_getaffinity":       s(i32, u32, out(KindCPUMask)),
	"io_setup":                s(u32, ptr),
	"io_destroy":              s(hex),
	"io_getevents":            s(hex, i64, i64, ptr, in(KindTimespec)),
	"io_submit":               s(hex, i64, ptr),
	"io_cancel":               s(hex, ptr, ptr),
	"epoll_create":            s(i32),
	"getdents64":              s(fd, out(KindDirents), u32),
	"set_tid_address":         s(ptr),
	"restart_syscall":         s(),
	"semtimedop":              s(i32, ptr, u32, in(KindTimespec)),
	"fadvise64":               s(fd, i64, i64, a(KindFadvice)),
	"timer_create":            s(a(KindClockID), ptr, ptr),
	"timer_settime":           s(i32, a(KindTimerFlags), in(KindItimerspec), out(KindItimerspec)),
	"timer_gettime":           s(i32, out(KindItimerspec)),
	"timer_getoverrun":        s(i32),
	"timer_delete":            s(i32),
	"clock_settime":           s(a(KindClockID), in(KindTimespec)),
	"clock_gettime":           s(a(KindClockID), out(KindTimespec)),
	"clock_getres":            s(a(KindClockID), out(KindTimespec)),
	"clock_nanosleep":         s(a(KindClockID), a(KindTimerFlags), in(KindTimespec), out(KindTimespec)),
	"exit_group":              s(i32),
	"epoll_wait":              s(fd, out(KindEpollEvents), i32, i32),
	"epoll_ctl":               s(fd, a(KindEpollOp), fd, in(KindEpollEvent)),
	"tgkill":                  s(i32, i32, sigArg),
	"utimes":                  s(path, ptr),
	"mbind":                   s(ptr, u64, i32, ptr, u64, hex),
	"set_mempolicy":           s(i32, ptr, u64),
	"get_mempolicy":           s(ptr, ptr, u64, ptr, hex),
	"mq_open":                 s(str, a(KindOpenFlags), a(KindOpenMode), ptr),
	"mq_unlink":               s(str),
	"mq_timedsend":            s(fd, inN(KindBufIn, 2), u64, u32, in(KindTimespec)),
	"mq_timedreceive":         s(fd, out(KindBufOut), u64, ptr, in(KindTimespec)),
	"mq_notify":               s(fd, ptr),
	"mq_getsetattr":           s(fd, ptr, ptr),
	"kexec_load":              s(hex, u64, ptr, hex),
	"waitid":                  s(a(KindIdtype), i32, out(KindSiginfo), a(KindWaitidOptions), out(KindRusage)),
	"add_key":                 s(str, str, ptr, u64, i32),
	"request_key":             s(str, str, str, i32),
	"keyctl":                  s(i32, hex, hex, hex, hex),
	"ioprio_set":              s(i32, i32, i32),
	"ioprio_get":              s(i32, i32),
	"inotify_init":            s(),
	"inotify_add_watch":       s(fd, path, a(KindInotifyMask)),
	"inotify_rm_watch":        s(fd, i32),
	"migrate_pages":           s(i32, u64, ptr, ptr),
	"openat":                  s(dirfd, path, a(KindOpenFlags), a(KindOpenMode)),
	"mkdirat":                 s(dirfd, path, mode),
	"mknodat":                 s(dirfd, path, a(KindModeType), a(KindDev)),
	"fchownat":                s(dirfd, path, uid, uid, a(KindAtFlags)),
	"futimesat":               s(dirfd, path, ptr),
	"newfstatat":              s(dirfd, path, out(KindStat), a(KindAtFlags)),
	"unlinkat":                s(dirfd, path, a(KindAtFlags)),
	"renameat":                s(dirfd, path, dirfd, path),
	"linkat":                  s(dirfd, path, dirfd, path, a(KindAtFlags)),
	"symlinkat":               s(path, dirfd, path),
	"readlinkat":              s(dirfd, path, out(KindBufOut), u64),
	"fchmodat":                s(dirfd, path, mode),
	"faccessat":               s(dirfd, path, a(KindAccessMode)),
	"pselect6":                sr(retSelect, i32, inoutN(KindFdset, 0), inoutN(KindFdset, 0), inoutN(KindFdset, 0), inout(KindTimespec), ptr),
	"ppoll":                   sr(retPoll, inoutN(KindPollfds, 1), u32, inout(KindTimespec), inN(KindSigset, 4), u64),
	"unshare":                 s(a(KindCloneFlags)),
	"set_robust_list":         s(ptr, u64),
	"get_robust_list":         s(i32, ptr, ptr),
	"splice":                  s(fd, inout(KindLoffPtr), fd, inout(KindLoffPtr), u64, a(KindSpliceFlags)),
	"tee":                     s(fd, fd, u64, a(KindSpliceFlags)),
	"sync_file_range":         s(fd, i64, i64, a(KindSyncRangeFlags)),
	"vmsplice":                s(fd, inN(KindIovec, 2), u64, a(KindSpliceFlags)),
	"move_pages":              s(i32, u64, ptr, ptr, ptr, hex),
	"utimensat":               s(dirfd, path, in(KindUtimens), a(KindAtFlags)),
	"epoll_pwait":             s(fd, out(KindEpollEvents), i32, i32, inN(KindSigset, 5), u64),
	"signalfd":                s(fd, inN(KindSigset, 2), u64),
	"timerfd_create":          s(a(KindClockID), a(KindTimerfdFlags)),
	"eventfd":                 s(u32),
	"fallocate":               s(fd, a(KindFallocateMode), i64, i64),
	"timerfd_settime":         s(fd, a(KindTimerfdFlags), in(KindItimerspec), out(KindItimerspec)),
	"timerfd_gettime":         s(fd, out(KindItimerspec)),
	"accept4":                 s(fd, outN(KindSockaddr, 2), inout(KindSocklen), a(KindSockFlags)),
	"signalfd4":               s(fd, inN(KindSigset, 2), u64, a(KindSignalfdFlags)),
	"eventfd2":                s(u32, a(KindEventfdFlags)),
	"epoll_create1":           s(a(KindEpollFlags)),
	"dup3":                    s(fd, fd, a(KindOFlags)),
	"pipe2":                   s(out(KindPipeFds), a(KindOFlags)),
	"inotify_init1":           s(a(KindInotifyInitFlags)),
	"preadv":                  s(fd, outN(KindIovec, 2), i32, i64),
	"pwritev":                 s(fd, inN(KindIovec, 2), i32, i64),
	"rt_tgsigqueueinfo":       s(i32, i32, sigArg, ptr),
	"perf_event_open":         s(ptr, i32, i32, i32, hex),
	"recvmmsg":                s(fd, ptr, u32, a(KindMsgFlags), in(KindTimespec)),
	"fanotify_init":           s(hex, hex),
	"fanotify_mark":           s(fd, hex, hex, dirfd, path),
	"prlimit64":               s(i32, a(KindRlimitResource), in(KindRlimit), out(KindRlimit)),
	"name_to_handle_at":       s(dirfd, path, ptr, ptr, a(KindAtFlags)),
	"open_by_handle_at":       s(fd, ptr, a(KindOpenFlags)),
	"clock_adjtime":           s(a(KindClockID), ptr),
	"syncfs":                  s(fd),
	"sendmmsg":                s(fd, ptr, u32, a(KindMsgFlags)),
	"setns":                   s(fd, a(KindCloneFlags)),
	"getcpu":                  s(out(KindIntPtr), out(KindIntPtr), ptr),
	"process_vm_readv":        s(i32, ptr, u64, ptr, u64, hex),
	"process_vm_writev":       s(i32, ptr, u64, ptr, u64, hex),
	"kcmp":                    s(i32, i32, i32, hex, hex),
	"finit_module":            s(fd, str, hex),
	"sched_setattr":           s(i32, ptr, hex),
	"sched_getattr":           s(i32, ptr, u32, hex),
	"renameat2":               s(dirfd, path, dirfd, path, a(KindRenameFlags)),
	"seccomp":                 s(a(KindSeccompOp), hex, ptr),
	"getrandom":               s(out(KindRandomOut), u64, a(KindGetrandomFlags)),
	"memfd_create":            s(str, a(KindMemfdFlags)),
	"kexec_file_load":         s(fd, fd, u64, ptr, hex),
	"bpf":                     s(i32, ptr, u32),
	"execveat":                s(dirfd, path, in(KindArgv), in(KindEnvp), a(KindAtFlags)),
	"userfaultfd":             s(a(KindOFlags)),
	"membarrier":              sr(retMembarrier, a(KindMembarrierCmd), hex, a(KindMembarrierCPU)),
	"mlock2":                  s(ptr, u64, a(KindMlock2Flags)),
	"copy_file_range":         s(fd, inout(KindLoffPtr), fd, inout(KindLoffPtr), u64, hex),
	"preadv2":                 s(fd, outN(KindIovec, 2), i32, i64, hex),
	"pwritev2":                s(fd, inN(KindIovec, 2), i32, i64, hex),
	"pkey_mprotect":           s(ptr, u64, a(KindProt), i32),
	"pkey_alloc":              s(hex, hex),
	"pkey_free":               s(i32),
	"statx":                   s(dirfd, path, a(KindStatxFlags), a(KindStatxMask), out(KindStatx)),
	"io_pgetevents":           s(hex, i64, i64, ptr, in(KindTimespec), ptr),
	"rseq":                    s(ptr, hex, a(KindRseqFlags), hex),
	"pidfd_send_signal":       s(fd, sigArg, ptr, hex),
	"io_uring_setup":          s(u32, ptr),
	"io_uring_enter":          s(fd, u32, u32, a(KindIoUringEnterFlags), ptr, u64),
	"io_uring_register":       s(fd, a(KindIoUringOp), ptr, u32),
	"open_tree":               s(dirfd, path, hex),
	"move_mount":              s(dirfd, path, dirfd, path, hex),
	"fsopen":                  s(str, hex),
	"fsconfig":                s(fd, hex, str, ptr, i32),
	"fsmount":                 s(fd, hex, hex),
	"fspick":                  s(dirfd, path, hex),
	"pidfd_open":              s(i32, a(KindPidfdFlags)),
	"clone3":                  s(inN(KindCloneArgs, 1), u64),
	"close_range":             s(u32, u32, a(KindCloseRangeFlags)),
	"openat2":                 s(dirfd, path, inN(KindOpenHow, 3), u64),
	"pidfd_getfd":             s(fd, fd, hex),
	"faccessat2":              s(dirfd, path, a(KindAccessMode), a(KindFaccessatFlags)),
	"process_madvise":         s(fd, ptr, u64, a(KindMadvise), hex),
	"epoll_pwait2":            s(fd, out(KindEpollEvents), i32, in(KindTimespec), inN(KindSigset, 5), u64),
	"mount_setattr":           s(dirfd, path, a(KindAtFlags), ptr, u64),
	"quotactl_fd":             s(fd, hex, i32, ptr),
	"landlock_create_ruleset": s(ptr, u64, hex),
	"landlock_add_rule":       s(fd, i32, ptr, hex),
	"landlock_restrict_self":  s(fd, hex),
	"memfd_secret":            s(hex),
	"process_mrelease":        s(fd, hex),
	"futex_waitv":             s(ptr, u32, hex, in(KindTimespec), a(KindClockID)),
	"cachestat":               s(fd, ptr, ptr, hex),
	"fchmodat2":               s(dirfd, path, mode, a(KindAtFlags)),
	"map_shadow_stack":        sr(retHex, ptr, u64, hex),
	"futex_wake":              s(ptr, hex, i32, hex),
	"futex_wait":              s(ptr, hex, hex, hex, in(KindTimespec), a(KindClockID)),
	"futex_requeue":           s(ptr, hex, i32, i32),
	"uselib":                  s(path),
	"ustat":                   s(u32, ptr),
	"sysfs":                   s(i32, hex, hex),
	"quotactl":                s(hex, path, i32, ptr),
	"set_thread_area":         s(ptr),
	"get_thread_area":         s(ptr),
	"remap_file_pages":        s(ptr, u64, a(KindProt), u64, a(KindMmapFlags)),
	"set_mempolicy_home_node": s(ptr, u64, u64, hex),
	"uprobe":                  s(),
	"uretprobe":               s(),
	"statmount":               s(ptr, ptr, u64, hex),
	"listmount":               s(ptr, ptr, u64, hex),
	"lsm_get_self_attr":       s(u32, ptr, ptr, hex),
	"lsm_set_self_attr":       s(u32, ptr, u32, hex),
	"lsm_list_modules":        s(ptr, ptr, hex),
	"setxattrat":              s(dirfd, path, a(KindAtFlags), str, ptr, u64),
	"getxattrat":              s(dirfd, path, a(KindAtFlags), str, ptr, u64),
	"listxattrat":             s(dirfd, path, a(KindAtFlags), out(KindBufOut), u64),
	"removexattrat":           s(dirfd, path, a(KindAtFlags), str),
	"open_tree_attr":          s(dirfd, path, hex, ptr, u64),
	"file_getattr":            s(dirfd, path, ptr, u64, a(KindAtFlags)),
	"file_setattr":            s(dirfd, path, ptr, u64, a(KindAtFlags)),
	"mseal":                   s(ptr, u64, hex),
}

// The calls with a whole-call formatter are added in init: the formatters use the
// table, and a static reference would be an initialization cycle.
func init() {
	for name, fn := range map[string]func(*printer){
		"clone": fmtClone, "futex": fmtFutex, "prctl": fmtPrctl, "arch_prctl": fmtArchPrctl,
		"ptrace": fmtPtrace,
	} {
		sigTable[name] = sig{fn: fn}
	}
	sigTable["prctl"] = sig{fn: fmtPrctl, ret: retPrctl}
}

// table is sigTable indexed by number.
var table = sync.OnceValue(func() []*sig {
	t := make([]*sig, systab.Max()+1)
	for name, sg := range sigTable {
		nr, ok := systab.Number(name)
		if !ok || nr < 0 || nr >= int64(len(t)) {
			// TestSignatureNames keeps every name known to systab.
			continue
		}
		sg := sg
		t[nr] = &sg
	}
	return t
})

// lookupSig returns the signature of nr, or nil if it has none.
func lookupSig(nr int64) *sig {
	t := table()
	if nr < 0 || nr >= int64(len(t)) {
		return nil
	}
	return t[nr]
}

// neverFails reports whether nr returns values in the errno range that are not errors.
func neverFails(nr int64) bool {
	s := lookupSig(nr)
	return s != nil && s.nf
}

// ArgKinds returns the kinds of the arguments of system call nr, in order, and false
// if the package has no signature for it (every argument then prints in hex). Calls
// whose arguments depend on each other (clone, futex, prctl, arch_prctl, ptrace)
// return the kinds of their registers in the general case; Format prints only the
// arguments strace prints for the given operation.
func ArgKinds(nr int64) ([]Kind, bool) {
	s := lookupSig(nr)
	if s == nil {
		return nil, false
	}
	if s.fn != nil {
		return specialKinds[Name(nr)], true
	}
	ks := make([]Kind, len(s.args))
	for i, a := range s.args {
		ks[i] = a.kind
	}
	return ks, true
}

// specialKinds are the register kinds of the calls with a whole-call formatter.
var specialKinds = map[string][]Kind{
	"clone":      {KindCloneFlags, KindPtr, KindPtr, KindPtr, KindHex},
	"futex":      {KindPtr, KindFutexOp, KindUint, KindTimespec, KindPtr, KindUint},
	"prctl":      {KindPrctlOption, KindHex, KindHex, KindHex, KindHex},
	"arch_prctl": {KindArchPrctlCode, KindHex},
	"ptrace":     {KindPtraceRequest, KindInt, KindPtr, KindPtr},
}

// TypedCount returns the number of system calls that have a signature (typed argument
// kinds); the others print every argument in hex.
func TypedCount() int {
	n := 0
	for _, s := range table() {
		if s != nil {
			n++
		}
	}
	return n
}
