/*
 * zp_trace.c - libzpoline_trace.so, the recorder of `zpoline trace` and `zpoline stat`.
 *
 * What it does: for every system call the loader shows it, it copies the memory the call's
 * arguments point to (the rules of decode.CaptureRules, generated into zp_capture.h: entry
 * copies before the call, exit copies after it), performs the call through the loader's
 * api->syscall, and appends one binary record (pid, tid, number, six arguments, result,
 * rdtsc before and after, the copies) to the shared ring named by $ZPOLINE_TRACE_RING.
 * The zpoline command reads the ring and formats the records with the Go package decode:
 * nothing is formatted here.
 *
 * Why C and not Go: it is loaded with dlmopen(LM_ID_NEWLM) and runs on the per-syscall
 * path of every thread, in signal handlers and in fork and vfork children, where a Go
 * runtime cannot run. It is linked without libc (-nostdlib), compiled with
 * -mgeneral-regs-only (so its ZPOLINE_HOOK_VECTOR_FREE declaration is true), and performs
 * every call, the clone family included, with api->syscall (ZPOLINE_HOOK_CLONE_SAFE).
 *
 * Context: zp_ctor runs inside dlmopen; zpoline_hook_attach and zpoline_hook_init run once
 * from the loader's constructor (init maps the ring and writes an EXEC record: a new
 * program image after execve finds the ring again by its path, even if every inherited
 * descriptor was closed). The hook and the notifications run in any thread, on the
 * loader's per-thread hook stack, nested in signal handlers, in fork and vfork children.
 *
 * What it may call: raw system calls only (inline `syscall`) and the loader's API. No libc,
 * no locks, no TLS. Invariants:
 *  - Memory of the program is read with process_vm_readv on the own process (one call per
 *    copy, a page at a time where a string may end; ~1.3 us each here), so a bad pointer
 *    gives a short or missing copy, never a fault; or directly, when the pages were proven
 *    readable by such a copy since the last call that can take readability away (see
 *    "direct reads" below: ~0 us, the difference between 2.5 and 0.6 us per call of
 *    `dd bs=1`).
 *  - A record is built completely on the stack (ZP_BUF bytes; copies that do not fit are
 *    left out and print as pointers), then written into the ring between a reservation
 *    and a commit that contain no system call and no wait: see zp_ring_write for the
 *    protocol and what happens when the ring is full or a writer dies.
 *  - Shared state written after init: zp_pid (in fork children only: their own copy),
 *    zp_shared_mm (a counter, atomics), zp_tids (claimed with CAS, each slot written by
 *    the thread that owns the key).
 */
#include <stddef.h>
#include <stdint.h>

#include <linux/fcntl.h> /* O_RDWR, O_CLOEXEC */
#include <linux/futex.h>
#include <linux/mman.h>	 /* PROT_*, MAP_SHARED */
#include <linux/sched.h> /* CLONE_VM, CLONE_THREAD, CLONE_VFORK */
#include <linux/uio.h>	 /* struct iovec */

#include "zp_capture.h"
#include "zp_systab.h"
#include "zp_trace_ring.h"
#include "zpoline.h"

#define ZP_EXPORT __attribute__((visibility("default")))

ZP_EXPORT zpoline_hook_fn zpoline_hook_init(void);
ZP_EXPORT int64_t zpoline_hook_function(struct zpoline_regs *regs);
ZP_EXPORT int zpoline_hook_attach(const struct zpoline_api *api, struct zpoline_hook_desc *desc);

#define ZP_X32_SYSCALL_BIT 0x40000000u
#define ZP_BUF 32768	 /* one record with its copies, built on the hook stack */
#define ZP_PATH_MAX 4096 /* longest $ZPOLINE_TRACE_RING */
#define ZP_TID_SLOTS 4096
#define ZP_TID_PROBES 16
#define ZP_MAX_IOV 1024
#define ZP_MAX_STRINGS 65536

/* ---- global state ---- */

static const struct zpoline_api *zp_api;
static int64_t (*zp_api_syscall)(struct zpoline_regs *regs);
static void (*zp_api_hook_stack)(uint64_t *lo, uint64_t *hi);
static struct zp_ring_header *zp_ring; /* NULL: not tracing (pass-through) */
static uint8_t *zp_data;	       /* the ring's data area */
static uint64_t zp_mask;	       /* size - 1 */
static uint32_t zp_strsize;	       /* bytes copied of data buffers and strings */
static char zp_ring_path[ZP_PATH_MAX];
static int zp_ring_path_too_long;
static int zp_initialized;
/* This process's id: set at init and in fork children, never in a vfork child. */
static uint32_t zp_pid;
/* Clone-family calls in flight whose child shares this memory as another process
   (vfork, CLONE_VM without CLONE_THREAD): while nonzero, ids come from system calls. */
static int zp_shared_mm;

/* Thread ids by the address of the loader's per-thread block (api->hook_stack's hi):
   a thread keeps its block for life; a reused block gets on_thread_start first. */
struct zp_tid_slot {
	uint64_t key;
	uint32_t tid;
	uint32_t direct; /* 1 + index in zp_dthreads, 0: none claimed yet */
};
static struct zp_tid_slot zp_tids[ZP_TID_SLOTS];

/* Direct reads (see "copying the program's memory"): pages proven readable, the threads
   that may be reading them, and the calls in flight that may take readability away. */
#define ZP_DIRECT_PAGES 64   /* direct-mapped by page number */
#define ZP_DIRECT_THREADS 64 /* threads that read directly; later ones use process_vm_readv */
struct zp_dthread {
	uint32_t busy; /* sections of this thread in progress (nested in signal handlers) */
	uint32_t pid;  /* who owns the entry, for the liveness check of a stuck entry */
	uint32_t tid;
	uint32_t pad;
};
static uint64_t zp_pages[ZP_DIRECT_PAGES];
static struct zp_dthread zp_dthreads[ZP_DIRECT_THREADS];
static uint32_t zp_dthreads_used;
static uint32_t zp_unmappers; /* unmapping calls in flight */
static uint64_t zp_page_gen;  /* +1 before and after each unmapping call */
static int zp_direct_off;     /* set for good: protection keys in use, or a self-interrupt */

/* ---- raw system calls ---- */

static inline long zp_raw6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long zp_raw3(long nr, long a1, long a2, long a3)
{
	return zp_raw6(nr, a1, a2, a3, 0, 0, 0);
}

static inline uint64_t zp_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void zp_zero(void *p, size_t n)
{
	volatile uint8_t *b = p;

	while (n-- > 0)
		*b++ = 0;
}

/* Writes "libzpoline_trace: <msg><path>: errno <e>\n" to stderr. */
static void zp_warn(const char *msg, const char *path, long err)
{
	char buf[ZP_PATH_MAX + 128];
	size_t n = 0;
	const char *parts[3] = {"libzpoline_trace: ", msg, path};

	for (int i = 0; i < 3; i++)
		for (const char *s = parts[i]; s && *s && n < sizeof buf - 32; s++)
			buf[n++] = *s;
	if (err < 0) {
		char tmp[12];
		int k = 0;
		unsigned long e = (unsigned long)-err;

		for (const char *s = ": errno "; *s; s++)
			buf[n++] = *s;
		do
			tmp[k++] = (char)('0' + e % 10);
		while ((e /= 10) != 0 && k < 11);
		while (k > 0)
			buf[n++] = tmp[--k];
	}
	buf[n++] = '\n';
	zp_raw3(ZP_NR_write, 2, (long)buf, (long)n);
}

/* ---- ids ---- */

static uint32_t zp_getpid(void)
{
	if (__atomic_load_n(&zp_shared_mm, __ATOMIC_ACQUIRE) > 0)
		return (uint32_t)zp_raw3(ZP_NR_getpid, 0, 0, 0);
	return __atomic_load_n(&zp_pid, __ATOMIC_RELAXED);
}

static struct zp_tid_slot *zp_tid_slot(uint64_t key, int claim)
{
	uint64_t h = (key >> 12) * 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < ZP_TID_PROBES; i++) {
		struct zp_tid_slot *s = &zp_tids[(h + (uint64_t)i) & (ZP_TID_SLOTS - 1)];
		uint64_t k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);

		if (k == key)
			return s;
		if (k == 0 && claim) {
			uint64_t zero = 0;

			if (__atomic_compare_exchange_n(&s->key, &zero, key, 0, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE) ||
			    zero == key)
				return s;
		}
	}
	return NULL;
}

static uint64_t zp_task_key(void)
{
	uint64_t lo = 0, hi = 0;

	if (zp_api_hook_stack != NULL)
		zp_api_hook_stack(&lo, &hi);
	return hi;
}

/* The calling thread's id: from the cache, or gettid (and cached) on a miss. *slot is
   the thread's slot, or NULL (no per-thread block, table full, memory shared with a
   vfork child). */
static uint32_t zp_gettid_slot(struct zp_tid_slot **slot)
{
	uint64_t key;
	struct zp_tid_slot *s;
	uint32_t tid;

	*slot = NULL;
	if (__atomic_load_n(&zp_shared_mm, __ATOMIC_ACQUIRE) > 0 || (key = zp_task_key()) == 0)
		return (uint32_t)zp_raw3(ZP_NR_gettid, 0, 0, 0);
	s = zp_tid_slot(key, 1);
	*slot = s;
	if (s != NULL && (tid = __atomic_load_n(&s->tid, __ATOMIC_RELAXED)) != 0)
		return tid;
	tid = (uint32_t)zp_raw3(ZP_NR_gettid, 0, 0, 0);
	if (s != NULL)
		__atomic_store_n(&s->tid, tid, __ATOMIC_RELAXED);
	return tid;
}

static uint32_t zp_gettid(void)
{
	struct zp_tid_slot *s;

	return zp_gettid_slot(&s);
}

/* A new thread (a reused block may carry the id of a dead thread): cache the real one.
   Its direct-read entry (kept with the block) belongs to it now. */
static void zp_on_thread_start(void)
{
	uint64_t key = zp_task_key();
	struct zp_tid_slot *s;

	if (key != 0 && (s = zp_tid_slot(key, 1)) != NULL) {
		uint32_t tid = (uint32_t)zp_raw3(ZP_NR_gettid, 0, 0, 0), d;

		__atomic_store_n(&s->tid, tid, __ATOMIC_RELAXED);
		if ((d = __atomic_load_n(&s->direct, __ATOMIC_ACQUIRE)) != 0) {
			__atomic_store_n(&zp_dthreads[d - 1].pid, zp_getpid(), __ATOMIC_RELAXED);
			__atomic_store_n(&zp_dthreads[d - 1].tid, tid, __ATOMIC_RELAXED);
			__atomic_store_n(&zp_dthreads[d - 1].busy, 0, __ATOMIC_RELEASE);
		}
	}
}

/* A fork child: a new process id; every cached thread id belongs to the parent, and so
   does every proof of readability (MADV_DONTFORK pages are not in the child). */
static void zp_on_fork_child(void)
{
	__atomic_store_n(&zp_pid, (uint32_t)zp_raw3(ZP_NR_getpid, 0, 0, 0), __ATOMIC_RELAXED);
	__atomic_store_n(&zp_shared_mm, 0, __ATOMIC_RELAXED);
	zp_zero(zp_tids, sizeof zp_tids);
	zp_zero(zp_pages, sizeof zp_pages);
	zp_zero(zp_dthreads, sizeof zp_dthreads);
	zp_dthreads_used = 0;
	zp_unmappers = 0;
	zp_on_thread_start();
}

/* ---- copying the program's memory without faulting ---- */

/*
 * Direct reads. process_vm_readv costs ~1.3 us here (task lookup, ptrace access check,
 * pinning the pages), four times the system call being traced. A page that such a copy
 * read completely is proven readable, and stays readable until a system call of this
 * process takes it away: munmap, mremap, mprotect/pkey_mprotect, mmap with MAP_FIXED,
 * madvise, brk, shmat/shmdt, remap_file_pages, process_madvise (every one of them is
 * treated as such a call, whatever its arguments). The recorder sees every such call of
 * the program (all of them pass through zpoline_hook_function, the loader's runtime
 * included), so it keeps the proven pages in zp_pages and copies from them with plain
 * loads, under this protocol:
 *
 *  1. A reader (a copy) or filler (a new proof) works inside a section of its thread:
 *     zp_dthreads[i].busy += 1 (a full barrier), then checks zp_unmappers == 0, then
 *     reads or fills, then busy -= 1. Sections contain no system call and no wait.
 *  2. An unmapping call: zp_unmappers += 1 and zp_page_gen += 1 (full barriers), waits
 *     until no other thread is inside a section, empties zp_pages, performs the call,
 *     zp_page_gen += 1, zp_unmappers -= 1. A section that saw zp_unmappers == 0 started
 *     before the increment, and ended before the call is made; later sections see it
 *     nonzero until the call is done, then find zp_pages empty.
 *  3. A proof is taken outside a section (it is a system call): the filler reads
 *     zp_page_gen before it and stores the pages only if zp_page_gen is unchanged in the
 *     section, so a proof older than an unmapping call is never stored.
 *  4. A thread that does not come back (stuck busy) is checked with tgkill(pid, tid, 0)
 *     while waited for; a dead one's entry is released.
 *
 * What is not covered, and why it is accepted: a signal handler that interrupts a
 * direct copy of its own thread and unmaps the very buffer being copied (the drain sees
 * its own thread busy; it turns direct reads off for good and goes on, the interrupted
 * copy may fault); a shared file mapping truncated by another process after its page
 * was proven (the copy gets SIGBUS; the program touching its own buffer would too);
 * memory unmapped by calls that never reach a hook (calls of the loader's Go runtime
 * in its own memory, calls nested two signal handlers deep inside a hook). Protection
 * keys are not seen by process_vm_readv: the first pkey_alloc turns direct reads off.
 * Direct reads are off while a vfork child shares the memory (zp_shared_mm), and for a
 * thread without a slot.
 */
static struct zp_dthread *zp_dthread_of(struct zp_tid_slot *s)
{
	uint32_t d = __atomic_load_n(&s->direct, __ATOMIC_ACQUIRE), i;

	if (d != 0)
		return d <= ZP_DIRECT_THREADS ? &zp_dthreads[d - 1] : NULL;
	i = __atomic_fetch_add(&zp_dthreads_used, 1, __ATOMIC_ACQ_REL);
	if (i >= ZP_DIRECT_THREADS) {
		__atomic_store_n(&s->direct, ZP_DIRECT_THREADS + 1, __ATOMIC_RELEASE);
		return NULL;
	}
	zp_dthreads[i].pid = zp_getpid();
	zp_dthreads[i].tid = s->tid != 0 ? s->tid : (uint32_t)zp_raw3(ZP_NR_gettid, 0, 0, 0);
	__atomic_store_n(&s->direct, i + 1, __ATOMIC_RELEASE);
	return &zp_dthreads[i];
}

static inline uint64_t *zp_page_slot(uint64_t page)
{
	return &zp_pages[(page >> 12) & (ZP_DIRECT_PAGES - 1)];
}

/* The thread's entry when direct reads may be used now, or NULL. */
static struct zp_dthread *zp_direct_ok(struct zp_tid_slot *s, uint64_t addr, size_t n)
{
	if (s == NULL || n == 0 || n > 4096 || addr + n < addr || addr < 4096 ||
	    __atomic_load_n(&zp_direct_off, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&zp_shared_mm, __ATOMIC_RELAXED) > 0)
		return NULL;
	return zp_dthread_of(s);
}

static inline void zp_enter(struct zp_dthread *d)
{
	__atomic_fetch_add(&d->busy, 1, __ATOMIC_SEQ_CST);
}

static inline void zp_leave(struct zp_dthread *d)
{
	__atomic_fetch_sub(&d->busy, 1, __ATOMIC_SEQ_CST);
}

/* Copies n bytes from proven pages; 0 when they are not proven (nothing copied). */
static int zp_direct_copy(struct zp_dthread *d, uint64_t addr, void *dst, size_t n)
{
	uint64_t p0 = addr & ~4095ull, p1 = (addr + n - 1) & ~4095ull;
	int ok;

	zp_enter(d);
	ok = __atomic_load_n(&zp_unmappers, __ATOMIC_SEQ_CST) == 0 &&
	     !__atomic_load_n(&zp_direct_off, __ATOMIC_RELAXED) &&
	     __atomic_load_n(zp_page_slot(p0), __ATOMIC_RELAXED) == p0 &&
	     __atomic_load_n(zp_page_slot(p1), __ATOMIC_RELAXED) == p1;
	if (ok) {
		void *to = dst;
		uint64_t from = addr;
		size_t cnt = n;

		__asm__ volatile("cld; rep movsb" : "+D"(to), "+S"(from), "+c"(cnt) : : "memory", "cc");
	}
	zp_leave(d);
	return ok;
}

/* Records the pages of [addr, addr+n), read completely by a proof taken at gen. */
static void zp_direct_fill(struct zp_dthread *d, uint64_t addr, size_t n, uint64_t gen)
{
	uint64_t p0 = addr & ~4095ull, p1 = (addr + n - 1) & ~4095ull;

	zp_enter(d);
	if (__atomic_load_n(&zp_unmappers, __ATOMIC_SEQ_CST) == 0 &&
	    __atomic_load_n(&zp_page_gen, __ATOMIC_SEQ_CST) == gen) {
		__atomic_store_n(zp_page_slot(p0), p0, __ATOMIC_RELAXED);
		__atomic_store_n(zp_page_slot(p1), p1, __ATOMIC_RELAXED);
	}
	zp_leave(d);
}

/* Whether call nr may take readability away from pages (protocol step 2). */
static int zp_unmaps(uint32_t nr, uint64_t flags)
{
	switch (nr) {
	case ZP_NR_mmap:
		return (flags & MAP_FIXED) != 0;
	case ZP_NR_munmap:
	case ZP_NR_mremap:
	case ZP_NR_mprotect:
	case ZP_NR_pkey_mprotect:
	case ZP_NR_pkey_alloc:
	case ZP_NR_madvise:
	case ZP_NR_brk:
	case ZP_NR_shmat:
	case ZP_NR_shmdt:
	case ZP_NR_remap_file_pages:
	case ZP_NR_process_madvise:
		return 1;
	}
	return 0;
}

/* Waits until no other thread is inside a section (protocol steps 2 and 4). */
static void zp_drain(void)
{
	uint64_t key = zp_task_key();
	struct zp_tid_slot *s = key != 0 ? zp_tid_slot(key, 0) : NULL;
	uint32_t own = s != NULL ? __atomic_load_n(&s->direct, __ATOMIC_ACQUIRE) : 0;
	uint32_t used = __atomic_load_n(&zp_dthreads_used, __ATOMIC_ACQUIRE);

	if (used > ZP_DIRECT_THREADS)
		used = ZP_DIRECT_THREADS;
	for (uint32_t i = 0; i < used; i++) {
		struct zp_dthread *d = &zp_dthreads[i];

		if (i + 1 == own) {
			/* A signal handler interrupted a section of this very thread. */
			if (__atomic_load_n(&d->busy, __ATOMIC_SEQ_CST) != 0)
				__atomic_store_n(&zp_direct_off, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		for (uint32_t spins = 1; __atomic_load_n(&d->busy, __ATOMIC_SEQ_CST) != 0; spins++) {
			if (spins % 64 == 0 &&
			    zp_raw3(ZP_NR_tgkill, __atomic_load_n(&d->pid, __ATOMIC_RELAXED),
				    __atomic_load_n(&d->tid, __ATOMIC_RELAXED), 0) == -3 /* ESRCH */) {
				__atomic_store_n(&d->busy, 0, __ATOMIC_SEQ_CST);
				break;
			}
			zp_raw3(ZP_NR_sched_yield, 0, 0, 0);
		}
	}
}

static int64_t zp_perform_raw(struct zpoline_regs *regs)
{
	if (zp_api_syscall != NULL)
		return zp_api_syscall(regs);
	return zp_raw6(regs->rax, regs->rdi, regs->rsi, regs->rdx, regs->r10, regs->r8, regs->r9);
}

/* Performs an unmapping call (protocol step 2). */
static int64_t zp_perform_unmapping(struct zpoline_regs *regs, uint32_t nr)
{
	int64_t ret;

	__atomic_fetch_add(&zp_unmappers, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&zp_page_gen, 1, __ATOMIC_SEQ_CST);
	if (nr == ZP_NR_pkey_alloc)
		__atomic_store_n(&zp_direct_off, 1, __ATOMIC_SEQ_CST);
	zp_drain();
	for (int i = 0; i < ZP_DIRECT_PAGES; i++)
		__atomic_store_n(&zp_pages[i], 0, __ATOMIC_RELAXED);
	ret = zp_perform_raw(regs);
	__atomic_fetch_add(&zp_page_gen, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_sub(&zp_unmappers, 1, __ATOMIC_SEQ_CST);
	return ret;
}

/* Performs the call of regs. */
static int64_t zp_perform(struct zpoline_regs *regs)
{
	uint32_t nr = (uint32_t)regs->rax & ~ZP_X32_SYSCALL_BIT;

	if (zp_unmaps(nr, (uint64_t)regs->r10))
		return zp_perform_unmapping(regs, nr);
	return zp_perform_raw(regs);
}

/* The record under construction: header, then copies, in a stack buffer; slot is the
   thread's (NULL: no direct reads). */
struct zp_buf {
	uint8_t *base, *p, *end;
	struct zp_tid_slot *slot;
};

/* Copies up to n bytes from addr; returns the bytes copied (short where memory ends).
   Directly from proven pages, else with process_vm_readv (and the pages are proven). */
static size_t zp_read(const struct zp_buf *b, uint64_t addr, void *dst, size_t n)
{
	struct iovec local = {.iov_base = dst, .iov_len = n};
	struct iovec remote = {.iov_base = (void *)addr, .iov_len = n};
	struct zp_dthread *d = b != NULL ? zp_direct_ok(b->slot, addr, n) : NULL;
	uint64_t gen = 0;
	long r;

	if (n == 0)
		return 0;
	if (d != NULL) {
		if (zp_direct_copy(d, addr, dst, n))
			return n;
		gen = __atomic_load_n(&zp_page_gen, __ATOMIC_SEQ_CST);
	}
	r = zp_raw6(ZP_NR_process_vm_readv, (long)zp_getpid(), (long)&local, 1, (long)&remote, 1, 0);
	if (d != NULL && r == (long)n)
		zp_direct_fill(d, addr, n, gen);
	return r > 0 ? (size_t)r : 0;
}

/* A NUL-terminated string of at most max bytes (NUL included), a page at a time. Returns
   the length copied, or -1 when nothing could be read (or it does not fit). */
static long zp_cstring(struct zp_buf *b, uint64_t addr, size_t max)
{
	size_t got = 0;

	while (got < max) {
		size_t chunk = 4096 - ((addr + got) & 4095), n;

		if (chunk > max - got)
			chunk = max - got;
		if (chunk > (size_t)(b->end - b->p) - got)
			return -1;
		n = zp_read(b, addr + got, b->p + got, chunk);
		for (size_t i = 0; i < n; i++)
			if (b->p[got + i] == 0)
				return (long)(got + i + 1);
		got += n;
		if (n < chunk)
			break;
	}
	return got == 0 && max > 0 ? -1 : (long)got;
}

static int zp_put32(struct zp_buf *b, uint32_t v)
{
	if (b->end - b->p < 4)
		return -1;
	for (int i = 0; i < 4; i++)
		*b->p++ = (uint8_t)(v >> (8 * i));
	return 0;
}

/* Strings layout (decode.Strings): count of pointers, then want strings. */
static int zp_strings(struct zp_buf *b, uint64_t addr, int32_t want, size_t limit)
{
	uint64_t ptrs[64];
	uint32_t count = 0, done = 0;
	uint8_t *count_at = b->p;

	if (zp_put32(b, 0) < 0)
		return -1;
	for (;;) {
		/* Read a batch of pointers, up to the end of a page. */
		uint64_t at = addr + 8ull * count;
		size_t want_bytes = 4096 - (at & 4095), n;
		int end = 0;

		if (want_bytes > sizeof ptrs)
			want_bytes = sizeof ptrs;
		n = zp_read(b, at, ptrs, want_bytes) / 8;
		if (n == 0) {
			if (count == 0)
				return -1;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			if (ptrs[i] == 0 || count >= ZP_MAX_STRINGS) {
				end = 1;
				break;
			}
			count++;
			if (want >= 0 && done >= (uint32_t)want)
				continue;
			uint8_t *len_at = b->p;
			long l;

			if (zp_put32(b, 0) < 0)
				return -1;
			l = zp_cstring(b, ptrs[i], limit);
			if (l < 0)
				l = 0;
			if (b->end - b->p < l)
				return -1;
			b->p += l;
			for (int k = 0; k < 4; k++)
				len_at[k] = (uint8_t)((uint32_t)l >> (8 * k));
			done++;
		}
		if (end || n * 8 < want_bytes)
			break;
	}
	for (int k = 0; k < 4; k++)
		count_at[k] = (uint8_t)(count >> (8 * k));
	return 0;
}

/* Iovecs layout (decode.Iovecs): the array, then each buffer's length and bytes. */
static int zp_iovecs(struct zp_buf *b, uint64_t addr, uint32_t cnt, int is_out, uint64_t ret,
		     size_t limit)
{
	size_t arr = (size_t)cnt * 16;
	uint8_t *iov = b->p;

	if ((size_t)(b->end - b->p) < arr || zp_read(b, addr, b->p, arr) != arr)
		return -1;
	b->p += arr;
	for (uint32_t i = 0; i < cnt; i++) {
		uint64_t base = *(uint64_t *)(iov + 16 * i), len = *(uint64_t *)(iov + 16 * i + 8);
		uint8_t *len_at = b->p;
		size_t n = 0;

		if (is_out) {
			if (len > ret)
				len = ret;
			ret -= len;
		}
		if (len > limit)
			len = limit;
		if (zp_put32(b, 0) < 0 || (uint64_t)(b->end - b->p) < len)
			return -1;
		if (len > 0)
			n = zp_read(b, base, b->p, len);
		b->p += n;
		for (int k = 0; k < 4; k++)
			len_at[k] = (uint8_t)((uint32_t)n >> (8 * k));
	}
	return 0;
}

static uint64_t zp_clamp(uint64_t v)
{
	return v > (1u << 20) ? (1u << 20) : v;
}

static int zp_failed(int64_t nr, int64_t ret)
{
	/* Calls that never fail have no exit copies anyway; only the result range matters. */
	(void)nr;
	return ret < 0 && ret >= -4095;
}

/* Makes the copies of phase ph for the call into b (decode.CaptureRule.Eval). */
static void zp_capture(struct zp_buf *b, uint32_t *ncap, int64_t nr, const uint64_t args[6],
		       int64_t ret, int ph)
{
	uint32_t n = (uint32_t)nr;

	if (nr < 0 || nr >= ZP_CAP_NR_COUNT || zp_cap_index[n][1] == 0)
		return;
	if (ph == 1 && zp_failed(nr, ret))
		return;
	for (int i = 0; i < zp_cap_index[n][1]; i++) {
		const struct zp_cap_rule *r = &zp_cap_rules[zp_cap_index[n][0] + i];
		uint64_t v, ptr = args[r->arg];
		uint8_t *start = b->p;
		struct zp_cap *c;
		long len;
		int ok;

		if (r->phase != ph || ptr == 0)
			continue;
		if (r->cond_arg >= 0) {
			uint64_t cv = args[r->cond_arg] & r->cond_mask;

			if (r->cond_any ? cv == 0 : cv != r->cond_val)
				continue;
		}
		if (r->ret_pos && ret <= 0)
			continue;
		switch (r->src) {
		case 0:
			v = r->max;
			break;
		case 1:
			v = zp_clamp(args[r->src_arg]);
			break;
		case 2:
			v = zp_clamp((uint64_t)ret);
			break;
		case 3: {
			int64_t fds = (int32_t)args[r->src_arg];

			if (fds <= 0)
				v = 0;
			else
				v = (uint64_t)((fds > 65536 ? 65536 : fds) + 63) / 64 * 8;
			break;
		}
		default:
			v = zp_clamp((args[r->src_arg] + 4095) / 4096);
		}
		if (v > r->base_max)
			v = r->base_max;
		v *= r->mult;
		if (v > r->max)
			v = r->max;
		if (r->how == 0 && v == 0)
			continue;
		if (b->end - b->p < (long)sizeof *c)
			return;
		c = (struct zp_cap *)b->p;
		b->p += sizeof *c;
		c->arg = r->arg;
		c->phase = (uint8_t)ph;
		c->how = r->how;
		c->pad = 0;
		ok = 0;
		switch (r->how) {
		case 0: /* fixed */
			if (r->data && v > zp_strsize)
				v = zp_strsize;
			if (v > (uint64_t)(b->end - b->p)) {
				ok = -1;
				break;
			}
			len = (long)zp_read(b, ptr, b->p, v);
			if (len <= 0 && v > 0) {
				ok = -1;
				break;
			}
			b->p += len;
			break;
		case 1: /* cstring */
			if (r->data && v > zp_strsize)
				v = zp_strsize;
			len = zp_cstring(b, ptr, v);
			if (len < 0) {
				ok = -1;
				break;
			}
			b->p += len;
			break;
		case 2: /* strings */
			ok = zp_strings(b, ptr, r->count, zp_strsize);
			break;
		default: /* iovecs */
			ok = zp_iovecs(b, ptr, (uint32_t)v, ph == 1, (uint64_t)ret, zp_strsize);
		}
		if (ok < 0) {
			b->p = start;
			continue;
		}
		c->len = (uint32_t)(b->p - (start + sizeof *c));
		while (((uintptr_t)(b->p - b->base) & 7) != 0 && b->p < b->end)
			*b->p++ = 0;
		if (((uintptr_t)(b->p - b->base) & 7) != 0) {
			b->p = start;
			return;
		}
		(*ncap)++;
	}
}

/* ---- the ring ---- */

static void zp_futex_wait(uint32_t *addr, uint32_t val)
{
	struct {
		long sec, nsec;
	} ts = {0, 10 * 1000 * 1000};

	zp_raw6(ZP_NR_futex, (long)addr, FUTEX_WAIT, val, (long)&ts, 0, 0);
}

/*
 * Appends the record in b (len bytes, 8-aligned, commit word still 0) to the ring.
 *
 * Reservation: CAS on head, only when the record fits (head + len - tail <= size), so a
 * reserved range is always free and the writer goes straight to writing it: between the
 * CAS and the commit there is no system call and no wait, only stores.
 *
 * Ring full: never drop; the writer sets `waiters` and sleeps on the tail (FUTEX_WAIT,
 * 10 ms timeout against lost wake-ups) until the consumer made room. One exception: when
 * the record blocking the consumer (uncommitted, at tail) is this thread's own, this call
 * comes from a signal handler that interrupted that record's writing; waiting would never
 * end, so this record is dropped and counted in `dropped` (the consumer reports it).
 *
 * A writer that dies between the CAS and the commit (its process killed, exit_group from
 * another thread) leaves an uncommitted record: pos, len and tid are stored first thing
 * after the CAS, and the consumer skips a record whose thread no longer exists.
 */
static void zp_ring_write(struct zp_buf *b, uint32_t tid)
{
	struct zp_ring_header *h = zp_ring;
	struct zp_rec *rec = (struct zp_rec *)b->base;
	uint64_t len = (uint64_t)(b->p - b->base), pos, size = zp_mask + 1;
	uint64_t *w = (uint64_t *)b->base;

	if (len > size / 2) /* too big for this ring: keep the call, drop its copies */
		len = sizeof *rec, rec->ncap = 0;
	rec->len = (uint32_t)len;
	for (;;) {
		uint64_t head = __atomic_load_n(&h->head, __ATOMIC_RELAXED);
		uint64_t tail = __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE);

		if (head + len - tail <= size) {
			if (__atomic_compare_exchange_n(&h->head, &head, head + len, 0,
							__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
				pos = head;
				break;
			}
			continue;
		}
		{
			struct zp_rec *blk = (struct zp_rec *)(zp_data + (tail & zp_mask));

			if (__atomic_load_n(&blk->commit, __ATOMIC_ACQUIRE) == 0 &&
			    __atomic_load_n(&blk->pos, __ATOMIC_RELAXED) == tail &&
			    __atomic_load_n(&blk->tid, __ATOMIC_RELAXED) == tid) {
				__atomic_fetch_add(&h->dropped, 1, __ATOMIC_RELAXED);
				return;
			}
		}
		__atomic_store_n(&h->waiters, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&h->tail, __ATOMIC_SEQ_CST) != tail)
			continue;
		zp_futex_wait((uint32_t *)&h->tail, (uint32_t)tail);
	}
	rec->pos = pos;
	/* pos, len/type/flags, pid/tid first: the consumer's dead-writer check reads them. */
	__atomic_store_n((uint64_t *)(zp_data + ((pos + 8) & zp_mask)), w[1], __ATOMIC_RELAXED);
	__atomic_store_n((uint64_t *)(zp_data + ((pos + 16) & zp_mask)), w[2], __ATOMIC_RELAXED);
	__atomic_store_n((uint64_t *)(zp_data + ((pos + 24) & zp_mask)), w[3], __ATOMIC_RELAXED);
	for (uint64_t i = 4; i < len / 8; i++)
		*(uint64_t *)(zp_data + ((pos + 8 * i) & zp_mask)) = w[i];
	__atomic_store_n((uint64_t *)(zp_data + (pos & zp_mask)),
			 (uint64_t)ZP_REC_MAGIC << 32 | (uint32_t)len, __ATOMIC_RELEASE);
}

static void zp_rec_init(struct zp_buf *b, uint8_t *buf, size_t size, uint16_t type,
			uint16_t flags, uint32_t tid, int64_t nr, const uint64_t args[6])
{
	struct zp_rec *r = (struct zp_rec *)buf;

	zp_zero(r, sizeof *r);
	r->type = type;
	r->flags = flags;
	r->pid = zp_getpid();
	r->tid = tid;
	r->nr = nr;
	if (args != NULL)
		for (int i = 0; i < 6; i++)
			r->args[i] = args[i];
	b->base = buf;
	b->p = buf + sizeof *r;
	b->end = buf + size;
	b->slot = NULL;
}

/* ---- the hook ---- */

/* The clone flags of a clone-family call, or -1 for other calls. */
static int64_t zp_clone_flags(uint32_t n, const uint64_t args[6])
{
	switch (n) {
	case ZP_NR_clone:
		return (int64_t)args[0];
	case ZP_NR_fork:
		return 0;
	case ZP_NR_vfork:
		return CLONE_VM | CLONE_VFORK;
	case ZP_NR_clone3: {
		uint64_t fl = 0;

		if (args[1] >= 8 && zp_read(NULL, args[0], &fl, 8) == 8)
			return (int64_t)fl;
		return 0;
	}
	}
	return -1;
}

/*
 * The hook: records the call and returns its result unchanged. Calls that do not return
 * when they succeed (exit, exit_group, execve, execveat) are recorded before they run,
 * flagged UNFINISHED; an execve that fails writes a RESUMED record with its result. A
 * fork child's return from the clone family is not recorded (strace counts the call once,
 * in the parent); thread and vfork children never return here.
 */
ZP_EXPORT int64_t zpoline_hook_function(struct zpoline_regs *regs)
{
	uint8_t buf[ZP_BUF] __attribute__((aligned(8)));
	struct zp_buf b;
	struct zp_rec *rec = (struct zp_rec *)buf;
	const int64_t nr = regs->rax;
	const uint32_t n = (uint32_t)nr & ~ZP_X32_SYSCALL_BIT;
	const uint64_t args[6] = {
		(uint64_t)regs->rdi, (uint64_t)regs->rsi, (uint64_t)regs->rdx,
		(uint64_t)regs->r10, (uint64_t)regs->r8,  (uint64_t)regs->r9,
	};
	int64_t ret, cflags;
	uint32_t tid;
	struct zp_tid_slot *slot;
	int shared = 0;

	/* Not traced: no ring, or a call of the loader's own runtime (never the program's). */
	if (__atomic_load_n(&zp_ring, __ATOMIC_ACQUIRE) == NULL || (regs->flags & ZPOLINE_REGS_RUNTIME))
		return zp_perform(regs);
	tid = zp_gettid_slot(&slot);
	zp_rec_init(&b, buf, sizeof buf, ZP_REC_CALL, 0, tid, nr, args);
	b.slot = slot;
	zp_capture(&b, &rec->ncap, nr, args, 0, 0);

	switch (n) {
	case ZP_NR_exit:
	case ZP_NR_exit_group:
	case ZP_NR_execve:
	case ZP_NR_execveat:
		rec->flags = ZP_RECF_UNFINISHED;
		rec->t0 = rec->t1 = zp_rdtsc();
		zp_ring_write(&b, tid);
		ret = zp_perform(regs);
		zp_rec_init(&b, buf, sizeof buf, ZP_REC_CALL, ZP_RECF_RESUMED, tid, nr, args);
		rec->ret = ret;
		rec->t0 = rec->t1 = zp_rdtsc();
		zp_ring_write(&b, tid);
		return ret;
	}

	cflags = zp_clone_flags(n, args);
	if (cflags >= 0 && (cflags & CLONE_VM) && !(cflags & CLONE_THREAD)) {
		shared = 1;
		__atomic_fetch_add(&zp_shared_mm, 1, __ATOMIC_ACQ_REL);
	}
	rec->t0 = zp_rdtsc();
	ret = zp_perform(regs);
	rec->t1 = zp_rdtsc();
	if (shared)
		__atomic_fetch_sub(&zp_shared_mm, 1, __ATOMIC_ACQ_REL);
	if (cflags >= 0 && ret == 0 && !(cflags & CLONE_VM)) {
		/* The fork child (the loader has already called zp_on_fork_child). */
		return ret;
	}
	rec->ret = ret;
	b.slot = shared ? NULL : slot;
	zp_capture(&b, &rec->ncap, nr, args, ret, 1);
	zp_ring_write(&b, tid);
	return ret;
}

/* ---- set-up ---- */

ZP_EXPORT int zpoline_hook_attach(const struct zpoline_api *api, struct zpoline_hook_desc *desc)
{
	if (api == NULL || desc == NULL || api->abi_version < 1 ||
	    api->size < offsetof(struct zpoline_api, hook_stack) + sizeof api->hook_stack ||
	    api->syscall == NULL)
		return -22; /* EINVAL */
	zp_api = api;
	zp_api_hook_stack = api->hook_stack;
	__atomic_store_n(&zp_api_syscall, api->syscall, __ATOMIC_RELEASE);
	if (desc->size >= offsetof(struct zpoline_hook_desc, flags) + sizeof desc->flags)
		desc->flags = ZPOLINE_HOOK_VECTOR_FREE | ZPOLINE_HOOK_CLONE_SAFE;
	if (desc->size >= offsetof(struct zpoline_hook_desc, on_fork_child) + sizeof desc->on_fork_child) {
		desc->on_thread_start = zp_on_thread_start;
		desc->on_fork_child = zp_on_fork_child;
	}
	return 0;
}

/* Maps the ring named by $ZPOLINE_TRACE_RING; on failure the process runs untraced. */
static void zp_open_ring(void)
{
	struct zp_ring_header hd;
	long fd, addr;

	if (zp_ring_path_too_long) {
		zp_warn("ZPOLINE_TRACE_RING is longer than PATH_MAX; not tracing this process", "", 0);
		return;
	}
	if (zp_ring_path[0] == '\0') {
		zp_warn("ZPOLINE_TRACE_RING is not set (start programs with 'zpoline trace'); "
			"not tracing this process", "", 0);
		return;
	}
	fd = zp_raw6(ZP_NR_openat, AT_FDCWD, (long)zp_ring_path, O_RDWR | O_CLOEXEC, 0, 0, 0);
	if (fd < 0) {
		zp_warn("cannot open the trace ring ", zp_ring_path, fd);
		return;
	}
	if (zp_raw6(ZP_NR_pread64, fd, (long)&hd, sizeof hd, 0, 0, 0) != (long)sizeof hd ||
	    hd.magic != ZP_RING_MAGIC || hd.version != ZP_RING_VERSION ||
	    hd.header_size != ZP_RING_HEADER || hd.size < 65536 || (hd.size & (hd.size - 1)) != 0) {
		zp_warn("not a trace ring of this version: ", zp_ring_path, 0);
		zp_raw3(ZP_NR_close, fd, 0, 0);
		return;
	}
	addr = zp_raw6(ZP_NR_mmap, 0, (long)(ZP_RING_HEADER + hd.size), PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);
	zp_raw3(ZP_NR_close, fd, 0, 0);
	if (addr < 0 && addr >= -4095) {
		zp_warn("cannot map the trace ring ", zp_ring_path, addr);
		return;
	}
	zp_data = (uint8_t *)addr + ZP_RING_HEADER;
	zp_mask = hd.size - 1;
	zp_strsize = hd.strsize;
	__atomic_store_n(&zp_ring, (struct zp_ring_header *)addr, __ATOMIC_RELEASE);
}

/*
 * Init (zpoline-rs ABI): maps the ring and writes an EXEC record (the consumer completes
 * a pending execve of this process with it). Called once by the loader after attach.
 */
ZP_EXPORT zpoline_hook_fn zpoline_hook_init(void)
{
	if (!__atomic_exchange_n(&zp_initialized, 1, __ATOMIC_ACQ_REL)) {
		uint8_t buf[sizeof(struct zp_rec)] __attribute__((aligned(8)));
		struct zp_buf b;
		uint32_t tid;

		zp_pid = (uint32_t)zp_raw3(ZP_NR_getpid, 0, 0, 0);
		zp_open_ring();
		if (zp_ring != NULL) {
			tid = zp_gettid();
			zp_rec_init(&b, buf, sizeof buf, ZP_REC_EXEC, 0, tid, 0, NULL);
			((struct zp_rec *)buf)->t0 = ((struct zp_rec *)buf)->t1 = zp_rdtsc();
			zp_ring_write(&b, tid);
		}
	}
	return zpoline_hook_function;
}

/* Constructor: copies $ZPOLINE_TRACE_RING from the environment ld.so passes. */
__attribute__((constructor)) static void zp_ctor(int argc, char **argv, char **envp)
{
	static const char key[] = "ZPOLINE_TRACE_RING=";

	(void)argc;
	(void)argv;
	for (char **e = envp; e != NULL && *e != NULL; e++) {
		const char *s = *e;
		size_t i = 0, n = 0;

		while (key[i] != '\0' && s[i] == key[i])
			i++;
		if (key[i] != '\0')
			continue;
		s += i;
		while (s[n] != '\0' && n < sizeof zp_ring_path - 1) {
			zp_ring_path[n] = s[n];
			n++;
		}
		zp_ring_path[n] = '\0';
		zp_ring_path_too_long = s[n] != '\0';
		return;
	}
}
