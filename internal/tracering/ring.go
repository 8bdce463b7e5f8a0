// Package tracering is the consumer side of the trace ring of `zpoline trace`: it
// creates the shared ring the recorder (hooks/trace/src/zp_trace.c) writes into, and
// reads the records back in order. The layout and the protocol are described once, in
// hooks/trace/src/zp_trace_ring.h; this file mirrors it (layout_test.go compares every
// offset with the C header).
//
// The package is pure Go (no cgo): the zpoline command that uses it is a static binary.
package tracering

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Layout constants of zp_trace_ring.h.
const (
	RingMagic   = 0x3145434152545a50
	RingVersion = 1
	HeaderSize  = 4096
	RecMagic    = 0x5a505243

	offMagic   = 0
	offVersion = 8
	offHdrSize = 12
	offSize    = 16
	offStrsize = 24
	offHead    = 64
	offTail    = 128
	offWaiters = 192
	offDropped = 200

	// RecHeaderSize is sizeof(struct zp_rec).
	RecHeaderSize = 120
	recOffPos     = 8
	recOffLen     = 16
	recOffType    = 20
	recOffFlags   = 22
	recOffPid     = 24
	recOffTid     = 28
	recOffNr      = 32
	recOffArgs    = 40
	recOffRet     = 88
	recOffT0      = 96
	recOffT1      = 104
	recOffNcap    = 112
	capHeaderSize = 8
)

// Record types and flags (ZP_REC_*, ZP_RECF_*).
const (
	TypeCall = 1 // one system call
	TypeExec = 2 // the recorder of a new program image started

	FlagUnfinished = 0x1 // recorded before a call that may not return
	FlagResumed    = 0x2 // the previous unfinished call of this thread returned
)

// EnvRing is the environment variable that tells the recorder where the ring is.
const EnvRing = "ZPOLINE_TRACE_RING"

// ErrRing is returned (wrapped) when the ring cannot be created.
var ErrRing = errors.New("cannot create the trace ring")

// ErrCorrupt is returned (wrapped) by Poll when a committed record is malformed.
var ErrCorrupt = errors.New("trace ring corrupt")

// Ring is a trace ring created by this process.
type Ring struct {
	f    *os.File
	mem  []byte
	data []byte
	size uint64
	path string
}

// Create makes a ring with size data bytes (a power of two, at least 64 KiB) whose
// recorders copy at most strsize bytes of data buffers and strings. The ring is a memfd;
// Path names it for processes of the traced tree, as long as this process lives.
func Create(size uint64, strsize int) (*Ring, error) {
	if size < 1<<16 || size&(size-1) != 0 {
		return nil, fmt.Errorf("%w: size %d is not a power of two >= 65536", ErrRing, size)
	}
	fd, err := unix.MemfdCreate("zpoline-trace-ring", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("%w: memfd_create: %v", ErrRing, err)
	}
	f := os.NewFile(uintptr(fd), "zpoline-trace-ring")
	if err := f.Truncate(int64(HeaderSize + size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: truncate to %d bytes: %v", ErrRing, HeaderSize+size, err)
	}
	mem, err := unix.Mmap(fd, 0, int(HeaderSize+size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: mmap %d bytes: %v", ErrRing, HeaderSize+size, err)
	}
	r := &Ring{f: f, mem: mem, data: mem[HeaderSize:], size: size,
		path: fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), fd)}
	binary.LittleEndian.PutUint32(mem[offVersion:], RingVersion)
	binary.LittleEndian.PutUint32(mem[offHdrSize:], HeaderSize)
	binary.LittleEndian.PutUint64(mem[offSize:], size)
	binary.LittleEndian.PutUint32(mem[offStrsize:], uint32(strsize))
	atomic.StoreUint64(r.word(offMagic), RingMagic)
	return r, nil
}

// Path is the file name the recorders open (the value of EnvRing).
func (r *Ring) Path() string { return r.path }

// Close unmaps and closes the ring.
func (r *Ring) Close() error {
	err := unix.Munmap(r.mem)
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (r *Ring) word(off int) *uint64 { return (*uint64)(unsafe.Pointer(&r.mem[off])) }

func (r *Ring) dataWord(pos uint64) *uint64 {
	return (*uint64)(unsafe.Pointer(&r.data[pos&(r.size-1)]))
}

// Dropped is the number of records the recorders dropped to avoid a self-deadlock (a
// signal handler's call while its thread's own record blocked a full ring).
func (r *Ring) Dropped() uint64 { return atomic.LoadUint64(r.word(offDropped)) }

// Cap is one memory copy of a record: argument index, phase (0 entry, 1 exit), layout
// (decode.How) and the bytes.
type Cap struct {
	Arg, Phase, How uint8
	Data            []byte
}

// Record is one record of the ring. Caps' Data alias a buffer that the next record
// reuses.
type Record struct {
	Type, Flags uint16
	Pid, Tid    uint32
	Nr          int64
	Args        [6]uint64
	Ret         int64
	T0, T1      uint64
	Caps        []Cap
}

// Consumer reads the records of a ring in order.
type Consumer struct {
	r       *Ring
	buf     []byte
	rec     Record
	stuckAt uint64
	since   time.Time
	// Skipped counts records whose writer died before committing them.
	Skipped int
	// Alive reports whether thread tid of process pid still exists; the default looks
	// in /proc.
	Alive func(pid, tid uint32) bool
	// StuckAfter is how long an uncommitted record may block the ring before its
	// writer is checked (default 500 ms).
	StuckAfter time.Duration
}

// NewConsumer returns the consumer of r.
func NewConsumer(r *Ring) *Consumer {
	return &Consumer{r: r, Alive: procAlive, StuckAfter: 500 * time.Millisecond}
}

func procAlive(pid, tid uint32) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", pid, tid))
	return err == nil
}

// Poll hands every record committed now to fn, in order, and frees their space. It
// returns the number of records read. When the record at the tail stays uncommitted
// longer than StuckAfter and its thread no longer exists, it is skipped (Skipped).
// With final set (no recorder can write any more) every uncommitted record is skipped.
// It fails with ErrCorrupt on a malformed record.
func (c *Consumer) Poll(fn func(*Record), final bool) (int, error) {
	r := c.r
	n := 0
	tail := atomic.LoadUint64(r.word(offTail))
	for {
		head := atomic.LoadUint64(r.word(offHead))
		if tail == head {
			break
		}
		commit := atomic.LoadUint64(r.dataWord(tail))
		if commit == 0 {
			if !c.stuck(tail, head, final) {
				break
			}
			continue
		}
		ln := uint64(uint32(commit))
		if commit>>32 != RecMagic || ln < RecHeaderSize || ln%8 != 0 || ln > r.size {
			// Cannot happen with a well-behaved recorder: stop reading rather than
			// misparse (the rest of the trace would be garbage).
			return n, fmt.Errorf("%w: record at position %d has commit word %#x", ErrCorrupt, tail, commit)
		}
		c.copyOut(tail, ln)
		c.parse()
		fn(&c.rec)
		c.free(tail, ln)
		tail += ln
		n++
	}
	if n > 0 {
		c.wake()
	}
	return n, nil
}

// stuck handles an uncommitted record at tail: it returns true after skipping it.
func (c *Consumer) stuck(tail, head uint64, final bool) bool {
	r := c.r
	if c.stuckAt != tail || c.since.IsZero() {
		c.stuckAt, c.since = tail, time.Now()
		if !final {
			return false
		}
	}
	pos := atomic.LoadUint64(r.dataWord(tail + recOffPos))
	w2 := atomic.LoadUint64(r.dataWord(tail + recOffLen))
	w3 := atomic.LoadUint64(r.dataWord(tail + recOffPid))
	ln, pid, tid := uint64(uint32(w2)), uint32(w3), uint32(w3>>32)
	known := pos == tail && ln >= RecHeaderSize && ln%8 == 0 && tail+ln <= head
	if !final {
		if time.Since(c.since) < c.StuckAfter || !known || c.Alive(pid, tid) {
			return false
		}
	}
	if !known {
		// The writer died before it wrote the length: find the next committed record.
		ln = head - tail
		for p := tail + 8; p < head; p += 8 {
			if atomic.LoadUint64(r.dataWord(p))>>32 == RecMagic && atomic.LoadUint64(r.dataWord(p+recOffPos)) == p {
				ln = p - tail
				break
			}
		}
	}
	c.free(tail, ln)
	c.Skipped++
	c.since = time.Time{}
	c.wake()
	return true
}

// copyOut copies the record at pos into c.buf, across the end of the data area.
func (c *Consumer) copyOut(pos, ln uint64) {
	r := c.r
	if uint64(cap(c.buf)) < ln {
		c.buf = make([]byte, ln)
	}
	c.buf = c.buf[:ln]
	off := pos & (r.size - 1)
	k := copy(c.buf, r.data[off:min(off+ln, r.size)])
	copy(c.buf[k:], r.data[:ln-uint64(k)])
}

// free zeroes the record's bytes and moves the tail past it.
func (c *Consumer) free(pos, ln uint64) {
	r := c.r
	off := pos & (r.size - 1)
	end := min(off+ln, r.size)
	clear(r.data[off:end])
	clear(r.data[:ln-(end-off)])
	atomic.StoreUint64(r.word(offTail), pos+ln)
}

// wake wakes the recorders waiting for space.
func (c *Consumer) wake() {
	w := (*uint32)(unsafe.Pointer(&c.r.mem[offWaiters]))
	if atomic.LoadUint32(w) == 0 {
		return
	}
	atomic.StoreUint32(w, 0)
	syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&c.r.mem[offTail])),
		1 /* FUTEX_WAKE */, 1<<30, 0, 0, 0)
}

func (c *Consumer) parse() {
	b := c.buf
	le := binary.LittleEndian
	rec := &c.rec
	rec.Type = le.Uint16(b[recOffType:])
	rec.Flags = le.Uint16(b[recOffFlags:])
	rec.Pid = le.Uint32(b[recOffPid:])
	rec.Tid = le.Uint32(b[recOffTid:])
	rec.Nr = int64(le.Uint64(b[recOffNr:]))
	for i := range rec.Args {
		rec.Args[i] = le.Uint64(b[recOffArgs+8*i:])
	}
	rec.Ret = int64(le.Uint64(b[recOffRet:]))
	rec.T0 = le.Uint64(b[recOffT0:])
	rec.T1 = le.Uint64(b[recOffT1:])
	ncap := le.Uint32(b[recOffNcap:])
	rec.Caps = rec.Caps[:0]
	p := RecHeaderSize
	for i := uint32(0); i < ncap && p+capHeaderSize <= len(b); i++ {
		ln := int(le.Uint32(b[p+4:]))
		d := p + capHeaderSize
		if d+ln > len(b) {
			break
		}
		rec.Caps = append(rec.Caps, Cap{Arg: b[p], Phase: b[p+1], How: b[p+2], Data: b[d : d+ln]})
		p = d + (ln+7)/8*8
	}
}
