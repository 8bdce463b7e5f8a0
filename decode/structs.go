package decode

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// Sizes of the x86-64 structures the decoder reads.
const (
	sizeStat       = 144
	sizeStatx      = 256
	sizeStatfs     = 120
	sizeTimespec   = 16
	sizeTimeval    = 16
	sizeItimerspec = 32
	sizeRlimit     = 16
	sizeRusage     = 144
	sizeSigaction  = 32 // kernel struct sigaction: handler, flags, restorer, 8-byte mask
	sizeStack      = 24
	sizeSigset     = 8
	sizePollfd     = 8
	sizeIovec      = 16
	sizeUtsname    = 390
	sizeSysinfo    = 112
	sizeTms        = 32
	sizeEpollEvent = 12 // packed on x86-64
	sizeMsghdr     = 56
	sizeSockaddr   = 128 // sockaddr_storage
	sizeOpenHow    = 24
	sizeCloneArgs  = 88 // up to cgroup (CLONE_ARGS_SIZE_VER2)
	sizeFlock      = 32
	sizeWinsize    = 8
	sizeSiginfo    = 128
	maxPath        = 4096
)

// le reads little-endian integers from a copy, reporting whether the copy is long enough.
type le []byte

func (m le) u16(off int) (uint64, bool) {
	if off < 0 || off+2 > len(m) {
		return 0, false
	}
	return uint64(binary.LittleEndian.Uint16(m[off:])), true
}

func (m le) u32(off int) (uint64, bool) {
	if off < 0 || off+4 > len(m) {
		return 0, false
	}
	return uint64(binary.LittleEndian.Uint32(m[off:])), true
}

func (m le) u64(off int) (uint64, bool) {
	if off < 0 || off+8 > len(m) {
		return 0, false
	}
	return binary.LittleEndian.Uint64(m[off:]), true
}

// Small writers used by the struct formatters.

// Signals.

var signalNames = [...]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
	8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
	14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP",
	20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}

// sigRTMin is the kernel's SIGRTMIN; glibc reserves 32 and 33 and reports 34 as SIGRTMIN,
// but strace (and this package) name the kernel's numbers: 32 is SIGRTMIN, 33 SIGRT_1.
const (
	sigRTMin = 32
	nSig     = 64
)

// SignalName returns the name of signal s: "SIGINT", "SIGRTMIN", "SIGRT_3" (SIGRTMIN+3),
// or s in decimal for a number that is not a signal.
func SignalName(s int64) string {
	switch {
	case s > 0 && s < int64(len(signalNames)):
		return signalNames[s]
	case s == sigRTMin:
		return "SIGRTMIN"
	case s > sigRTMin && s <= nSig:
		return "SIGRT_" + strconv.FormatInt(s-sigRTMin, 10)
	}
	return strconv.FormatInt(s, 10)
}

func writeSignal(b *wbuf, v uint64) { b.WriteString(SignalName(int64(int32(v)))) }

// writeSigset writes a signal mask of nbytes bytes as strace does: "[INT TERM]", or the
// complement "~[HUP]" when more than half of the signals are set.
func writeSigset(b *wbuf, m []byte) {
	var set [2]uint64 // up to 128 signals
	n := len(m)
	if n > 16 {
		n = 16
	}
	for i := 0; i < n; i++ {
		set[i/8] |= uint64(m[i]) << (8 * (i % 8))
	}
	nbits := n * 8
	count := bits.OnesCount64(set[0]) + bits.OnesCount64(set[1])
	neg := count*2 > nbits
	if neg {
		b.WriteByte('~')
	}
	b.WriteByte('[')
	first := true
	for i := 0; i < nbits; i++ {
		on := set[i/64]>>(i%64)&1 == 1
		if on == neg {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(strings.TrimPrefix(SignalName(int64(i+1)), "SIG"))
	}
	b.WriteByte(']')
}

// writeSigaction writes the kernel's struct sigaction.
func writeSigaction(b *wbuf, m le) bool {
	handler, ok1 := m.u64(0)
	flags, ok2 := m.u64(8)
	restorer, ok3 := m.u64(16)
	if !ok1 || !ok2 || !ok3 || len(m) < sizeSigaction {
		return false
	}
	b.WriteString("{sa_handler=")
	switch handler {
	case 0:
		b.WriteString("SIG_DFL")
	case 1:
		b.WriteString("SIG_IGN")
	default:
		writeHex(b, handler)
	}
	b.WriteString(", sa_mask=")
	writeSigset(b, m[24:32])
	b.WriteString(", sa_flags=")
	xSaFlags.flags(b, flags)
	if flags&0x04000000 != 0 {
		b.WriteString(", sa_restorer=")
		writePtr(b, restorer)
	}
	b.WriteByte('}')
	return true
}

// writeStack writes a stack_t.
func writeStack(b *wbuf, m le) bool {
	sp, ok1 := m.u64(0)
	fl, ok2 := m.u32(8)
	size, ok3 := m.u64(16)
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	b.WriteString("{ss_sp=")
	writePtr(b, sp)
	b.WriteString(", ss_flags=")
	xSsFlags.flags(b, fl)
	b.WriteString(", ss_size=")
	wUint(b, size)
	b.WriteByte('}')
	return true
}

// Time.

// writeTimespec writes a struct timespec (or timeval with usec set) at the start of m.
func writeTimespec(b *wbuf, m le, usec bool) bool {
	sec, ok1 := m.u64(0)
	frac, ok2 := m.u64(8)
	if !ok1 || !ok2 {
		return false
	}
	b.WriteString("{tv_sec=")
	wInt(b, int64(sec))
	if usec {
		b.WriteString(", tv_usec=")
		wInt(b, int64(frac))
	} else {
		b.WriteString(", tv_nsec=")
		switch int64(frac) {
		case 1<<30 - 1:
			b.WriteString("UTIME_NOW")
		case 1<<30 - 2:
			b.WriteString("UTIME_OMIT")
		default:
			wInt(b, int64(frac))
		}
	}
	b.WriteByte('}')
	return true
}

// writeItimer writes struct itimerspec or itimerval.
func writeItimer(b *wbuf, m le, usec bool) bool {
	if len(m) < 32 {
		return false
	}
	b.WriteString("{it_interval=")
	writeTimespec(b, m[0:16], usec)
	b.WriteString(", it_value=")
	writeTimespec(b, m[16:32], usec)
	b.WriteByte('}')
	return true
}

// writeUtimens writes the timespec[2] of utimensat; UTIME_NOW and UTIME_OMIT stand
// for their whole element, as strace prints them.
func writeUtimens(b *wbuf, m le) bool {
	if len(m) < 32 {
		return false
	}
	b.WriteByte('[')
	for i := 0; i < 2; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		nsec, _ := m.u64(16*i + 8)
		switch int64(nsec) {
		case 1<<30 - 1:
			b.WriteString("UTIME_NOW")
		case 1<<30 - 2:
			b.WriteString("UTIME_OMIT")
		default:
			writeTimespec(b, m[16*i:16*i+16], false)
		}
	}
	b.WriteByte(']')
	return true
}

// Files.

// writeStat writes a struct stat as strace's abbreviated form: mode, and size or rdev.
func writeStat(b *wbuf, m le) bool {
	if len(m) < sizeStat {
		return false
	}
	mode, _ := m.u32(24)
	b.WriteString("{st_mode=")
	writeModeType(b, uint32(mode))
	writeSizeOrRdev(b, uint32(mode), m, 48, 40, "st_")
	b.WriteString(", ...}")
	return true
}

// writeSizeOrRdev writes ", st_rdev=makedev(...)" for devices and ", st_size=N" otherwise.
func writeSizeOrRdev(b *wbuf, mode uint32, m le, sizeOff, rdevOff int, prefix string) {
	if t := mode & 0o170000; t == 0o20000 || t == 0o60000 {
		rdev, _ := m.u64(rdevOff)
		b.WriteString(", " + prefix + "rdev=")
		writeDev(b, rdev)
		return
	}
	size, _ := m.u64(sizeOff)
	b.WriteString(", " + prefix + "size=")
	wUint(b, size)
}

// writeStatx writes a struct statx in strace's abbreviated form.
func writeStatx(b *wbuf, m le) bool {
	if len(m) < 144 {
		return false
	}
	mask, _ := m.u32(0)
	attrs, _ := m.u64(8)
	mode, _ := m.u16(28)
	b.WriteString("{stx_mask=")
	xStatxMask.flags(b, mask)
	b.WriteString(", stx_attributes=")
	xStatxAttrs.flags(b, attrs)
	b.WriteString(", stx_mode=")
	writeModeType(b, uint32(mode))
	if t := mode & 0o170000; t == 0o20000 || t == 0o60000 {
		maj, _ := m.u32(128)
		min, _ := m.u32(132)
		b.WriteString(", stx_rdev_major=")
		wUint(b, maj)
		b.WriteString(", stx_rdev_minor=")
		wUint(b, min)
	} else {
		size, _ := m.u64(40)
		b.WriteString(", stx_size=")
		wUint(b, size)
	}
	b.WriteString(", ...}")
	return true
}

// fsMagic names the most common file system magic numbers.
var fsMagic = x("",
	xent{0xef53, "EXT2_SUPER_MAGIC"}, xent{0x01021994, "TMPFS_MAGIC"}, xent{0x9fa0, "PROC_SUPER_MAGIC"},
	xent{0x62656572, "SYSFS_MAGIC"}, xent{0x1cd1, "DEVPTS_SUPER_MAGIC"}, xent{0x794c7630, "OVERLAYFS_SUPER_MAGIC"},
	xent{0x58465342, "XFS_SUPER_MAGIC"}, xent{0x9123683e, "BTRFS_SUPER_MAGIC"}, xent{0x63677270, "CGROUP2_SUPER_MAGIC"},
	xent{0x6969, "NFS_SUPER_MAGIC"}, xent{0x65735546, "FUSE_SUPER_MAGIC"}, xent{0x2fc12fc1, "ZFS_SUPER_MAGIC"},
	xent{0x858458f6, "RAMFS_MAGIC"}, xent{0x4d44, "MSDOS_SUPER_MAGIC"}, xent{0x73717368, "SQUASHFS_MAGIC"},
	xent{0x01021997, "V9FS_MAGIC"}, xent{0x6e736673, "NSFS_MAGIC"})

var xStatfsFlags = x("ST_",
	xent{1, "ST_RDONLY"}, xent{2, "ST_NOSUID"}, xent{4, "ST_NODEV"}, xent{8, "ST_NOEXEC"},
	xent{16, "ST_SYNCHRONOUS"}, xent{32, "ST_VALID"}, xent{64, "ST_MANDLOCK"}, xent{1024, "ST_NOATIME"},
	xent{2048, "ST_NODIRATIME"}, xent{4096, "ST_RELATIME"}, xent{8192, "ST_NOSYMFOLLOW"})

// writeStatfs writes a struct statfs: type, block size and counts.
func writeStatfs(b *wbuf, m le) bool {
	if len(m) < sizeStatfs {
		return false
	}
	typ, _ := m.u64(0)
	bsize, _ := m.u64(8)
	blocks, _ := m.u64(16)
	bfree, _ := m.u64(24)
	bavail, _ := m.u64(32)
	files, _ := m.u64(40)
	ffree, _ := m.u64(48)
	fsid0, _ := m.u32(56)
	fsid1, _ := m.u32(60)
	namelen, _ := m.u64(64)
	frsize, _ := m.u64(72)
	flags, _ := m.u64(80)
	b.WriteString("{f_type=")
	fsMagic.enum(b, typ)
	for _, f := range []struct {
		n string
		v uint64
	}{{"f_bsize", bsize}, {"f_blocks", blocks}, {"f_bfree", bfree}, {"f_bavail", bavail},
		{"f_files", files}, {"f_ffree", ffree}} {
		b.WriteString(", " + f.n + "=")
		wUint(b, f.v)
	}
	b.WriteString(", f_fsid={val=[")
	writeHex(b, fsid0)
	b.WriteString(", ")
	writeHex(b, fsid1)
	b.WriteString("]}, f_namelen=")
	wUint(b, namelen)
	b.WriteString(", f_frsize=")
	wUint(b, frsize)
	b.WriteString(", f_flags=")
	xStatfsFlags.flags(b, flags)
	b.WriteByte('}')
	return true
}

// writeOpenHow writes a struct open_how (openat2).
func writeOpenHow(b *wbuf, m le) bool {
	flags, ok1 := m.u64(0)
	mode, ok2 := m.u64(8)
	resolve, ok3 := m.u64(16)
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	b.WriteString("{flags=")
	writeOpenFlags(b, flags)
	if flags&(0x40|0x400000) != 0 || mode != 0 {
		b.WriteString(", mode=")
		writeOct(b, mode)
	}
	b.WriteString(", resolve=")
	xResolve.flags(b, resolve)
	b.WriteByte('}')
	return true
}

// writeFlock writes a struct flock.
func writeFlock(b *wbuf, m le, withPid bool) bool {
	typ, ok1 := m.u16(0)
	whence, ok2 := m.u16(2)
	start, ok3 := m.u64(8)
	length, ok4 := m.u64(16)
	pid, ok5 := m.u32(24)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return false
	}
	b.WriteString("{l_type=")
	xLockType.enum(b, typ)
	b.WriteString(", l_whence=")
	xWhence.enum(b, whence)
	b.WriteString(", l_start=")
	wInt(b, int64(start))
	b.WriteString(", l_len=")
	wInt(b, int64(length))
	if withPid {
		b.WriteString(", l_pid=")
		wInt(b, int64(int32(pid)))
	}
	b.WriteByte('}')
	return true
}

// Processes and resources.

// writeRlimit writes a struct rlimit as strace does: 8192*1024, RLIM64_INFINITY.
func writeRlimit(b *wbuf, m le) bool {
	cur, ok1 := m.u64(0)
	max, ok2 := m.u64(8)
	if !ok1 || !ok2 {
		return false
	}
	b.WriteString("{rlim_cur=")
	writeRlim(b, cur)
	b.WriteString(", rlim_max=")
	writeRlim(b, max)
	b.WriteByte('}')
	return true
}

func writeRlim(b *wbuf, v uint64) {
	switch {
	case v == ^uint64(0):
		b.WriteString("RLIM64_INFINITY")
	case v > 1024 && v%1024 == 0:
		wUint(b, v/1024)
		b.WriteString("*1024")
	default:
		wUint(b, v)
	}
}

// writeRusage writes the times of a struct rusage.
func writeRusage(b *wbuf, m le) bool {
	if len(m) < sizeRusage {
		return false
	}
	b.WriteString("{ru_utime=")
	writeTimespec(b, m[0:16], true)
	b.WriteString(", ru_stime=")
	writeTimespec(b, m[16:32], true)
	b.WriteString(", ...}")
	return true
}

// writeSysinfo writes a struct sysinfo in full, as strace does.
func writeSysinfo(b *wbuf, m le) bool {
	if len(m) < sizeSysinfo {
		return false
	}
	u := func(off int) uint64 { v, _ := m.u64(off); return v }
	procs, _ := m.u16(80)
	unit, _ := m.u32(104)
	b.WriteString("{uptime=")
	wInt(b, int64(u(0)))
	b.WriteString(", loads=[")
	wUint(b, u(8))
	b.WriteString(", ")
	wUint(b, u(16))
	b.WriteString(", ")
	wUint(b, u(24))
	b.WriteString("]")
	for i, n := range []string{"totalram", "freeram", "sharedram", "bufferram", "totalswap", "freeswap"} {
		b.WriteString(", " + n + "=")
		wUint(b, u(32+8*i))
	}
	b.WriteString(", procs=")
	wUint(b, procs)
	b.WriteString(", totalhigh=")
	wUint(b, u(88))
	b.WriteString(", freehigh=")
	wUint(b, u(96))
	b.WriteString(", mem_unit=")
	wUint(b, unit)
	b.WriteByte('}')
	return true
}

// writeTms writes a struct tms; nonzero clock ticks get strace's comment in seconds
// (USER_HZ is 100 on x86-64).
func writeTms(b *wbuf, m le) bool {
	if len(m) < sizeTms {
		return false
	}
	b.WriteByte('{')
	for i, n := range []string{"tms_utime", "tms_stime", "tms_cutime", "tms_cstime"} {
		v, _ := m.u64(8 * i)
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n + "=")
		wInt(b, int64(v))
		if t := int64(v); t > 0 {
			frac := strconv.FormatInt(t%100, 10)
			if len(frac) < 2 {
				frac = "0" + frac
			}
			b.WriteString(" /* " + strconv.FormatInt(t/100, 10) + "." + frac + " s */")
		}
	}
	b.WriteByte('}')
	return true
}

// writeUtsname writes the first two fields of a struct utsname, as strace does.
func writeUtsname(b *wbuf, m le) bool {
	if len(m) < sizeUtsname {
		return false
	}
	b.WriteString("{sysname=")
	writeCString(b, m[0:65], -1)
	b.WriteString(", nodename=")
	writeCString(b, m[65:130], -1)
	b.WriteString(", ...}")
	return true
}

// writeWaitStatus writes a wait status as strace does:
// [{WIFEXITED(s) && WEXITSTATUS(s) == 0}].
func writeWaitStatus(b *wbuf, s uint32) {
	b.WriteString("[{")
	switch {
	case s&0x7f == 0: // exited
		b.WriteString("WIFEXITED(s) && WEXITSTATUS(s) == ")
		wUint(b, uint64(s>>8&0xff))
	case s&0xff == 0x7f: // stopped
		b.WriteString("WIFSTOPPED(s) && WSTOPSIG(s) == ")
		b.WriteString(SignalName(int64(s >> 8 & 0xff)))
		if ev := s >> 16; ev != 0 {
			b.WriteString("}|")
			b.WriteString(ptraceEvent(ev))
			b.WriteString("<<16]")
			return
		}
	case s == 0xffff:
		b.WriteString("WIFCONTINUED(s)")
	default: // signaled
		b.WriteString("WIFSIGNALED(s) && WTERMSIG(s) == ")
		b.WriteString(SignalName(int64(s & 0x7f)))
		if s&0x80 != 0 {
			b.WriteString(" && WCOREDUMP(s)")
		}
	}
	b.WriteString("}]")
}

func ptraceEvent(ev uint32) string {
	names := [...]string{1: "PTRACE_EVENT_FORK", 2: "PTRACE_EVENT_VFORK", 3: "PTRACE_EVENT_CLONE",
		4: "PTRACE_EVENT_EXEC", 5: "PTRACE_EVENT_VFORK_DONE", 6: "PTRACE_EVENT_EXIT", 7: "PTRACE_EVENT_SECCOMP"}
	if int(ev) < len(names) && names[ev] != "" {
		return names[ev]
	}
	if ev == 128 {
		return "PTRACE_EVENT_STOP"
	}
	return "0x" + strconv.FormatUint(uint64(ev), 16)
}

// writeSiginfo writes the head of a siginfo_t: signal, code, and for SIGCHLD the child.
func writeSiginfo(b *wbuf, m le) bool {
	if len(m) < 32 {
		return false
	}
	signo, _ := m.u32(0)
	errno, _ := m.u32(4)
	code, _ := m.u32(8)
	b.WriteString("{si_signo=")
	writeSignal(b, signo)
	b.WriteString(", si_code=")
	if int32(signo) == 17 {
		cld := [...]string{1: "CLD_EXITED", 2: "CLD_KILLED", 3: "CLD_DUMPED", 4: "CLD_TRAPPED", 5: "CLD_STOPPED", 6: "CLD_CONTINUED"}
		if int32(code) > 0 && int(code) < len(cld) {
			b.WriteString(cld[code])
		} else {
			wInt(b, int64(int32(code)))
		}
		pid, _ := m.u32(16)
		uid, _ := m.u32(20)
		status, _ := m.u32(24)
		b.WriteString(", si_pid=")
		wInt(b, int64(int32(pid)))
		b.WriteString(", si_uid=")
		wUint(b, uid)
		b.WriteString(", si_status=")
		if code == 1 {
			wInt(b, int64(int32(status)))
		} else {
			writeSignal(b, status)
		}
	} else {
		switch int32(code) {
		case 0:
			b.WriteString("SI_USER")
		case 0x80:
			b.WriteString("SI_KERNEL")
		case -1:
			b.WriteString("SI_QUEUE")
		case -6:
			b.WriteString("SI_TKILL")
		default:
			wInt(b, int64(int32(code)))
		}
		if errno != 0 {
			b.WriteString(", si_errno=")
			b.WriteString(ErrnoName(int64(int32(errno))))
		}
	}
	b.WriteByte('}')
	return true
}

// Sockets.

// writeSockaddr writes a socket address of length n (at most len(m) bytes are read).
func writeSockaddr(b *wbuf, m le, n int) bool {
	if n > len(m) {
		n = len(m)
	}
	if n < 2 {
		return false
	}
	m = m[:n]
	fam, _ := m.u16(0)
	b.WriteString("{sa_family=")
	xAddrFamily.enum(b, fam)
	switch fam {
	case 1: // AF_UNIX
		if n > 2 {
			path := m[2:]
			b.WriteString(", sun_path=")
			if path[0] == 0 && n > 3 {
				b.WriteByte('@')
				quote(b, path[1:], false)
			} else {
				// sun_path is bounded by the address length: no NUL is needed.
				s, _ := cstring(path)
				quote(b, s, false)
			}
		}
	case 2: // AF_INET
		if n < 8 {
			return writeSaData(b, m)
		}
		port, _ := m.u16(2)
		b.WriteString(", sin_port=htons(")
		wUint(b, uint64(bits.ReverseBytes16(uint16(port))))
		b.WriteString("), sin_addr=inet_addr(\"")
		b.WriteString(netip.AddrFrom4([4]byte(m[4:8])).String())
		b.WriteString("\")")
	case 10: // AF_INET6
		if n < 24 {
			return writeSaData(b, m)
		}
		port, _ := m.u16(2)
		flow, _ := m.u32(4)
		b.WriteString(", sin6_port=htons(")
		wUint(b, uint64(bits.ReverseBytes16(uint16(port))))
		b.WriteString("), sin6_flowinfo=htonl(")
		wUint(b, uint64(bits.ReverseBytes32(uint32(flow))))
		b.WriteString("), inet_pton(AF_INET6, \"")
		b.WriteString(netip.AddrFrom16([16]byte(m[8:24])).String())
		b.WriteString("\", &sin6_addr)")
		if n >= 28 {
			scope, _ := m.u32(24)
			b.WriteString(", sin6_scope_id=")
			wUint(b, scope)
		}
	case 16: // AF_NETLINK
		if n < 12 {
			return writeSaData(b, m)
		}
		pid, _ := m.u32(4)
		groups, _ := m.u32(8)
		b.WriteString(", nl_pid=")
		wInt(b, int64(int32(pid)))
		b.WriteString(", nl_groups=")
		s := strconv.FormatUint(groups, 16)
		b.WriteString(strings.Repeat("0", 8-len(s)) + s)
	default:
		return writeSaData(b, m)
	}
	b.WriteByte('}')
	return true
}

// writeSaData ends a socket address of another family with its raw bytes.
func writeSaData(b *wbuf, m le) bool {
	if len(m) > 2 {
		b.WriteString(", sa_data=")
		quote(b, m[2:], false)
	}
	b.WriteByte('}')
	return true
}

// writeMsghdr writes a struct msghdr with its pointers in hex.
func writeMsghdr(b *wbuf, m le) bool {
	if len(m) < sizeMsghdr {
		return false
	}
	name, _ := m.u64(0)
	namelen, _ := m.u32(8)
	iov, _ := m.u64(16)
	iovlen, _ := m.u64(24)
	ctl, _ := m.u64(32)
	ctllen, _ := m.u64(40)
	flags, _ := m.u32(48)
	b.WriteString("{msg_name=")
	writePtr(b, name)
	b.WriteString(", msg_namelen=")
	wUint(b, namelen)
	b.WriteString(", msg_iov=")
	writePtr(b, iov)
	b.WriteString(", msg_iovlen=")
	wUint(b, iovlen)
	if ctllen != 0 {
		b.WriteString(", msg_control=")
		writePtr(b, ctl)
	}
	b.WriteString(", msg_controllen=")
	wUint(b, ctllen)
	b.WriteString(", msg_flags=")
	xMsgFlags.flags(b, flags)
	b.WriteByte('}')
	return true
}

// writeEpollEvent writes one struct epoll_event.
func writeEpollEvent(b *wbuf, m le) bool {
	ev, ok1 := m.u32(0)
	data, ok2 := m.u64(4)
	if !ok1 || !ok2 {
		return false
	}
	b.WriteString("{events=")
	xEpollEv.flags(b, ev)
	b.WriteString(", data={u32=")
	wUint(b, uint64(uint32(data)))
	b.WriteString(", u64=")
	wUint(b, data)
	b.WriteString("}}")
	return true
}

// writeCloneArgs writes a struct clone_args of size n.
func writeCloneArgs(b *wbuf, m le) bool {
	if len(m) < 64 {
		return false
	}
	u := func(off int) uint64 { v, _ := m.u64(off); return v }
	flags := u(0)
	b.WriteString("{flags=")
	xClone.flags(b, flags)
	if flags&0x1000 != 0 {
		b.WriteString(", pidfd=")
		writePtr(b, u(8))
	}
	if flags&(0x1000000|0x200000) != 0 {
		b.WriteString(", child_tid=")
		writePtr(b, u(16))
	}
	if flags&0x100000 != 0 {
		b.WriteString(", parent_tid=")
		writePtr(b, u(24))
	}
	b.WriteString(", exit_signal=")
	writeSignal(b, u(32))
	b.WriteString(", stack=")
	writePtr(b, u(40))
	b.WriteString(", stack_size=")
	writeHex(b, u(48))
	if flags&0x80000 != 0 {
		b.WriteString(", tls=")
		writePtr(b, u(56))
	}
	b.WriteByte('}')
	return true
}

// writeFdset writes the descriptors set in an fd_set of nfds bits: "[3 4]".
func writeFdset(b *wbuf, m []byte, nfds int) {
	b.WriteByte('[')
	first := true
	for fd := 0; fd < nfds && fd/8 < len(m); fd++ {
		if m[fd/8]>>(fd%8)&1 == 1 {
			if !first {
				b.WriteByte(' ')
			}
			first = false
			wInt(b, int64(fd))
		}
	}
	b.WriteByte(']')
}

// writeCPUMask writes the CPUs set in a mask: "[0 1 2 3]".
func writeCPUMask(b *wbuf, m []byte) {
	writeFdset(b, m, len(m)*8)
}

// countDirents counts the linux_dirent64 (or linux_dirent) records in n bytes.
func countDirents(m le, n int) (int, bool) {
	if n > len(m) {
		return 0, false
	}
	count := 0
	for off := 0; off < n; {
		reclen, ok := m.u16(off + 16)
		if !ok || reclen == 0 {
			return 0, false
		}
		off += int(reclen)
		count++
	}
	return count, true
}
