/*
 * zp_newcode.c — code that appears after start-up (dlopen, JIT pages, mprotect'ed-to-exec
 * pages, mremap) is rewritten before the system call that made it executable returns.
 *
 * zp_dispatch calls zp_newcode_after once the hook has performed an mmap, mprotect,
 * pkey_mprotect or mremap (ZP_NEWCODE_NR in zp_core.h: one shift and test for every
 * other number). For a call that made memory executable it picks one of two paths:
 *
 *  - Go (loader/newcode.go), entered the way Go hooks are (zp_go_call3: vector state saved,
 *    in_go set, only where zp_go_blocked allows Go): it reads /proc/self/maps, scans the
 *    new executable mappings with the start-up decoder and site cache (anonymous code:
 *    linear sweep from the region start AND resync windows must agree, call shape only),
 *    and writes the sites through /proc/self/mem.
 *  - C, where Go may not run (fork child, vfork child, the Go runtime's threads, before
 *    start-up finished, the program's signal handlers under a Go hook): only an mmap of
 *    a file whose mapping the loader already scanned (same device, inode, size, mtime,
 *    file offset and length: the file table filled by Go) is rewritten, each site
 *    byte-verified and given the call shape (`callq *%rax`; no stub pages are made here).
 *    Anything else (anonymous code, a file never seen, mprotect of a file mapping) is
 *    left unrewritten and counted: a conservative C decoder that is provably correct
 *    does not exist here.
 *
 * Ranges mapped while the loader loads its hook namespaces (dlmopen at start-up) are
 * recorded as excluded and never rewritten, then or later. Calls made by a hook itself,
 * or by a signal handler that interrupted one, arrive at zp_dispatch_busy and never come
 * here: the hook namespace's own dlopens are not rewritten either.
 *
 * Why C: this runs on the hook path, in every context zp_dispatch runs in (fork and vfork
 * children, runtime threads, signal handlers), and decides whether Go may run at all.
 *
 * Context: zp_newcode_after runs on the thread's hook stack from zp_dispatch, after the
 * real call, with the block busy. Raw system calls only; no libc, no malloc (the tables
 * are fixed arrays or raw mmap), no blocking lock: one owner word taken with a CAS, which
 * a waiter steals from an owner that no longer exists (a fork child inherits the word).
 * The other functions run in Go's context (cgo calls at start-up or from the Go path).
 */
#pragma GCC target("general-regs-only")

#include <stddef.h>
#include <stdint.h>
#include <asm/unistd.h>
#include <asm/stat.h>
#include <linux/errno.h>
#include <linux/mman.h>

#include "zp_core.h"
#include "zp_syscall.h"

/* Set by the loader: the exported Go function that scans and rewrites [start, start+len). */
int64_t (*volatile zp_newcode_go_fn)(uint64_t start, uint64_t len, uint64_t why);

/* Nonzero while the loader's start-up loads hook namespaces: the tid doing it. */
volatile uint64_t zp_newcode_hookload_tid;

struct zp_nc_stats zp_nc_stats;
#define ZP_NC_ADD(field, v) __atomic_fetch_add(&zp_nc_stats.field, (v), __ATOMIC_RELAXED)

/* ---- excluded ranges (the hook namespaces) ---- */

#define ZP_NC_EXCLUDED_MAX 256
static struct {
	uint64_t start, end;
} zp_nc_excluded[ZP_NC_EXCLUDED_MAX];
static volatile uint32_t zp_nc_excluded_n;

int zp_newcode_excluded(uint64_t start, uint64_t end)
{
	uint32_t n = __atomic_load_n(&zp_nc_excluded_n, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < n && i < ZP_NC_EXCLUDED_MAX; i++)
		if (start < zp_nc_excluded[i].end && zp_nc_excluded[i].start < end)
			return 1;
	return 0;
}

static void zp_nc_exclude(uint64_t start, uint64_t end)
{
	uint32_t i = __atomic_fetch_add(&zp_nc_excluded_n, 0, __ATOMIC_RELAXED);
	if (i >= ZP_NC_EXCLUDED_MAX) {
		ZP_NC_ADD(exclude_overflow, 1);
		return;
	}
	zp_nc_excluded[i].start = start;
	zp_nc_excluded[i].end = end;
	__atomic_store_n(&zp_nc_excluded_n, i + 1, __ATOMIC_RELEASE);
}

/* ---- the file table: sites of file mappings the loader scanned, for the C path ---- */

#define ZP_NC_FILES_MAX 1024
static struct zp_nc_file {
	uint64_t dev, ino, size, mtime_ns, offset, length;
	const uint32_t *rel; /* site offsets from the mapping start, ascending */
	uint64_t n;
} zp_nc_files[ZP_NC_FILES_MAX];
static volatile uint32_t zp_nc_files_n;

int zp_newcode_file_add(uint64_t dev, uint64_t ino, uint64_t size, uint64_t mtime_ns, uint64_t offset,
			uint64_t length, const uint32_t *rel, uint64_t n)
{
	uint32_t i = zp_nc_files_n;
	for (uint32_t k = 0; k < i; k++) {
		const struct zp_nc_file *f = &zp_nc_files[k];
		if (f->dev == dev && f->ino == ino && f->size == size && f->mtime_ns == mtime_ns &&
		    f->offset == offset && f->length == length)
			return 0; /* known already */
	}
	if (i >= ZP_NC_FILES_MAX)
		return -ENOSPC;
	zp_nc_files[i] = (struct zp_nc_file){dev, ino, size, mtime_ns, offset, length, rel, n};
	__atomic_store_n(&zp_nc_files_n, i + 1, __ATOMIC_RELEASE);
	return 0;
}

static const struct zp_nc_file *zp_nc_file_find(int fd, uint64_t offset, uint64_t length)
{
	struct stat st;
	if (zp_sys2(__NR_fstat, fd, &st) != 0)
		return 0;
	uint64_t mt = (uint64_t)st.st_mtime * 1000000000ull + st.st_mtime_nsec;
	uint32_t n = __atomic_load_n(&zp_nc_files_n, __ATOMIC_ACQUIRE);
	for (uint32_t k = 0; k < n; k++) {
		const struct zp_nc_file *f = &zp_nc_files[k];
		if (f->dev == st.st_dev && f->ino == st.st_ino && f->size == (uint64_t)st.st_size &&
		    f->mtime_ns == mt && f->offset == offset && f->length == length)
			return f;
	}
	return 0;
}

/* ---- the lock: one owner at a time rewrites (Go or C) ---- */

static volatile uint64_t zp_nc_owner; /* tid, or 0 */

/* Takes the lock; waits (yielding) only if wait. An owner that no longer exists (a
   thread of the parent, seen from a fork child) has its lock taken over. */
static int zp_nc_lock(int wait)
{
	uint64_t me = zp_sys0(__NR_gettid);
	for (;;) {
		uint64_t cur = 0;
		if (__atomic_compare_exchange_n(&zp_nc_owner, &cur, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return 1;
		if (cur == me)
			return 0; /* cannot happen: this thread's newcode path never nests */
		if (zp_sys3(__NR_tgkill, zp_sys0(__NR_getpid), cur, 0) == -ESRCH &&
		    __atomic_compare_exchange_n(&zp_nc_owner, &cur, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return 1;
		if (!wait)
			return 0;
		zp_sys0(__NR_sched_yield);
	}
}

static void zp_nc_unlock(void)
{
	__atomic_store_n(&zp_nc_owner, 0, __ATOMIC_RELEASE);
}

/* ---- the event log, printed with the statistics ---- */

struct zp_nc_event zp_nc_events[ZP_NC_EVENTS_MAX];
volatile uint32_t zp_nc_events_n;

void zp_newcode_log(uint64_t start, uint64_t end, uint64_t how, uint64_t sites, uint64_t ns,
		    const char *path)
{
	uint32_t i = __atomic_fetch_add(&zp_nc_events_n, 1, __ATOMIC_RELAXED);
	if (i >= ZP_NC_EVENTS_MAX)
		return;
	zp_nc_events[i] = (struct zp_nc_event){start, end, how, sites, ns, path};
}

static uint64_t zp_nc_now_ns(void)
{
	struct {
		int64_t sec, nsec;
	} ts;
	zp_sys2(__NR_clock_gettime, 1 /* CLOCK_MONOTONIC */, &ts);
	return (uint64_t)ts.sec * 1000000000ull + (uint64_t)ts.nsec;
}

/* ---- the worker: a loader thread that scans for threads where Go cannot run ---- */

/*
 * A thread that shares its creator's TLS (raw clone without CLONE_SETTLS), a vfork child
 * (it shares the parent's memory, so a loader thread of the parent sees its mappings) and
 * a program signal handler under a Go hook may not call into Go themselves, but the
 * process's Go runtime is alive: the request is handed to the loader's worker thread
 * (loader/newcode.go), and the caller waits for it in a futex. Not in a fork child (the
 * worker does not exist there) nor on the Go runtime's own threads.
 */
static struct {
	volatile uint32_t state; /* 0 free, 1 posted, 2 done */
	uint64_t start, len, nr;
	int64_t result;
} zp_nc_req;
static volatile int zp_nc_worker_ready;

static void zp_nc_futex_wait(volatile uint32_t *w, uint32_t val)
{
	zp_sys6(__NR_futex, (long)w, 0 /* FUTEX_WAIT */, val, 0, 0, 0);
}

static void zp_nc_futex_wake(volatile uint32_t *w)
{
	zp_sys6(__NR_futex, (long)w, 1 /* FUTEX_WAKE */, 0x7fffffff, 0, 0, 0);
}

/* Called by the worker (Go, through cgo): blocks until a request is posted. */
void zp_newcode_worker_ready(void)
{
	zp_nc_worker_ready = 1;
}

void zp_newcode_worker_wait(uint64_t *start, uint64_t *len, uint64_t *nr)
{
	while (__atomic_load_n(&zp_nc_req.state, __ATOMIC_ACQUIRE) != 1)
		zp_nc_futex_wait(&zp_nc_req.state, 0);
	*start = zp_nc_req.start;
	*len = zp_nc_req.len;
	*nr = zp_nc_req.nr;
}

/* Called by the worker with the result of the request it took. */
void zp_newcode_worker_done(int64_t result)
{
	zp_nc_req.result = result;
	__atomic_store_n(&zp_nc_req.state, 2, __ATOMIC_RELEASE);
	zp_nc_futex_wake(&zp_nc_req.state);
}

/* Hands [start, start+len) to the worker and waits; the caller holds the lock. */
static int64_t zp_nc_by_worker(uint64_t start, uint64_t len, uint64_t nr)
{
	zp_nc_req.start = start;
	zp_nc_req.len = len;
	zp_nc_req.nr = nr;
	__atomic_store_n(&zp_nc_req.state, 1, __ATOMIC_RELEASE);
	zp_nc_futex_wake(&zp_nc_req.state);
	uint32_t st;
	while ((st = __atomic_load_n(&zp_nc_req.state, __ATOMIC_ACQUIRE)) != 2)
		zp_nc_futex_wait(&zp_nc_req.state, st);
	int64_t r = zp_nc_req.result;
	__atomic_store_n(&zp_nc_req.state, 0, __ATOMIC_RELEASE);
	return r;
}

static int zp_nc_worker_may_serve(const struct zp_block *b)
{
	if (!zp_nc_worker_ready || zp_in_fork_child || !zp_go_ready)
		return 0;
	return b->vfork_child || b->no_go == ZP_BYPASS_GO_SHARED_TLS || (!b->no_go && b->in_handler);
}

/* ---- the C path ---- */

/* Rewrites the sites of a known file mapped at start: each verified to be syscall or
   sysenter, added to the site set, then written as `callq *%rax`. Sites written, or -1. */
static int64_t zp_nc_apply_file(const struct zp_nc_file *file, uint64_t start)
{
	long mem = zp_sys3(__NR_open, "/proc/self/mem", 02 /* O_RDWR */ | 02000000 /* O_CLOEXEC */, 0);
	if (mem < 0)
		return -1;
	int64_t written = 0;
	uint64_t addrs[128];
	for (uint64_t k = 0; k < file->n;) {
		uint64_t m = 0;
		for (; k < file->n && m < 128; k++) {
			uint64_t a = start + file->rel[k];
			unsigned char cur[2];
			if (zp_sys4(__NR_pread64, mem, cur, 2, a) != 2 || cur[0] != 0x0f ||
			    (cur[1] != 0x05 && cur[1] != 0x34))
				continue; /* changed since the scan: left alone */
			addrs[m++] = a; /* the set holds the instruction's address */
		}
		if (m == 0)
			continue;
		/* The NULL-call check must know a site before it can be reached. */
		if (zp_sites_add(addrs, m) != 0)
			break;
		static const unsigned char callq[2] = {0xff, 0xd0};
		for (uint64_t j = 0; j < m; j++)
			if (zp_sys4(__NR_pwrite64, mem, callq, 2, addrs[j]) == 2)
				written++;
	}
	zp_sys1(__NR_close, mem);
	if (written)
		zp_note_site_range(start, start + file->length);
	return written;
}

/* mremap moved [old, old+len) to new_addr: the rewritten sites it held must work there
   (zp_apply_moved, in C: also in fork children). */
static void zp_nc_moved(struct zp_block *b, uint64_t old, uint64_t new_addr, uint64_t len)
{
	if (!zp_sites_maybe_in(old, old + len))
		return; /* data (a realloc): no lock taken */
	if (!zp_nc_lock(!b->in_handler)) {
		ZP_NC_ADD(failed, 1);
		return;
	}
	int64_t n = zp_apply_moved(old, new_addr, len);
	zp_nc_unlock();
	if (n < 0)
		ZP_NC_ADD(failed, 1);
	else
		ZP_NC_ADD(moved_sites, (uint64_t)n);
}

void zp_newcode_after(struct zp_block *b, const struct zp_frame *f, int64_t ret)
{
	int nr = (int)f->rax;
	uint64_t start, len, prot = 0;
	int fd = -1;
	uint64_t offset = 0;
	if (ret < 0 && ret > -4096)
		return; /* the call failed: nothing changed */
	switch (nr) {
	case __NR_mmap:
		prot = f->rdx;
		start = ret;
		len = f->rsi;
		if (!(f->r10 & MAP_ANONYMOUS)) {
			fd = (int)f->r8;
			offset = f->r9;
		}
		break;
	case __NR_mprotect:
	case __NR_pkey_mprotect:
		prot = f->rdx;
		start = f->rdi;
		len = f->rsi;
		break;
	case __NR_mremap:
		if (ret != f->rdi) {
			zp_nc_moved(b, (uint64_t)f->rdi, (uint64_t)ret, (uint64_t)(f->rsi < f->rdx ? f->rsi : f->rdx));
			if (zp_sud_wx_gone(b, (uint64_t)f->rdi, (uint64_t)f->rdi + (uint64_t)f->rsi))
				zp_sud_wx_mapped(b, (uint64_t)ret, (uint64_t)ret + (uint64_t)f->rdx);
		}
		prot = PROT_EXEC; /* unknown here: the Go path looks at the mapping */
		start = ret;
		len = f->rdx;
		break;
	case __NR_munmap:
		zp_sud_wx_gone(b, (uint64_t)f->rdi, (uint64_t)f->rdi + (uint64_t)f->rsi);
		return;
	default:
		return;
	}
	if (nr != __NR_mremap && !((prot & PROT_WRITE) && (prot & PROT_EXEC)))
		zp_sud_wx_gone(b, start, start + ((len + 4095) & ~4095ull)); /* no longer W+X there */
	if (!(prot & PROT_EXEC) || len == 0)
		return;
	len = (len + 4095) & ~4095ull;
	ZP_NC_ADD(events, 1);
	if ((prot & PROT_WRITE) && nr != __NR_mremap)
		ZP_NC_ADD(write_exec, 1);
	if (zp_newcode_hookload_tid && zp_newcode_hookload_tid == b->owner) {
		zp_nc_exclude(start, start + len);
		ZP_NC_ADD(excluded, 1);
		return;
	}
	if (zp_newcode_excluded(start, start + len)) {
		ZP_NC_ADD(excluded, 1);
		return;
	}
	if ((prot & PROT_WRITE) && nr != __NR_mremap)
		zp_sud_wx_mapped(b, start, start + len); /* code the scan below cannot vouch for: the SUD net */
	int64_t (*go)(uint64_t, uint64_t, uint64_t) = zp_newcode_go_fn;
	if (go && zp_go_may_run(b)) {
		zp_nc_lock(1);
		uint64_t t0 = zp_nc_now_ns();
		int64_t n = zp_go_call3(b, go, start, len, (uint64_t)nr);
		ZP_NC_ADD(go_ns, zp_nc_now_ns() - t0);
		zp_nc_unlock();
		if (n < 0) {
			ZP_NC_ADD(failed, 1);
		} else {
			ZP_NC_ADD(go_ranges, 1);
			ZP_NC_ADD(go_sites, n);
		}
		return;
	}
	if (go && zp_nc_worker_may_serve(b)) {
		zp_nc_lock(1);
		uint64_t t0 = zp_nc_now_ns();
		int64_t n = zp_nc_by_worker(start, len, (uint64_t)nr);
		ZP_NC_ADD(worker_ns, zp_nc_now_ns() - t0);
		zp_nc_unlock();
		if (n < 0) {
			ZP_NC_ADD(failed, 1);
		} else {
			ZP_NC_ADD(worker_ranges, 1);
			ZP_NC_ADD(worker_sites, n);
		}
		return;
	}
	const struct zp_nc_file *file = 0;
	if (nr == __NR_mmap && fd >= 0)
		file = zp_nc_file_find(fd, offset, len);
	if (!file || !zp_nc_lock(!b->in_handler)) {
		/* Left unrewritten: the SUD net (where available) serves its calls. */
		ZP_NC_ADD(unrewritten, 1);
		zp_newcode_log(start, start + len, ZP_NC_HOW_UNREWRITTEN, 0, 0, 0);
		zp_sud_code_unvouched(b);
		return;
	}
	uint64_t t0 = zp_nc_now_ns();
	int64_t n = zp_nc_apply_file(file, start);
	uint64_t dt = zp_nc_now_ns() - t0;
	zp_nc_unlock();
	ZP_NC_ADD(c_ns, dt);
	if (n < 0) {
		ZP_NC_ADD(failed, 1);
		return;
	}
	ZP_NC_ADD(c_ranges, 1);
	ZP_NC_ADD(c_sites, n);
	zp_newcode_log(start, start + len, ZP_NC_HOW_C_CACHED, n, dt, 0);
}

/* For zp_sud.c: rescans [start, start+len) on the Go path, under the lock; sites written,
   or -1 where Go may not run or the scan failed. */
int64_t zp_newcode_rescan(struct zp_block *b, uint64_t start, uint64_t len)
{
	int64_t (*go)(uint64_t, uint64_t, uint64_t) = zp_newcode_go_fn;
	if (!go || !zp_go_may_run(b))
		return -1;
	zp_nc_lock(1);
	int64_t n = zp_go_call3(b, go, start, len, __NR_mprotect);
	zp_nc_unlock();
	return n;
}

/* ---- statistics ---- */

static char *zp_nc_put(char *p, char *end, const char *s)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

static char *zp_nc_put_u(char *p, char *end, uint64_t v, int hex)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % (hex ? 16 : 10)];
		v /= hex ? 16 : 10;
	} while (v);
	if (hex)
		p = zp_nc_put(p, end, "0x");
	while (n && p < end)
		*p++ = tmp[--n];
	return p;
}

/* Appends the new-code statistics (ZPOLINE_STATS) to p; returns the new end. */
char *zp_newcode_stats(char *p, char *end)
{
	const struct zp_nc_stats *s = &zp_nc_stats;
	p = zp_nc_put(p, end, "new code: ");
	p = zp_nc_put_u(p, end, s->events, 0);
	p = zp_nc_put(p, end, " made executable (");
	p = zp_nc_put_u(p, end, s->write_exec, 0);
	p = zp_nc_put(p, end, " writable+exec); go: ");
	p = zp_nc_put_u(p, end, s->go_ranges, 0);
	p = zp_nc_put(p, end, " ranges, ");
	p = zp_nc_put_u(p, end, s->go_sites, 0);
	p = zp_nc_put(p, end, " sites, ");
	p = zp_nc_put_u(p, end, s->go_ns / 1000, 0);
	p = zp_nc_put(p, end, " us; worker: ");
	p = zp_nc_put_u(p, end, s->worker_ranges, 0);
	p = zp_nc_put(p, end, " ranges, ");
	p = zp_nc_put_u(p, end, s->worker_sites, 0);
	p = zp_nc_put(p, end, " sites, ");
	p = zp_nc_put_u(p, end, s->worker_ns / 1000, 0);
	p = zp_nc_put(p, end, " us; c (known files): ");
	p = zp_nc_put_u(p, end, s->c_ranges, 0);
	p = zp_nc_put(p, end, " ranges, ");
	p = zp_nc_put_u(p, end, s->c_sites, 0);
	p = zp_nc_put(p, end, " sites, ");
	p = zp_nc_put_u(p, end, s->c_ns / 1000, 0);
	p = zp_nc_put(p, end, " us; unrewritten (no Go here, code not known): ");
	p = zp_nc_put_u(p, end, s->unrewritten, 0);
	p = zp_nc_put(p, end, "; hook namespace (excluded): ");
	p = zp_nc_put_u(p, end, s->excluded, 0);
	p = zp_nc_put(p, end, "; failed: ");
	p = zp_nc_put_u(p, end, s->failed, 0);
	p = zp_nc_put(p, end, "; moved by mremap: ");
	p = zp_nc_put_u(p, end, s->moved_sites, 0);
	p = zp_nc_put(p, end, " sites\n");
	uint32_t n = zp_nc_events_n;
	for (uint32_t i = 0; i < n && i < ZP_NC_EVENTS_MAX; i++) {
		const struct zp_nc_event *e = &zp_nc_events[i];
		static const char *const how[] = {"?", "go", "c-known-file", "unrewritten", "skipped"};
		p = zp_nc_put(p, end, "new code ");
		p = zp_nc_put_u(p, end, e->start, 1);
		p = zp_nc_put(p, end, "-");
		p = zp_nc_put_u(p, end, e->end, 1);
		p = zp_nc_put(p, end, " ");
		p = zp_nc_put(p, end, e->path && *e->path ? e->path : "[anon]");
		p = zp_nc_put(p, end, ": ");
		p = zp_nc_put(p, end, how[e->how <= ZP_NC_HOW_SKIPPED ? e->how : 0]);
		p = zp_nc_put(p, end, ", ");
		p = zp_nc_put_u(p, end, e->sites, 0);
		p = zp_nc_put(p, end, " sites, ");
		p = zp_nc_put_u(p, end, e->ns / 1000, 0);
		p = zp_nc_put(p, end, " us\n");
	}
	if (n > ZP_NC_EVENTS_MAX)
		p = zp_nc_put(p, end, "new code: more events not listed\n");
	return zp_sud_stats(p, end);
}
