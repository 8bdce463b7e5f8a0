package decode

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// How is the layout of one memory copy; the package documentation ("Memory copies")
// describes each.
type How uint8

// The layouts of memory copies.
const (
	Fixed   How = iota // Size bytes from the pointer
	CString            // a NUL-terminated string: the bytes up to and including the NUL, at most Size
	Strings            // a NULL-terminated array of string pointers (argv, envp)
	Iovecs             // Count struct iovec, then the data of each buffer
)

// String returns the layout's name.
func (h How) String() string {
	switch h {
	case Fixed:
		return "fixed"
	case CString:
		return "cstring"
	case Strings:
		return "strings"
	case Iovecs:
		return "iovecs"
	}
	return "how(?)"
}

// Capture is one memory copy a call wants for its decoding: which argument's pointer,
// when, and how much.
type Capture struct {
	Arg   int   // argument index 0..5 whose value is the pointer
	Phase Phase // Entry: the copy goes to Call.In; Exit: to Call.Out
	How   How
	// Size is the number of bytes (Fixed), or the maximum number of bytes (CString).
	Size int
	// Count is the number of elements (Iovecs), or the number of strings wanted
	// (Strings: 0 copies only the count, as for envp; -1 wants all of them).
	Count int
	// Data marks copies of data rather than structures (buffers, strings other than
	// paths, iovec contents): a recorder may copy only a prefix of them, as Format
	// prints at most Options.StrSize bytes anyway.
	Data bool
}

// Limits on the copies Captures asks for, so that a bad length argument cannot make a
// recorder copy gigabytes.
const (
	maxCopy    = 1 << 20 // bytes of one Fixed copy
	maxIovecs  = 1024    // UIO_MAXIOV
	maxStrings = 1 << 16 // pointers counted in an argv or envp array
)

// Captures returns the memory copies that Format can use for the call c in phase p,
// for its arguments and (at exit) its result; c.Ret matters only for p == Exit. It
// returns nothing for a call without a signature, for NULL pointers, and at exit for a
// failed call.
func Captures(c *Call, p Phase) []Capture {
	s := lookupSig(c.Nr)
	if s == nil || (p == Exit && !c.ok()) {
		return nil
	}
	var caps []Capture
	add := func(i int, how How, size, count int, data bool) {
		if i < 0 || i >= 6 || c.Args[i] == 0 || (how == Fixed && size <= 0) {
			return
		}
		if size > maxCopy {
			size = maxCopy
		}
		caps = append(caps, Capture{Arg: i, Phase: p, How: how, Size: size, Count: count, Data: data})
	}
	if s.fn != nil {
		specialCaptures(c, p, add)
		return caps
	}
	for i, a := range s.args {
		if i >= 6 {
			break
		}
		want := (p == Entry && a.dir&dirIn != 0) || (p == Exit && a.dir&dirOut != 0)
		if !want && a.kind != KindFcntlArg && a.kind != KindIoctlArg {
			continue
		}
		n := func() int {
			if a.n < 0 || a.n >= 6 {
				return 0
			}
			return clampInt(c.Args[a.n])
		}
		ret := clampInt(uint64(c.Ret))
		switch a.kind {
		case KindPath:
			add(i, CString, maxPath, 0, false)
		case KindString:
			add(i, CString, maxPath, 0, true)
		case KindStrOut:
			add(i, CString, min(clampInt(c.Args[1]), maxPath), 0, false)
		case KindBufIn:
			add(i, Fixed, n(), 0, true)
		case KindBufOut, KindRandomOut:
			add(i, Fixed, ret, 0, true)
		case KindSigset:
			sz := sizeSigset
			if a.n >= 0 {
				sz = min(n(), 128)
			}
			add(i, Fixed, sz, 0, false)
		case KindSockaddr:
			if p == Entry {
				add(i, Fixed, min(n(), sizeSockaddr), 0, false)
			} else {
				add(i, Fixed, sizeSockaddr, 0, false)
			}
		case KindSockOptVal:
			if p == Entry {
				add(i, Fixed, n(), 0, true)
			} else {
				add(i, Fixed, 256, 0, true)
			}
		case KindPollfds:
			add(i, Fixed, min(n(), maxIovecs)*sizePollfd, 0, false)
		case KindFdset:
			add(i, Fixed, fdsetBytes(c.Args[0]), 0, false)
		case KindIovec:
			add(i, Iovecs, 0, min(n(), maxIovecs), true)
		case KindArgv:
			add(i, Strings, 0, -1, true)
		case KindEnvp:
			add(i, Strings, 0, 0, true)
		case KindEpollEvents:
			add(i, Fixed, ret*sizeEpollEvent, 0, false)
		case KindCPUMask:
			if p == Entry {
				add(i, Fixed, n(), 0, false)
			} else {
				add(i, Fixed, ret, 0, false)
			}
		case KindDirents:
			add(i, Fixed, ret, 0, false)
		case KindMincoreVec:
			add(i, Fixed, clampInt((c.Args[1]+4095)/4096), 0, false)
		case KindWaitStatus:
			if c.Ret > 0 {
				add(i, Fixed, 4, 0, false)
			}
		case KindOpenHow:
			add(i, Fixed, min(n(), sizeOpenHow), 0, false)
		case KindCloneArgs:
			add(i, Fixed, min(n(), sizeCloneArgs), 0, false)
		case KindFcntlArg:
			switch uint32(c.Args[1]) {
			case 6, 7, 37, 38: // F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW
				if p == Entry {
					add(i, Fixed, sizeFlock, 0, false)
				}
			case 5, 36: // F_GETLK, F_OFD_GETLK
				add(i, Fixed, sizeFlock, 0, false)
			}
		case KindIoctlArg:
			switch uint32(c.Args[1]) {
			case tiocgwinsz:
				if p == Exit {
					add(i, Fixed, sizeWinsize, 0, false)
				}
			case tiocswinsz:
				if p == Entry {
					add(i, Fixed, sizeWinsize, 0, false)
				}
			case fionread, tiocgpgrp:
				if p == Exit {
					add(i, Fixed, 4, 0, false)
				}
			case fionbio, tiocspgrp:
				if p == Entry {
					add(i, Fixed, 4, 0, false)
				}
			}
		default:
			if sz := structSize(a.kind); sz > 0 {
				add(i, Fixed, sz, 0, false)
			}
		}
	}
	return caps
}

// structSize returns the size of the fixed-size structure (or integer) kind k points to.
func structSize(k Kind) int {
	switch k {
	case KindStat:
		return sizeStat
	case KindStatx:
		return sizeStatx
	case KindStatfs:
		return sizeStatfs
	case KindTimespec, KindTimeval:
		return sizeTimespec
	case KindItimerspec, KindItimerval, KindUtimens:
		return sizeItimerspec
	case KindRlimit:
		return sizeRlimit
	case KindRusage:
		return sizeRusage
	case KindUtsname:
		return sizeUtsname
	case KindSysinfo:
		return sizeSysinfo
	case KindTms:
		return sizeTms
	case KindSigaction:
		return sizeSigaction
	case KindStack:
		return sizeStack
	case KindEpollEvent:
		return sizeEpollEvent
	case KindMsghdr:
		return sizeMsghdr
	case KindSiginfo:
		return sizeSiginfo
	case KindIntPtr, KindSocklen:
		return 4
	case KindLoffPtr, KindPipeFds:
		return 8
	}
	return 0
}

// specialCaptures lists the copies of the calls with a whole-call formatter.
func specialCaptures(c *Call, p Phase, add func(i int, how How, size, count int, data bool)) {
	switch Name(c.Nr) {
	case "futex":
		switch c.Args[1] &^ (futexPrivate | futexRealtime) {
		case 0, 9, 6, 13, 11: // the commands whose fourth argument is a timeout
			if p == Entry {
				add(3, Fixed, sizeTimespec, 0, false)
			}
		}
	case "prctl":
		switch uint32(c.Args[0]) {
		case prSetName:
			if p == Entry {
				add(1, CString, 16, 0, true)
			}
		case prGetName:
			if p == Exit {
				add(1, CString, 16, 0, true)
			}
		case prGetPdeathsig:
			if p == Exit {
				add(1, Fixed, 4, 0, false)
			}
		}
	case "arch_prctl":
		if code := uint32(c.Args[0]); (code == 0x1003 || code == 0x1004) && p == Exit {
			add(1, Fixed, 8, 0, false)
		}
	case "clone":
		if c.Args[0]&(0x100000|0x1000) != 0 && p == Exit {
			add(2, Fixed, 4, 0, false)
		}
	}
}

// fdsetBytes returns the bytes of an fd_set of nfds descriptors, in whole longs.
func fdsetBytes(nfds uint64) int {
	n := int64(int32(nfds))
	if n <= 0 {
		return 0
	}
	if n > 1<<16 {
		n = 1 << 16
	}
	return int((n + 63) / 64 * 8)
}

func clampInt(v uint64) int {
	if v > maxCopy {
		return maxCopy
	}
	return int(v)
}

// MemReader copies memory of the traced program at addr into buf and returns the
// number of bytes copied, which is short (possibly 0) where the memory is not readable.
// It must not fault on a bad address.
type MemReader func(addr uint64, buf []byte) int

// ProcessReader returns a MemReader for process pid (0 or os.Getpid() for the calling
// process) that uses process_vm_readv(2), so bad pointers yield short copies rather
// than a fault. Reading another process needs ptrace permission over it.
func ProcessReader(pid int) MemReader {
	if pid == 0 {
		pid = unix.Getpid()
	}
	return func(addr uint64, buf []byte) int {
		total := 0
		for total < len(buf) {
			// Stop at page boundaries: process_vm_readv fails a whole iovec that
			// starts on an unreadable page but returns partial copies otherwise.
			chunk := len(buf) - total
			if pageLeft := 4096 - int((addr+uint64(total))%4096); chunk > pageLeft {
				chunk = pageLeft
			}
			local := []unix.Iovec{{Base: &buf[total]}}
			local[0].SetLen(chunk)
			remote := []unix.RemoteIovec{{Base: uintptr(addr) + uintptr(total), Len: chunk}}
			n, err := unix.ProcessVMReadv(pid, local, remote, 0)
			if err != nil || n <= 0 {
				break
			}
			total += n
			if n < chunk {
				break
			}
		}
		return total
	}
}

// Collect makes the copies Captures lists for phase p with read and stores them in
// c.In (Entry) or c.Out (Exit). Data copies are limited to limit bytes (<= 0 means
// DefaultStrSize+1, enough for Format with the default Options: one byte more than is
// printed tells a string that ends at the limit from a longer one). A pointer that
// cannot be read at all gets no copy, and Format prints it in hex.
func Collect(c *Call, p Phase, read MemReader, limit int) {
	if limit <= 0 {
		limit = DefaultStrSize + 1
	}
	for _, cp := range Captures(c, p) {
		addr := c.Args[cp.Arg]
		var data []byte
		switch cp.How {
		case Fixed:
			n := cp.Size
			if cp.Data && n > limit {
				n = limit
			}
			data = make([]byte, n)
			data = data[:read(addr, data)]
		case CString:
			n := cp.Size
			if cp.Data && n > limit {
				n = limit
			}
			data = readCString(read, addr, n)
		case Strings:
			data = readStrings(read, addr, cp.Count, limit)
		case Iovecs:
			data = readIovecs(read, addr, cp.Count, p == Exit, uint64(c.Ret), limit)
		}
		if data == nil {
			continue
		}
		if p == Entry {
			if c.In == nil {
				c.In = make(map[int][]byte)
			}
			c.In[cp.Arg] = data
		} else {
			if c.Out == nil {
				c.Out = make(map[int][]byte)
			}
			c.Out[cp.Arg] = data
		}
	}
}

// readCString reads a NUL-terminated string of at most max bytes (the NUL included),
// a page at a time so that a string ending before an unmapped page is read in full.
// It returns nil if nothing could be read.
func readCString(read MemReader, addr uint64, limit int) []byte {
	var out []byte
	for len(out) < limit {
		chunk := 4096 - int((addr+uint64(len(out)))%4096)
		if chunk > limit-len(out) {
			chunk = limit - len(out)
		}
		buf := make([]byte, chunk)
		n := read(addr+uint64(len(out)), buf)
		for i := 0; i < n; i++ {
			if buf[i] == 0 {
				return append(out, buf[:i+1]...)
			}
		}
		out = append(out, buf[:n]...)
		if n < chunk {
			break
		}
	}
	if out == nil && limit > 0 {
		return nil
	}
	return out
}

// readStrings reads an argv-style array: the count of non-NULL pointers, then up to
// want strings (want < 0: all) as length-prefixed copies of at most limit bytes.
func readStrings(read MemReader, addr uint64, want, limit int) []byte {
	var ptrs []uint64
	var word [8]byte
	for len(ptrs) < maxStrings {
		if read(addr+uint64(8*len(ptrs)), word[:]) != 8 {
			if len(ptrs) == 0 {
				return nil
			}
			break
		}
		p := binary.LittleEndian.Uint64(word[:])
		if p == 0 {
			break
		}
		ptrs = append(ptrs, p)
	}
	out := binary.LittleEndian.AppendUint32(nil, uint32(len(ptrs)))
	for i, p := range ptrs {
		if want >= 0 && i >= want {
			break
		}
		s := readCString(read, p, limit)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(s)))
		out = append(out, s...)
	}
	return out
}

// readIovecs reads cnt iovecs and the data of each: for a write the first limit bytes
// of every buffer, for a read the bytes the result says the kernel stored.
func readIovecs(read MemReader, addr uint64, cnt int, isOut bool, ret uint64, limit int) []byte {
	arr := make([]byte, cnt*sizeIovec)
	if read(addr, arr) != len(arr) {
		return nil
	}
	out := arr
	for i := 0; i < cnt; i++ {
		base := binary.LittleEndian.Uint64(arr[i*sizeIovec:])
		ln := binary.LittleEndian.Uint64(arr[i*sizeIovec+8:])
		if isOut {
			if ln > ret {
				ln = ret
			}
			ret -= ln
		}
		if ln > uint64(limit) {
			ln = uint64(limit)
		}
		buf := make([]byte, ln)
		n := 0
		if ln > 0 {
			n = read(base, buf)
		}
		out = binary.LittleEndian.AppendUint32(out, uint32(n))
		out = append(out, buf[:n]...)
	}
	return out
}
