/*
 * zp_trace_ring.h - the layout of the shared trace ring of `zpoline trace`.
 *
 * One header, shared by the C recorder (zp_trace.c, inside every traced process) and
 * mirrored in Go by internal/tracering (the consumer in the zpoline command); the Go test
 * internal/tracering/layout_test.go compiles this header and compares every offset.
 *
 * The ring is one shared file (a memfd of the zpoline command, opened by path through
 * /proc/<pid>/fd/<n>): a 4096-byte header, then ZP_RING data bytes (a power of two).
 * Positions (head, tail, a record's pos) are byte counts since the start and only grow;
 * a position p lives at data[p & (size-1)]. Every record starts 8-byte aligned and is a
 * multiple of 8 bytes long, so no 8-byte word straddles the end of the data area.
 *
 * Protocol (many producers, one consumer):
 *  1. A producer reserves `len` bytes with a CAS on head, only when head + len - tail <=
 *     size: reserved space is always free, a producer never waits holding a reservation.
 *     When the ring is full it sets `waiters` and waits with FUTEX_WAIT on the low 32 bits
 *     of tail (10 ms timeout); the consumer wakes it after it advanced tail.
 *  2. It writes pos, len and pid/tid of the record at once (the consumer uses them to
 *     skip a record whose writer died), then the body, then the commit word
 *     (ZP_REC_MAGIC << 32 | len) with a release store.
 *  3. The consumer waits for the commit word at tail (acquire), copies the record out,
 *     zeroes its bytes (so a stale word is never taken for a commit after the ring wraps),
 *     then stores tail = pos + len (release) and wakes waiters.
 */
#ifndef ZP_TRACE_RING_H
#define ZP_TRACE_RING_H

#include <stdint.h>

#define ZP_RING_MAGIC 0x3145434152545a50ull /* "PZTRACE1" little-endian */
#define ZP_RING_VERSION 1
#define ZP_RING_HEADER 4096
#define ZP_REC_MAGIC 0x5a505243u /* "CRPZ" */

struct zp_ring_header {
	uint64_t magic;	  /* ZP_RING_MAGIC, written last by the creator */
	uint32_t version; /* ZP_RING_VERSION */
	uint32_t header_size; /* ZP_RING_HEADER */
	uint64_t size;	      /* bytes of the data area, a power of two */
	uint32_t strsize;     /* bytes copied of data buffers and strings (-s + 1) */
	uint32_t flags;	      /* reserved, 0 */
	uint8_t pad0[32];
	uint64_t head; /* 64: next free position; producers CAS it */
	uint8_t pad1[56];
	uint64_t tail; /* 128: first position not yet consumed; the consumer stores it */
	uint8_t pad2[56];
	uint32_t waiters; /* 192: nonzero when a producer waits for space */
	uint32_t pad3;
	uint64_t dropped; /* 200: records dropped to avoid a self-deadlock (see zp_trace.c) */
};

/* Record types */
#define ZP_REC_CALL 1 /* one system call */
#define ZP_REC_EXEC 2 /* the recorder of a new program image started (execve succeeded) */

/* Record flags */
#define ZP_RECF_UNFINISHED 0x1 /* written before a call that may not return (exit, execve) */
#define ZP_RECF_RESUMED 0x2    /* the call of the previous UNFINISHED record returned */

struct zp_rec {
	uint64_t commit; /* 0 until committed; then ZP_REC_MAGIC << 32 | len */
	uint64_t pos;	 /* the record's own position (consumer checks it) */
	uint32_t len;	 /* bytes of the whole record, a multiple of 8 */
	uint16_t type;	 /* ZP_REC_* */
	uint16_t flags;	 /* ZP_RECF_* */
	uint32_t pid;	 /* process (thread group) id */
	uint32_t tid;	 /* thread id */
	int64_t nr;	 /* system call number */
	uint64_t args[6];
	int64_t ret;	 /* result or -errno */
	uint64_t t0;	 /* rdtsc before the call */
	uint64_t t1;	 /* rdtsc after the call */
	uint32_t ncap;	 /* memory copies following the record header */
	uint32_t pad;
};

/* One memory copy: this header, then len bytes, padded to 8. Layouts: decode.How. */
struct zp_cap {
	uint8_t arg;   /* argument index 0..5 */
	uint8_t phase; /* 0 entry, 1 exit */
	uint8_t how;   /* decode.How: 0 fixed, 1 cstring, 2 strings, 3 iovecs */
	uint8_t pad;
	uint32_t len;
};

_Static_assert(sizeof(struct zp_ring_header) == 208, "zp_ring_header size");
_Static_assert(__builtin_offsetof(struct zp_ring_header, head) == 64, "head offset");
_Static_assert(__builtin_offsetof(struct zp_ring_header, tail) == 128, "tail offset");
_Static_assert(__builtin_offsetof(struct zp_ring_header, waiters) == 192, "waiters offset");
_Static_assert(__builtin_offsetof(struct zp_ring_header, dropped) == 200, "dropped offset");
_Static_assert(sizeof(struct zp_rec) == 120, "zp_rec size");
_Static_assert(__builtin_offsetof(struct zp_rec, nr) == 32, "nr offset");
_Static_assert(__builtin_offsetof(struct zp_rec, ret) == 88, "ret offset");
_Static_assert(__builtin_offsetof(struct zp_rec, ncap) == 112, "ncap offset");
_Static_assert(sizeof(struct zp_cap) == 8, "zp_cap size");

#endif /* ZP_TRACE_RING_H */
