package decode

import (
	"strconv"
	"strings"
	"sync"
)

// Format returns the strace-like text of a call: the call with its decoded arguments,
// " = ", and the result, e.g.
//
//	openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
//	openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)
//	exit_group(0) = ?
//
// It never panics, whatever the Call holds. FormatCall and FormatResult return the two
// halves, for a caller that aligns the results (strace pads to column 40);
// AppendFormat appends the text to a buffer without allocating, for a tracer's loop.
func Format(c Call, o Options) string {
	p := getPrinter(&c, o)
	p.call()
	p.b.WriteByte(' ')
	p.result()
	s := string(p.b)
	p.put()
	return s
}

// AppendFormat appends Format's text for c to dst and returns the extended buffer. It
// does not allocate when dst has room.
func AppendFormat(dst []byte, c *Call, o Options) []byte {
	p := getPrinter(c, o)
	p.b = dst
	p.call()
	p.b.WriteByte(' ')
	p.result()
	dst = p.b
	p.b = nil
	p.put()
	return dst
}

// FormatCall returns the call with its arguments: `openat(AT_FDCWD, "/etc/passwd",
// O_RDONLY|O_CLOEXEC)`. A number the package does not know prints as
// "syscall_600(0x1, 0x2, 0, 0, 0, 0)".
func FormatCall(c Call, o Options) string {
	p := getPrinter(&c, o)
	p.call()
	s := string(p.b)
	p.put()
	return s
}

// FormatResult returns the result part: "= 3", "= 0x7f2a1c000000", "= -1 ENOENT (No
// such file or directory)", "= 0 (Timeout)", or "= ?" for a call that did not return.
func FormatResult(c Call, o Options) string {
	p := getPrinter(&c, o)
	p.result()
	s := string(p.b)
	p.put()
	return s
}

// printer accumulates the text of one call.
type printer struct {
	b   wbuf
	c   *Call
	o   Options
	max int // string size limit
	n   int // arguments written
}

var printers = sync.Pool{New: func() any { return new(printer) }}

// getPrinter returns a printer for c from the pool, with an empty buffer.
func getPrinter(c *Call, o Options) *printer {
	p := printers.Get().(*printer)
	*p = printer{b: p.b[:0], c: c, o: o, max: o.strSize()}
	return p
}

// put returns p to the pool. Large buffers are dropped rather than kept.
func (p *printer) put() {
	if cap(p.b) > 64<<10 {
		p.b = nil
	}
	p.c = nil
	printers.Put(p)
}

// call writes the call with its arguments.
func (p *printer) call() {
	c, o := p.c, p.o
	p.b.WriteString(Name(c.Nr))
	p.b.WriteByte('(')
	s := lookupSig(c.Nr)
	switch {
	case o.Raw || s == nil:
		for i := 0; i < ArgCount(c.Nr) && i < 6; i++ {
			p.sep()
			writeHex(&p.b, c.Args[i])
		}
	case s.fn != nil:
		s.fn(p)
	default:
		for i, a := range s.args {
			if i < 6 {
				p.arg(i, a)
			}
		}
	}
	p.b.WriteByte(')')
}

// result writes the result part.
func (p *printer) result() {
	c, o, b := p.c, p.o, &p.b
	if !c.Done {
		b.WriteString("= ?")
		return
	}
	if c.Failed() {
		e := -c.Ret
		if o.Raw {
			b.WriteString("= -1 (errno ")
			wInt(b, e)
			b.WriteByte(')')
			return
		}
		if _, internal := kernelErrno[e]; internal {
			b.WriteString("= ? ")
		} else {
			b.WriteString("= -1 ")
		}
		b.WriteString(ErrnoName(e))
		b.WriteString(" (")
		b.WriteString(ErrnoText(e))
		b.WriteByte(')')
		return
	}
	b.WriteString("= ")
	if o.Raw {
		writeHex(b, uint64(c.Ret))
		return
	}
	rk := retDec
	if s := lookupSig(c.Nr); s != nil {
		rk = s.ret
	}
	switch rk {
	case retHex:
		writeHex(b, uint64(c.Ret))
	case retOct:
		writeOct(b, uint64(c.Ret))
	case retFcntl:
		writeFcntlResult(b, c)
	case retPoll:
		wInt(b, c.Ret)
		writePollResult(b, c, o)
	case retSelect:
		wInt(b, c.Ret)
		writeSelectResult(b, c)
	case retSchedPolicy:
		wInt(b, c.Ret)
		if n, ok := xSchedPol.lookup(uint64(c.Ret)); ok {
			b.WriteString(" (" + n + ")")
		}
	case retPersonality:
		v := uint64(uint32(c.Ret))
		if v&^0xff != 0 {
			writeHex(b, v)
		} else {
			wInt(b, c.Ret)
		}
		b.WriteString(" (")
		writePersonality(b, v)
		b.WriteByte(')')
	case retMembarrier:
		if cmd := uint32(c.Args[0]); (cmd == 0 || cmd == 512) && c.Ret > 0 { // QUERY, GET_REGISTRATIONS
			writeHex(b, uint64(c.Ret))
			b.WriteString(" (")
			xMembarrier.flags(b, uint64(c.Ret))
			b.WriteByte(')')
		} else {
			wInt(b, c.Ret)
		}
	case retPrctl:
		wInt(b, c.Ret)
		if uint32(c.Args[0]) == 3 && c.Ret >= 0 && c.Ret <= 2 { // PR_GET_DUMPABLE
			b.WriteString([]string{" (SUID_DUMP_DISABLE)", " (SUID_DUMP_USER)", " (SUID_DUMP_ROOT)"}[c.Ret])
		}
	default:
		wInt(b, c.Ret)
	}
}

// sep starts a new argument.
func (p *printer) sep() {
	if p.n > 0 {
		p.b.WriteString(", ")
	}
	p.n++
}

// named starts a new "name=" argument (clone's form).
func (p *printer) named(name string) {
	p.sep()
	p.b.WriteString(name)
	p.b.WriteByte('=')
}

// in returns the entry copy of argument i.
func (p *printer) in(i int) (le, bool) {
	m, ok := p.c.In[i]
	return m, ok
}

// out returns the exit copy of argument i, only for a call that succeeded.
func (p *printer) out(i int) (le, bool) {
	if !p.c.ok() {
		return nil, false
	}
	m, ok := p.c.Out[i]
	return m, ok
}

// mem returns the copy of argument i that a.dir says to print: the exit copy for
// arguments only the kernel writes, the entry copy (or else the exit copy) for
// arguments it reads and updates, whose new value strace shows after the result. A
// msghdr is the exception: recvmsg's is shown as the kernel left it.
func (p *printer) mem(i int, a arg) (le, bool) {
	switch {
	case a.dir == dirOut || (a.dir&dirOut != 0 && a.kind == KindMsghdr):
		if m, ok := p.out(i); ok || a.dir == dirOut {
			return m, ok
		}
	case a.dir&dirIn != 0:
		if m, ok := p.in(i); ok {
			return m, ok
		}
		return p.out(i)
	}
	return p.in(i)
}

// length returns the value of the length argument of a, or 0 if it has none.
func (p *printer) length(a arg) uint64 {
	if a.n < 0 || int(a.n) >= 6 {
		return 0
	}
	return p.c.Args[a.n]
}

// ptr writes the pointer of argument i: used when no copy can be decoded.
func (p *printer) ptr(i int) { writePtr(&p.b, p.c.Args[i]) }

// arg writes argument i of kind a. Kinds that are printed only in some cases (the mode
// of open, the argument of fcntl) skip the separator when omitted.
func (p *printer) arg(i int, a arg) {
	c := p.c
	v := c.Args[i]
	b := &p.b
	switch a.kind {
	case KindOpenMode:
		if c.Args[i-1]&(0x40|0x400000) == 0 { // O_CREAT, __O_TMPFILE
			return
		}
		p.sep()
		writeOct(b, uint64(uint32(v)))
		return
	case KindFcntlArg:
		p.fcntlArg(i)
		return
	case KindIoctlArg:
		p.ioctlArg(i)
		return
	case KindDev:
		if t := c.Args[i-1] & 0o170000; t != 0o20000 && t != 0o60000 { // S_IFCHR, S_IFBLK
			return
		}
		p.sep()
		writeDev(b, v)
		return
	case KindMembarrierCPU:
		if c.Args[i-1]&1 == 0 { // MEMBARRIER_CMD_FLAG_CPU
			return
		}
		p.sep()
		wInt(b, int64(int32(v)))
		return
	case KindMremapAddr:
		if c.Args[i-1]&3 != 3 { // MREMAP_MAYMOVE|MREMAP_FIXED
			return
		}
		p.sep()
		writePtr(b, v)
		return
	}
	p.sep()
	if v == 0 && a.dir != dirNone && a.kind != KindSockOptVal {
		b.WriteString("NULL")
		return
	}
	switch a.kind {
	case KindPath:
		if m, ok := p.in(i); ok {
			writeCString(b, m, -1)
			return
		}
	case KindString:
		if m, ok := p.in(i); ok {
			writeCString(b, m, p.max)
			return
		}
	case KindBufIn:
		if m, ok := p.in(i); ok {
			writeBuf(b, m, p.length(a), p.max, false)
			return
		}
	case KindBufOut, KindRandomOut:
		if c.ok() && c.Ret == 0 {
			b.WriteString(`""`)
			return
		}
		if m, ok := p.out(i); ok {
			writeBuf(b, m, uint64(c.Ret), p.max, a.kind == KindRandomOut)
			return
		}
	case KindStrOut:
		if m, ok := p.out(i); ok {
			writeCString(b, m, -1)
			return
		}
	case KindSigset:
		if m, ok := p.mem(i, a); ok && len(m) > 0 {
			n := p.length(a)
			if n == 0 || n > uint64(len(m)) {
				n = uint64(len(m))
			}
			writeSigset(b, m[:n])
			return
		}
	case KindSockaddr:
		if p.sockaddr(i, a) {
			return
		}
	case KindSocklen:
		if p.socklen(i) {
			return
		}
	case KindSockProto:
		p.sockProto(v)
		return
	case KindSockOpt:
		p.sockOpt(v)
		return
	case KindSockOptVal:
		if p.sockOptVal(i, a) {
			return
		}
		p.ptr(i)
		return
	case KindArgv:
		if m, ok := p.in(i); ok && p.argv(m) {
			return
		}
	case KindEnvp:
		p.ptr(i)
		if m, ok := p.in(i); ok {
			if n, ok := le(m).u32(0); ok {
				b.WriteString(" /* " + strconv.FormatUint(n, 10) + " var")
				if n != 1 {
					b.WriteByte('s')
				}
				b.WriteString(" */")
			}
		}
		return
	case KindIovec:
		if m, ok := p.mem(i, a); ok && p.iovec(m, p.length(a), a.dir&dirOut != 0) {
			return
		}
	case KindPollfds:
		if m, ok := p.in(i); ok && p.pollfds(m, p.length(a), false) {
			return
		}
	case KindFdset:
		if m, ok := p.in(i); ok {
			writeFdset(b, m, int(int32(c.Args[0])))
			return
		}
	case KindWaitStatus:
		if m, ok := p.out(i); ok && c.Ret > 0 {
			if st, ok := m.u32(0); ok {
				writeWaitStatus(b, uint32(st))
				return
			}
		}
	case KindIntPtr, KindLoffPtr, KindPipeFds:
		if m, ok := p.mem(i, a); ok && p.ints(m, a.kind) {
			if a.dir == dirIn|dirOut {
				if o, ok := p.out(i); ok && string(o) != string(m) {
					b.WriteString(" => ")
					p.ints(o, a.kind)
				}
			}
			return
		}
	case KindEpollEvents:
		if c.ok() && c.Ret == 0 {
			b.WriteString("[]")
			return
		}
		if m, ok := p.out(i); ok {
			p.array(m, int(c.Ret), sizeEpollEvent, func(e le) bool { return writeEpollEvent(b, e) })
			return
		}
	case KindCPUMask:
		if m, ok := p.mem(i, a); ok {
			n := len(m)
			if a.dir&dirOut != 0 && c.Ret >= 0 && int64(n) > c.Ret {
				n = int(c.Ret)
			}
			writeCPUMask(b, m[:n])
			return
		}
	case KindMincoreVec:
		if m, ok := p.out(i); ok {
			pages := int((c.Args[1] + 4095) / 4096)
			p.array(m, pages, 1, func(e le) bool {
				b.WriteByte('0' + e[0]&1)
				return true
			})
			return
		}
	case KindDirents:
		p.ptr(i)
		m, ok := p.out(i)
		if c.ok() && c.Ret == 0 {
			m, ok = le{}, true
		}
		if ok {
			if n, ok := countDirents(m, int(c.Ret)); ok {
				b.WriteString(" /* " + strconv.Itoa(n) + " entr")
				if n == 1 {
					b.WriteString("y */")
				} else {
					b.WriteString("ies */")
				}
			}
		}
		return
	case KindStat, KindStatx, KindStatfs, KindTimespec, KindTimeval, KindItimerspec, KindItimerval,
		KindUtimens, KindRlimit, KindRusage, KindUtsname, KindSysinfo, KindTms, KindSigaction, KindStack,
		KindEpollEvent, KindMsghdr, KindOpenHow, KindCloneArgs, KindSiginfo:
		if m, ok := p.mem(i, a); ok && writeStruct(b, a.kind, m) {
			return
		}
	default:
		writeValue(b, a.kind, v)
		return
	}
	p.ptr(i)
}

// writeStruct writes a structure of kind k from a copy, reporting false if the copy is
// too short.
func writeStruct(b *wbuf, k Kind, m le) bool {
	switch k {
	case KindStat:
		return writeStat(b, m)
	case KindStatx:
		return writeStatx(b, m)
	case KindStatfs:
		return writeStatfs(b, m)
	case KindTimespec:
		return writeTimespec(b, m, false)
	case KindTimeval:
		return writeTimespec(b, m, true)
	case KindItimerspec:
		return writeItimer(b, m, false)
	case KindItimerval:
		return writeItimer(b, m, true)
	case KindUtimens:
		return writeUtimens(b, m)
	case KindRlimit:
		return writeRlimit(b, m)
	case KindRusage:
		return writeRusage(b, m)
	case KindUtsname:
		return writeUtsname(b, m)
	case KindSysinfo:
		return writeSysinfo(b, m)
	case KindTms:
		return writeTms(b, m)
	case KindSigaction:
		return writeSigaction(b, m)
	case KindStack:
		return writeStack(b, m)
	case KindEpollEvent:
		return writeEpollEvent(b, m)
	case KindMsghdr:
		return writeMsghdr(b, m)
	case KindOpenHow:
		return writeOpenHow(b, m)
	case KindCloneArgs:
		return writeCloneArgs(b, m)
	case KindSiginfo:
		return writeSiginfo(b, m)
	}
	return false
}

// array writes up to count elements of size sz from m, at most max of them, then "..."
// if there are more; a copy shorter than count elements also ends with "...".
func (p *printer) array(m le, count, sz int, elem func(le) bool) {
	b := &p.b
	b.WriteByte('[')
	for i := 0; i < count; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		if i >= p.max || (i+1)*sz > len(m) {
			b.WriteString("...")
			break
		}
		elem(m[i*sz : (i+1)*sz])
	}
	b.WriteByte(']')
}

// ints writes a pointer to integers: [5] for an int, [4096] for a loff_t, [3, 4] for a
// pipe's descriptors.
func (p *printer) ints(m le, k Kind) bool {
	b := &p.b
	switch k {
	case KindIntPtr:
		v, ok := m.u32(0)
		if !ok {
			return false
		}
		b.WriteByte('[')
		wInt(b, int64(int32(v)))
	case KindLoffPtr:
		v, ok := m.u64(0)
		if !ok {
			return false
		}
		b.WriteByte('[')
		wInt(b, int64(v))
	case KindPipeFds:
		r, ok1 := m.u32(0)
		w, ok2 := m.u32(4)
		if !ok1 || !ok2 {
			return false
		}
		b.WriteByte('[')
		wInt(b, int64(int32(r)))
		b.WriteString(", ")
		wInt(b, int64(int32(w)))
	}
	b.WriteByte(']')
	return true
}

// argv writes the strings of an argv copy (see Strings in the package documentation).
func (p *printer) argv(m le) bool {
	count, ok := m.u32(0)
	if !ok {
		return false
	}
	b := &p.b
	b.WriteByte('[')
	off := 4
	for i := uint64(0); i < count; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		n, ok := m.u32(off)
		if !ok || i >= uint64(p.max) || off+4+int(n) > len(m) {
			b.WriteString("...")
			break
		}
		writeCString(b, m[off+4:off+4+int(n)], p.max)
		off += 4 + int(n)
	}
	b.WriteByte(']')
	return true
}

// iovec writes an iovec array copy of cnt elements followed by the copied data (see
// Iovecs in the package documentation). For a read (out), the data shown is limited to
// the result, as the kernel filled the buffers in order.
func (p *printer) iovec(m le, cnt uint64, isOut bool) bool {
	if cnt > uint64(len(m))/sizeIovec {
		return false
	}
	b := &p.b
	data := m[cnt*sizeIovec:]
	remain := uint64(p.c.Ret)
	b.WriteByte('[')
	for i := uint64(0); i < cnt; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		if i >= uint64(p.max) {
			b.WriteString("...")
			break
		}
		base, _ := m.u64(int(i) * sizeIovec)
		ln, _ := m.u64(int(i)*sizeIovec + 8)
		b.WriteString("{iov_base=")
		n, ok := le(data).u32(0)
		if ok && uint64(len(data)) >= 4+n {
			chunk := data[4 : 4+n]
			data = data[4+n:]
			full := ln
			if isOut {
				if remain < full {
					full = remain
				}
				remain -= full
			}
			writeBuf(b, chunk, full, p.max, false)
		} else {
			writePtr(b, base)
		}
		b.WriteString(", iov_len=")
		wUint(b, ln)
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return true
}

// pollfds writes a pollfd array; with revents it lists only the descriptors that have
// events, as the result part of strace's poll line does.
func (p *printer) pollfds(m le, n uint64, revents bool) bool {
	if n > uint64(len(m))/sizePollfd {
		return false
	}
	b := &p.b
	b.WriteByte('[')
	shown := 0
	for i := uint64(0); i < n; i++ {
		fd, _ := m.u32(int(i) * sizePollfd)
		ev, _ := m.u16(int(i)*sizePollfd + 4)
		rev, _ := m.u16(int(i)*sizePollfd + 6)
		if revents && rev == 0 {
			continue
		}
		if shown > 0 {
			b.WriteString(", ")
		}
		if shown >= p.max {
			b.WriteString("...")
			break
		}
		shown++
		b.WriteString("{fd=")
		wInt(b, int64(int32(fd)))
		if revents {
			b.WriteString(", revents=")
			xPollEv.flags(b, rev)
		} else {
			b.WriteString(", events=")
			xPollEv.flags(b, ev)
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return true
}

// sockaddr writes a socket address whose length is an argument (connect, bind, sendto)
// or behind a socklen_t pointer (accept, getsockname, recvfrom).
func (p *printer) sockaddr(i int, a arg) bool {
	m, ok := p.mem(i, a)
	if !ok {
		return false
	}
	n := int(uint32(p.length(a)))
	if a.dir&dirOut != 0 && a.n >= 0 {
		// The length argument is a pointer: use the length the kernel returned.
		l, ok := p.out(int(a.n))
		if !ok {
			return false
		}
		v, ok := l.u32(0)
		if !ok {
			return false
		}
		n = int(v)
	}
	if n > sizeSockaddr {
		n = sizeSockaddr
	}
	return writeSockaddr(&p.b, m, n)
}

// socklen writes a socklen_t pointer: [16], or [128 => 16] when the kernel changed it.
func (p *printer) socklen(i int) bool {
	in, okIn := p.in(i)
	out, okOut := p.out(i)
	vi, okIn := in.u32(0)
	vo, okOut2 := out.u32(0)
	okOut = okOut && okOut2
	b := &p.b
	switch {
	case okIn && okOut && vi != vo:
		b.WriteByte('[')
		wUint(b, vi)
		b.WriteString(" => ")
		wUint(b, vo)
		b.WriteByte(']')
	case okOut:
		b.WriteByte('[')
		wUint(b, vo)
		b.WriteByte(']')
	case okIn:
		b.WriteByte('[')
		wUint(b, vi)
		b.WriteByte(']')
	default:
		return false
	}
	return true
}

// sockProto writes the protocol argument of socket and socketpair, named by family.
func (p *printer) sockProto(v uint64) {
	switch p.c.Args[0] {
	case 2, 10: // AF_INET, AF_INET6
		xIPProto.enum(&p.b, uint64(uint32(v)))
	case 16: // AF_NETLINK
		xNetlinkProto.enum(&p.b, uint64(uint32(v)))
	default:
		wInt(&p.b, int64(int32(v)))
	}
}

// sockOptTable returns the option names of a socket level.
func sockOptTable(level uint64) *xlat {
	switch uint32(level) {
	case 1:
		return xSockOptSocket
	case 6:
		return xSockOptTCP
	case 0:
		return xSockOptIP
	case 41:
		return xSockOptIPv6
	}
	return nil
}

func (p *printer) sockOpt(v uint64) {
	if t := sockOptTable(p.c.Args[1]); t != nil {
		t.enum(&p.b, uint64(uint32(v)))
		return
	}
	wInt(&p.b, int64(int32(v)))
}

// sockOptVal writes the value of setsockopt (length in argument n) or getsockopt
// (length behind the socklen_t pointer of argument n): [1] for an int, else bytes.
func (p *printer) sockOptVal(i int, a arg) bool {
	if p.c.Args[i] == 0 {
		p.b.WriteString("NULL")
		return true
	}
	m, ok := p.mem(i, a)
	if !ok {
		return false
	}
	n := p.length(a)
	if a.dir&dirOut != 0 {
		l, ok := p.out(int(a.n))
		if !ok {
			return false
		}
		v, ok := l.u32(0)
		if !ok {
			return false
		}
		n = v
	}
	if n == 4 {
		if v, ok := m.u32(0); ok {
			p.b.WriteByte('[')
			wInt(&p.b, int64(int32(v)))
			p.b.WriteByte(']')
			return true
		}
	}
	writeBuf(&p.b, m, n, p.max, false)
	return true
}

// fcntl commands by the type of their third argument.
func fcntlArgType(cmd uint64) Kind {
	switch cmd {
	case 1, 3, 9, 11, 1025, 1032, 1034, 1035, 1037, 1028: // F_GETFD F_GETFL F_GETOWN F_GETSIG F_GETLEASE F_GETPIPE_SZ F_GET_SEALS ...
		return KindLast // no argument
	case 2:
		return KindFdFlags
	case 4:
		return KindOpenFlags
	case 5, 6, 7, 36, 37, 38:
		return KindLockType // struct flock
	case 10:
		return KindSignal
	case 1024:
		return KindLockType
	case 1026:
		return KindHex // DN_ flags below
	case 1033:
		return KindSeals
	case 0, 1030, 1027, 8, 1031:
		return KindInt
	}
	return KindHex
}

func (p *printer) fcntlArg(i int) {
	cmd := uint64(uint32(p.c.Args[1]))
	k := fcntlArgType(cmd)
	if k == KindLast {
		return
	}
	p.sep()
	v := p.c.Args[i]
	switch {
	case cmd == 1026:
		xNotify.flags(&p.b, uint64(uint32(v)))
	case k == KindLockType && cmd != 1024:
		// struct flock: F_GETLK's result comes back in the same structure.
		withPid := cmd == 5 || cmd == 36
		if withPid {
			if m, ok := p.out(i); ok && writeFlock(&p.b, m, true) {
				return
			}
		}
		if m, ok := p.in(i); ok && writeFlock(&p.b, m, false) {
			return
		}
		writePtr(&p.b, v)
	case k == KindInt || k == KindSignal:
		writeValue(&p.b, k, v)
	default:
		writeValue(&p.b, k, uint64(uint32(v)))
	}
}

func writeFcntlResult(b *wbuf, c *Call) {
	switch uint32(c.Args[1]) {
	case 3: // F_GETFL
		writeHex(b, uint64(c.Ret))
		b.WriteString(" (flags ")
		writeOpenFlags(b, uint64(c.Ret))
		b.WriteByte(')')
	case 1: // F_GETFD
		writeHex(b, uint64(c.Ret))
		if c.Ret != 0 {
			b.WriteString(" (flags ")
			xFdFlags.flags(b, uint64(c.Ret))
			b.WriteByte(')')
		}
	case 1034: // F_GET_SEALS
		writeHex(b, uint64(c.Ret))
		if c.Ret != 0 {
			b.WriteString(" (seals ")
			xSeals.flags(b, uint64(c.Ret))
			b.WriteByte(')')
		}
	case 1025: // F_GETLEASE
		xLockType.enum(b, uint64(c.Ret))
	default:
		wInt(b, c.Ret)
	}
}

// ioctl requests whose argument is decoded.
const (
	tiocgwinsz = 0x5413
	tiocswinsz = 0x5414
	fionread   = 0x541b
	fionbio    = 0x5421
	tiocgpgrp  = 0x540f
	tiocspgrp  = 0x5410
	fioclex    = 0x5451
	fionclex   = 0x5450
)

// ioctlNoArg are the requests strace prints without their unused argument.
var ioctlNoArg = map[uint32]bool{
	fioclex: true, fionclex: true, 0x540c: true, 0x540d: true, 0x5422: true, 0x541d: true, 0x5427: true,
	0x5428: true, // TIOCEXCL TIOCNXCL TIOCNOTTY TIOCCONS TIOCSBRK TIOCCBRK
}

// ioctlArg writes the third argument of ioctl, or nothing for requests without one.
func (p *printer) ioctlArg(i int) {
	req := uint32(p.c.Args[1])
	if ioctlNoArg[req] {
		return
	}
	p.sep()
	v := p.c.Args[i]
	b := &p.b
	switch req {
	case tiocgwinsz, tiocswinsz:
		m, ok := p.in(i)
		if req == tiocgwinsz {
			m, ok = p.out(i)
		}
		if ok && len(m) >= sizeWinsize {
			row, _ := m.u16(0)
			col, _ := m.u16(2)
			xp, _ := m.u16(4)
			yp, _ := m.u16(6)
			b.WriteString("{ws_row=")
			wUint(b, row)
			b.WriteString(", ws_col=")
			wUint(b, col)
			b.WriteString(", ws_xpixel=")
			wUint(b, xp)
			b.WriteString(", ws_ypixel=")
			wUint(b, yp)
			b.WriteByte('}')
			return
		}
	case fionread, tiocgpgrp:
		if m, ok := p.out(i); ok && p.ints(m, KindIntPtr) {
			return
		}
	case fionbio, tiocspgrp:
		if m, ok := p.in(i); ok && p.ints(m, KindIntPtr) {
			return
		}
	}
	if _, known := xTermios.lookup(uint64(req)); known {
		writePtr(b, v)
		return
	}
	writeHex(b, v)
}

// writePollResult writes the part after a poll result: " (Timeout)" or the returned
// events " ([{fd=3, revents=POLLIN}])".
func writePollResult(b *wbuf, c *Call, o Options) {
	if c.Ret == 0 {
		b.WriteString(" (Timeout)")
		return
	}
	m, ok := c.Out[0]
	if !ok {
		return
	}
	p := printer{c: c, o: o, max: o.strSize()}
	if !p.pollfds(m, c.Args[1], true) {
		return
	}
	b.WriteString(" (")
	b.WriteString(p.b.String())
	if t, ok := c.Out[2]; ok && c.Nr == nrPpoll && c.Args[2] != 0 {
		b.WriteString(", left ")
		writeTimespec(b, t, false)
	}
	b.WriteByte(')')
}

// writeSelectResult writes " (Timeout)" or the ready sets " (in [3], out [1])".
func writeSelectResult(b *wbuf, c *Call) {
	if c.Ret == 0 {
		b.WriteString(" (Timeout)")
		return
	}
	var parts []string
	for i, name := range []string{"in", "out", "except"} {
		m, ok := c.Out[i+1]
		if !ok || c.Args[i+1] == 0 {
			continue
		}
		var sb wbuf
		sb.WriteString(name + " ")
		writeFdset(&sb, m, int(int32(c.Args[0])))
		if sb.Len() > len(name)+3 {
			parts = append(parts, sb.String())
		}
	}
	if t, ok := c.Out[4]; ok && c.Args[4] != 0 {
		var sb wbuf
		sb.WriteString("left ")
		if writeTimespec(&sb, t, c.Nr == nrSelect) {
			parts = append(parts, sb.String())
		}
	}
	if len(parts) > 0 {
		b.WriteString(" (" + strings.Join(parts, ", ") + ")")
	}
}

// System call numbers the formatters test for.
const (
	nrSelect = 23
	nrPpoll  = 271
)

// fmtClone prints clone's arguments as strace does:
// clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD,
// child_tidptr=0x7f...). On x86-64 the registers are flags, stack, parent_tid,
// child_tid, tls.
func fmtClone(p *printer) {
	c := p.c
	flags := c.Args[0]
	b := &p.b
	p.named("child_stack")
	writePtr(b, c.Args[1])
	p.named("flags")
	if sig := flags & 0xff; sig != 0 {
		if rest := flags &^ 0xff; rest != 0 {
			xClone.flags(b, rest)
			b.WriteByte('|')
		}
		writeSignal(b, sig)
	} else {
		xClone.flags(b, flags)
	}
	if flags&(0x100000|0x1000) != 0 { // CLONE_PARENT_SETTID, CLONE_PIDFD
		p.named("parent_tid")
		if m, ok := p.out(2); ok && p.ints(m, KindIntPtr) {
		} else {
			writePtr(b, c.Args[2])
		}
	}
	if flags&(0x1000000|0x200000) != 0 { // CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID
		p.named("child_tidptr")
		writePtr(b, c.Args[3])
	}
	if flags&0x80000 != 0 { // CLONE_SETTLS
		p.named("tls")
		writePtr(b, c.Args[4])
	}
}

// fmtFutex prints the arguments futex uses for its operation.
func fmtFutex(p *printer) {
	c := p.c
	b := &p.b
	op := c.Args[1]
	cmd := op &^ (futexPrivate | futexRealtime)
	p.sep()
	writePtr(b, c.Args[0])
	p.sep()
	writeFutexOp(b, op)
	timeout := func() {
		p.sep()
		if c.Args[3] == 0 {
			b.WriteString("NULL")
		} else if m, ok := p.in(3); !ok || !writeTimespec(b, m, false) {
			writeHex(b, c.Args[3])
		}
	}
	val := func(i int) { p.sep(); wUint(b, uint64(uint32(c.Args[i]))) }
	bitset := func() {
		p.sep()
		if uint32(c.Args[5]) == 0xffffffff {
			b.WriteString("FUTEX_BITSET_MATCH_ANY")
		} else {
			writeHex(b, uint64(uint32(c.Args[5])))
		}
	}
	switch cmd {
	case 0: // FUTEX_WAIT
		val(2)
		timeout()
	case 9: // FUTEX_WAIT_BITSET
		val(2)
		timeout()
		bitset()
	case 1, 2: // FUTEX_WAKE, FUTEX_FD
		val(2)
	case 10: // FUTEX_WAKE_BITSET
		val(2)
		bitset()
	case 3: // FUTEX_REQUEUE
		val(2)
		val(3)
		p.sep()
		writePtr(b, c.Args[4])
	case 4, 12: // FUTEX_CMP_REQUEUE, FUTEX_CMP_REQUEUE_PI
		val(2)
		val(3)
		p.sep()
		writePtr(b, c.Args[4])
		val(5)
	case 5: // FUTEX_WAKE_OP
		val(2)
		val(3)
		p.sep()
		writePtr(b, c.Args[4])
		p.sep()
		writeHex(b, uint64(uint32(c.Args[5])))
	case 6, 13: // FUTEX_LOCK_PI, FUTEX_LOCK_PI2
		timeout()
	case 7, 8: // FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI
	case 11: // FUTEX_WAIT_REQUEUE_PI
		val(2)
		timeout()
		p.sep()
		writePtr(b, c.Args[4])
	default:
		for i := 2; i < 6; i++ {
			p.sep()
			writeHex(b, c.Args[i])
		}
	}
}

// prctl options by their arguments.
const (
	prSetPdeathsig = 1
	prGetPdeathsig = 2
	prSetName      = 15
	prGetName      = 16
	taskCommLen    = 16
)

// prctlNoArgs are the prctl options strace prints without arguments.
var prctlNoArgs = map[uint64]bool{
	3: true, 7: true, 13: true, 21: true, 27: true, 30: true, 31: true, 32: true, 34: true, 39: true,
	42: true, 46: true, 58: true,
}

func fmtPrctl(p *printer) {
	c := p.c
	b := &p.b
	opt := uint64(uint32(c.Args[0]))
	p.sep()
	xPrctl.enum(b, opt)
	switch {
	case prctlNoArgs[opt]:
	case opt == prSetName || opt == prGetName:
		// A task name is at most 15 bytes and a NUL (TASK_COMM_LEN).
		p.sep()
		m, ok := p.in(1)
		if opt == prGetName {
			m, ok = p.out(1)
		}
		if ok && c.Args[1] != 0 {
			writeCString(b, m[:min(len(m), taskCommLen)], min(p.max, taskCommLen-1))
		} else {
			writePtr(b, c.Args[1])
		}
	case opt == prSetPdeathsig:
		p.sep()
		writeSignal(b, c.Args[1])
	case opt == prGetPdeathsig:
		p.sep()
		if m, ok := p.out(1); ok && c.Args[1] != 0 {
			if v, ok := m.u32(0); ok {
				b.WriteString("[" + SignalName(int64(int32(v))) + "]")
				return
			}
		}
		writePtr(b, c.Args[1])
	case opt == 4 || opt == 8 || opt == 36 || opt == 38 || opt == 41: // boolean setters
		p.sep()
		wUint(b, c.Args[1])
		if opt == 38 || opt == 41 {
			for i := 2; i < 5; i++ {
				p.sep()
				wUint(b, c.Args[i])
			}
		}
	default:
		for i := 1; i < 5; i++ {
			p.sep()
			writeHex(b, c.Args[i])
		}
	}
}

func fmtArchPrctl(p *printer) {
	c := p.c
	b := &p.b
	code := uint64(uint32(c.Args[0]))
	p.sep()
	xArchPrctl.enum(b, code)
	p.sep()
	if code == 0x1003 || code == 0x1004 { // ARCH_GET_FS, ARCH_GET_GS
		if m, ok := p.out(1); ok {
			if v, ok := m.u64(0); ok {
				b.WriteByte('[')
				writeHex(b, v)
				b.WriteByte(']')
				return
			}
		}
		writePtr(b, c.Args[1])
		return
	}
	writeHex(b, c.Args[1])
}

func fmtPtrace(p *printer) {
	c := p.c
	b := &p.b
	req := c.Args[0]
	p.sep()
	xPtrace.enum(b, req)
	switch req {
	case 0: // PTRACE_TRACEME
		return
	case 16, 0x4207, 8: // PTRACE_ATTACH, PTRACE_INTERRUPT, PTRACE_KILL
		p.sep()
		wInt(b, int64(int32(c.Args[1])))
		return
	}
	p.sep()
	wInt(b, int64(int32(c.Args[1])))
	p.sep()
	writePtr(b, c.Args[2])
	p.sep()
	switch req {
	case 7, 9, 17, 24, 31, 32, 33: // continue with a signal
		writeSignal(b, c.Args[3])
	default:
		writePtr(b, c.Args[3])
	}
}
