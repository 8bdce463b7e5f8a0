package decode

import (
	"errors"
	"fmt"
	"math/bits"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/zpoline-go/zpoline/internal/systab"
)

// Class is a set of strace's system call classes (the %name of -e trace=%name).
type Class uint32

// The classes, with strace's membership for x86-64.
const (
	ClassFile       Class = 1 << iota // %file: takes a file name
	ClassIPC                          // %ipc: System V IPC
	ClassNetwork                      // %network (%net): sockets
	ClassProcess                      // %process: process life cycle
	ClassSignal                       // %signal
	ClassDesc                         // %desc: takes or returns a file descriptor
	ClassMemory                       // %memory: memory mapping
	ClassStat                         // %stat: stat variants
	ClassLstat                        // %lstat: lstat variants
	ClassFstat                        // %fstat: fstat variants
	ClassStatLike                     // %%stat: every stat variant
	ClassStatfs                       // %statfs
	ClassFstatfs                      // %fstatfs
	ClassStatfsLike                   // %%statfs: every statfs variant
	ClassPure                         // %pure: no arguments, always succeeds
	ClassCreds                        // %creds: user and group ids, capabilities
	ClassClock                        // %clock: reads or sets clocks
)

// classNames maps the names ParseTraceSet accepts after '%' to classes. The first
// seven are also accepted without '%', as older strace versions do.
var classNames = map[string]Class{
	"file": ClassFile, "ipc": ClassIPC, "network": ClassNetwork, "net": ClassNetwork,
	"process": ClassProcess, "signal": ClassSignal, "desc": ClassDesc, "memory": ClassMemory,
	"stat": ClassStat, "lstat": ClassLstat, "fstat": ClassFstat, "%stat": ClassStatLike,
	"statfs": ClassStatfs, "fstatfs": ClassFstatfs, "%statfs": ClassStatfsLike, "pure": ClassPure,
	"creds": ClassCreds, "clock": ClassClock,
}

var legacyClassNames = map[string]bool{
	"file": true, "ipc": true, "network": true, "process": true, "signal": true, "desc": true, "memory": true,
}

const (
	cTF   = ClassFile
	cTI   = ClassIPC
	cTN   = ClassNetwork
	cTP   = ClassProcess
	cTS   = ClassSignal
	cTD   = ClassDesc
	cTM   = ClassMemory
	cTST  = ClassStat
	cTLST = ClassLstat
	cTFST = ClassFstat
	cTSTA = ClassStatLike
	cTSF  = ClassStatfs
	cTFSF = ClassFstatfs
	cTSFA = ClassStatfsLike
	cPU   = ClassPure
	cTC   = ClassCreds
	cTCL  = ClassClock
)

// classTable is strace's class membership (linux/x86_64/syscallent.h and
// syscallent-common.h); calls it does not list belong to no class.
var classTable = map[string]Class{
	"read": cTD, "write": cTD, "open": cTD | cTF, "close": cTD, "stat": cTF | cTST | cTSTA,
	"fstat": cTD | cTFST | cTSTA, "lstat": cTF | cTLST | cTSTA, "poll": cTD, "lseek": cTD,
	"mmap": cTD | cTM, "mprotect": cTM, "munmap": cTM, "brk": cTM, "rt_sigaction": cTS,
	"rt_sigprocmask": cTS, "rt_sigreturn": cTS, "ioctl": cTD, "pread64": cTD, "pwrite64": cTD,
	"readv": cTD, "writev": cTD, "access": cTF, "pipe": cTD, "select": cTD, "mremap": cTM,
	"msync": cTM, "mincore": cTM, "madvise": cTM, "shmget": cTI, "shmat": cTI | cTM, "shmctl": cTI,
	"dup": cTD, "dup2": cTD, "pause": cTS, "getpid": cPU, "sendfile": cTD | cTN, "socket": cTN,
	"connect": cTN, "accept": cTN, "sendto": cTN, "recvfrom": cTN, "sendmsg": cTN, "recvmsg": cTN,
	"shutdown": cTN, "bind": cTN, "listen": cTN, "getsockname": cTN, "getpeername": cTN,
	"socketpair": cTN, "setsockopt": cTN, "getsockopt": cTN, "clone": cTP, "fork": cTP, "vfork": cTP,
	"execve": cTF | cTP, "exit": cTP, "wait4": cTP, "kill": cTS | cTP, "semget": cTI, "semop": cTI,
	"semctl": cTI, "shmdt": cTI | cTM, "msgget": cTI, "msgsnd": cTI, "msgrcv": cTI, "msgctl": cTI,
	"fcntl": cTD, "flock": cTD, "fsync": cTD, "fdatasync": cTD, "truncate": cTF, "ftruncate": cTD,
	"getdents": cTD, "getcwd": cTF, "chdir": cTF, "fchdir": cTD, "rename": cTF, "mkdir": cTF,
	"rmdir": cTF, "creat": cTD | cTF, "link": cTF, "unlink": cTF, "symlink": cTF, "readlink": cTF,
	"chmod": cTF, "fchmod": cTD, "chown": cTF, "fchown": cTD, "lchown": cTF, "gettimeofday": cTCL,
	"getuid": cTC | cPU, "getgid": cTC | cPU, "setuid": cTC, "setgid": cTC, "geteuid": cTC | cPU,
	"getegid": cTC | cPU, "getppid": cPU, "getpgrp": cPU, "setreuid": cTC, "setregid": cTC,
	"getgroups": cTC, "setgroups": cTC, "setresuid": cTC, "getresuid": cTC, "setresgid": cTC,
	"getresgid": cTC, "setfsuid": cTC, "setfsgid": cTC, "capget": cTC, "capset": cTC,
	"rt_sigpending": cTS, "rt_sigtimedwait": cTS, "rt_sigqueueinfo": cTS | cTP, "rt_sigsuspend": cTS,
	"sigaltstack": cTS, "utime": cTF, "mknod": cTF, "uselib": cTF, "ustat": cTSFA,
	"statfs": cTF | cTSF | cTSFA, "fstatfs": cTD | cTFSF | cTSFA, "mlock": cTM, "munlock": cTM,
	"mlockall": cTM, "munlockall": cTM, "pivot_root": cTF, "prctl": cTC, "adjtimex": cTCL,
	"chroot": cTF, "acct": cTF, "settimeofday": cTCL, "mount": cTF, "umount2": cTF, "swapon": cTF,
	"swapoff": cTF, "quotactl": cTF, "getpmsg": cTN, "putpmsg": cTN, "gettid": cPU, "readahead": cTD,
	"setxattr": cTF, "lsetxattr": cTF, "fsetxattr": cTD, "getxattr": cTF, "lgetxattr": cTF,
	"fgetxattr": cTD, "listxattr": cTF, "llistxattr": cTF, "flistxattr": cTD, "removexattr": cTF,
	"lremovexattr": cTF, "fremovexattr": cTD, "tkill": cTS | cTP, "time": cTCL, "io_setup": cTM,
	"io_destroy": cTM, "epoll_create": cTD, "remap_file_pages": cTM, "getdents64": cTD,
	"semtimedop": cTI, "fadvise64": cTD, "clock_settime": cTCL, "clock_gettime": cTCL,
	"clock_getres": cTCL, "exit_group": cTP, "epoll_wait": cTD, "epoll_ctl": cTD, "tgkill": cTS | cTP,
	"utimes": cTF, "mbind": cTM, "set_mempolicy": cTM, "get_mempolicy": cTM, "mq_open": cTD,
	"mq_timedsend": cTD, "mq_timedreceive": cTD, "mq_notify": cTD, "mq_getsetattr": cTD,
	"waitid": cTP, "inotify_init": cTD, "inotify_add_watch": cTD | cTF, "inotify_rm_watch": cTD,
	"migrate_pages": cTM, "openat": cTD | cTF, "mkdirat": cTD | cTF, "mknodat": cTD | cTF,
	"fchownat": cTD | cTF, "futimesat": cTD | cTF, "newfstatat": cTD | cTF | cTFST | cTSTA,
	"unlinkat": cTD | cTF, "renameat": cTD | cTF, "linkat": cTD | cTF, "symlinkat": cTD | cTF,
	"readlinkat": cTD | cTF, "fchmodat": cTD | cTF, "faccessat": cTD | cTF, "pselect6": cTD,
	"ppoll": cTD, "splice": cTD, "tee": cTD, "sync_file_range": cTD, "vmsplice": cTD,
	"move_pages": cTM, "utimensat": cTD | cTF, "epoll_pwait": cTD, "signalfd": cTD | cTS,
	"timerfd_create": cTD, "eventfd": cTD, "fallocate": cTD, "timerfd_settime": cTD,
	"timerfd_gettime": cTD, "accept4": cTN, "signalfd4": cTD | cTS, "eventfd2": cTD,
	"epoll_create1": cTD, "dup3": cTD, "pipe2": cTD, "inotify_init1": cTD, "preadv": cTD,
	"pwritev": cTD, "rt_tgsigqueueinfo": cTP | cTS, "perf_event_open": cTD, "recvmmsg": cTN,
	"fanotify_init": cTD, "fanotify_mark": cTD | cTF, "name_to_handle_at": cTD | cTF,
	"open_by_handle_at": cTD, "clock_adjtime": cTCL, "syncfs": cTD, "sendmmsg": cTN, "setns": cTD,
	"finit_module": cTD, "renameat2": cTD | cTF, "memfd_create": cTD, "kexec_file_load": cTD,
	"bpf": cTD, "execveat": cTD | cTF | cTP, "userfaultfd": cTD, "mlock2": cTM,
	"copy_file_range": cTD, "preadv2": cTD, "pwritev2": cTD, "pkey_mprotect": cTM,
	"statx": cTD | cTF | cTFST | cTSTA, "pidfd_send_signal": cTD | cTS | cTP, "io_uring_setup": cTD,
	"io_uring_enter": cTD | cTS, "io_uring_register": cTD | cTM, "open_tree": cTD | cTF,
	"move_mount": cTD | cTF, "fsopen": cTD, "fsconfig": cTD | cTF, "fsmount": cTD, "fspick": cTD | cTF,
	"pidfd_open": cTD, "clone3": cTP, "openat2": cTD | cTF, "pidfd_getfd": cTD, "faccessat2": cTD | cTF,
	"process_madvise": cTD, "epoll_pwait2": cTD, "mount_setattr": cTD | cTF, "quotactl_fd": cTD,
	"landlock_create_ruleset": cTD, "landlock_add_rule": cTD, "landlock_restrict_self": cTD,
	"memfd_secret": cTD, "process_mrelease": cTD, "set_mempolicy_home_node": cTM, "cachestat": cTD,
	"fchmodat2": cTD | cTF, "map_shadow_stack": cTM, "mseal": cTM, "setxattrat": cTD | cTF,
	"getxattrat": cTD | cTF, "listxattrat": cTD | cTF, "removexattrat": cTD | cTF,
	"open_tree_attr": cTD | cTF, "file_getattr": cTD | cTF, "file_setattr": cTD | cTF,
}

// ClassOf returns the classes system call nr belongs to.
func ClassOf(nr int64) Class { return classTable[systab.Name(nr)] }

// Classes returns, for each class name ParseTraceSet accepts after '%' ("file",
// "network", "net", "process", "signal", "desc", "memory", "ipc", and the stat, statfs,
// pure, creds and clock groups), the set of system call numbers in it.
func Classes() map[string]Set {
	m := make(map[string]Set, len(classNames))
	for name, cl := range classNames {
		m[name] = classSet(cl)
	}
	return m
}

func classSet(cl Class) Set {
	var s Set
	for _, sc := range systab.All() {
		if classTable[sc.Name]&cl != 0 {
			s.Add(sc.Nr)
		}
	}
	return s
}

// Set is a set of system call numbers. The zero Set is empty; AllSet returns the set of
// every number, including numbers no table knows. A copy of a Set shares its numbers
// outside 0..639 with the original: use Clone before changing a copy.
type Set struct {
	lo  [10]uint64         // numbers 0..639
	hi  map[int64]struct{} // other numbers
	neg bool               // the set is the complement of lo and hi
}

// AllSet returns the set of all system call numbers, including numbers no table knows.
func AllSet() Set { return Set{neg: true} }

// Has reports whether nr is in the set.
func (s *Set) Has(nr int64) bool {
	var in bool
	if nr >= 0 && nr < int64(len(s.lo))*64 {
		in = s.lo[nr/64]>>(nr%64)&1 == 1
	} else {
		_, in = s.hi[nr]
	}
	return in != s.neg
}

// Add puts nr in the set.
func (s *Set) Add(nr int64) { s.set(nr, !s.neg) }

// Remove takes nr out of the set.
func (s *Set) Remove(nr int64) { s.set(nr, s.neg) }

func (s *Set) set(nr int64, bit bool) {
	if nr >= 0 && nr < int64(len(s.lo))*64 {
		if bit {
			s.lo[nr/64] |= 1 << (nr % 64)
		} else {
			s.lo[nr/64] &^= 1 << (nr % 64)
		}
		return
	}
	if bit {
		if s.hi == nil {
			s.hi = make(map[int64]struct{})
		}
		s.hi[nr] = struct{}{}
	} else {
		delete(s.hi, nr)
	}
}

// Clone returns an independent copy of the set.
func (s *Set) Clone() Set {
	c := *s
	if s.hi != nil {
		c.hi = make(map[int64]struct{}, len(s.hi))
		for nr := range s.hi {
			c.hi[nr] = struct{}{}
		}
	}
	return c
}

// Invert turns the set into its complement.
func (s *Set) Invert() { s.neg = !s.neg }

// Numbers returns the numbers in the set in increasing order. For a set built by
// negation it lists the members among the numbers the system call table knows.
func (s *Set) Numbers() []int64 {
	var out []int64
	if s.neg {
		for _, sc := range systab.All() {
			if s.Has(sc.Nr) {
				out = append(out, sc.Nr)
			}
		}
		return out
	}
	for w, word := range s.lo {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			out = append(out, int64(w*64+b))
			word &^= 1 << b
		}
	}
	for nr := range s.hi {
		out = append(out, nr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Errors returned (wrapped in a *SpecError) by ParseTraceSet.
var (
	ErrUnknownSyscall = errors.New("unknown system call")
	ErrUnknownClass   = errors.New("unknown system call class")
	ErrBadRegexp      = errors.New("invalid regular expression")
	ErrEmptySpec      = errors.New("empty system call list")
)

// SpecError reports the element of a trace set that failed. It matches the sentinel
// errors above through errors.Is; its text is, e.g., `unknown system call "foo"`.
type SpecError struct {
	Name string // the element as written
	Err  error
}

// Error returns the error's text.
func (e *SpecError) Error() string {
	if e.Err == ErrEmptySpec {
		return e.Err.Error()
	}
	return fmt.Sprintf("%v %q", e.Err, e.Name)
}

// Unwrap returns the sentinel error, for errors.Is.
func (e *SpecError) Unwrap() error { return e.Err }

// ParseTraceSet parses the value of strace's -e trace= (the part after "trace="): a
// comma-separated list of system call names ("openat", also "syscall_600" and decimal
// numbers), classes ("%file", or "file" for the seven historical classes), "all",
// "none", regular expressions ("/^open"), and names with a leading '?' that are
// ignored when unknown. A leading '!' negates the whole list: "!read,write" is every
// call but read and write. Unknown names are errors (*SpecError matching
// ErrUnknownSyscall or ErrUnknownClass).
func ParseTraceSet(spec string) (Set, error) {
	var s Set
	neg := false
	if rest, ok := strings.CutPrefix(spec, "!"); ok {
		neg, spec = true, rest
	}
	if strings.TrimSpace(spec) == "" {
		return Set{}, &SpecError{Name: spec, Err: ErrEmptySpec}
	}
	for _, el := range strings.Split(spec, ",") {
		el = strings.TrimSpace(el)
		optional := false
		if rest, ok := strings.CutPrefix(el, "?"); ok {
			optional, el = true, rest
		}
		switch {
		case el == "":
			continue
		case el == "all":
			s = AllSet()
		case el == "none":
			// Adds nothing.
		case strings.HasPrefix(el, "/"):
			re, err := regexp.Compile(el[1:])
			if err != nil {
				return Set{}, &SpecError{Name: el, Err: ErrBadRegexp}
			}
			found := false
			for _, sc := range systab.All() {
				if re.MatchString(sc.Name) {
					s.Add(sc.Nr)
					found = true
				}
			}
			if !found && !optional {
				return Set{}, &SpecError{Name: el, Err: ErrUnknownSyscall}
			}
		case strings.HasPrefix(el, "%") || legacyClassNames[el]:
			cl, ok := classNames[strings.TrimPrefix(el, "%")]
			if !ok {
				if optional {
					continue
				}
				return Set{}, &SpecError{Name: el, Err: ErrUnknownClass}
			}
			cs := classSet(cl)
			for _, nr := range cs.Numbers() {
				s.Add(nr)
			}
		default:
			nr, ok := systab.Number(el)
			if !ok {
				if n, err := strconv.ParseInt(el, 10, 64); err == nil && n >= 0 {
					nr, ok = n, true
				}
			}
			if !ok {
				if optional {
					continue
				}
				return Set{}, &SpecError{Name: el, Err: ErrUnknownSyscall}
			}
			s.Add(nr)
		}
	}
	if neg {
		s.Invert()
	}
	return s, nil
}
