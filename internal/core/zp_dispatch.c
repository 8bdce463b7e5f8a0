/*
 * zp_dispatch.c — what happens to one system call after the entry stub saved the
 * application's registers: pick the hook, save vector state around it, run the clone
 * family safely, keep per-thread blocks.
 *
 * Why C, not Go: this runs for every system call of every thread, including fork and
 * vfork children (where the Go runtime cannot run), signal handlers that interrupt Go,
 * and threads the Go runtime never saw.
 *
 * Context: on the thread's hook stack (zp_dispatch) or 128 bytes below the current
 * stack pointer (zp_dispatch_busy). May call: raw system calls (zp_syscall.h), the
 * installed hook, and at a thread's exit the destructors of the hook's thread data
 * (zp_keys.c). No libc, no allocation other than raw mmap for blocks, no locks.
 * Compiled without SSE/AVX (general-regs-only): only a hook that may clobber vector
 * registers pays for saving them.
 */
#pragma GCC target("general-regs-only")

#include <stddef.h>
#include <stdint.h>
#include <asm/unistd.h>
#include <linux/sched.h>
#include <linux/errno.h>
#include <linux/mman.h>
#include <linux/signal.h>

#include "zp_core.h"
#include "zp_exec.h"
#include "zp_syscall.h"

_Static_assert(offsetof(struct zp_frame, rax) == ZP_F_RAX, "rax");
_Static_assert(offsetof(struct zp_frame, r9) == ZP_F_R9, "r9");
_Static_assert(offsetof(struct zp_frame, ret) == ZP_F_RET, "ret");
_Static_assert(offsetof(struct zp_frame, rsp) == ZP_F_RSP, "rsp");
_Static_assert(offsetof(struct zp_frame, flags) == ZP_F_FLAGS, "flags");
_Static_assert(offsetof(struct zp_frame, rbx) == ZP_F_RBX, "rbx");
_Static_assert(offsetof(struct zp_frame, r15) == ZP_F_R15, "r15");
_Static_assert(offsetof(struct zp_frame, rflags) == ZP_F_RFLAGS, "rflags");
_Static_assert(offsetof(struct zp_frame, via) == ZP_F_VIA, "via");
_Static_assert(offsetof(struct zp_frame, action) == ZP_F_ACTION, "action");
_Static_assert(offsetof(struct zp_frame, hook_fn) == ZP_F_HOOK_FN, "hook fn");
_Static_assert(offsetof(struct zp_frame, hook_regs) == ZP_F_HOOK_REGS, "hook regs");
_Static_assert(sizeof(((struct zp_frame *)0)->hook_regs) == sizeof(struct zpoline_regs), "hook regs size");
_Static_assert(sizeof(struct zp_frame) == ZP_FRAME_SIZE, "frame size");
_Static_assert(sizeof(struct zp_frame) % 16 == 0, "frame alignment");
_Static_assert(offsetof(struct zp_block, idle) == ZP_BLK_IDLE - ZP_BLK_BASE, "idle");
_Static_assert(offsetof(struct zp_block, frame) == ZP_BLK_FRAME - ZP_BLK_BASE, "frame");
_Static_assert(offsetof(struct zp_block, self) == ZP_BLK_SELF - ZP_BLK_BASE, "self");
_Static_assert(offsetof(struct zp_block, claim_rsp) == ZP_BLK_CLAIM_RSP - ZP_BLK_BASE, "claim");
_Static_assert(offsetof(struct zp_block, claim_fs) == ZP_BLK_CLAIM_FS - ZP_BLK_BASE, "claim fs");
_Static_assert(offsetof(struct zp_block, birth) == ZP_BLKOFF_BIRTH, "birth");
_Static_assert(offsetof(struct zp_block, birth_new_stack) == ZP_BLKOFF_NEW_STACK, "new stack");
_Static_assert(offsetof(struct zp_block, child_rsp) == ZP_BLKOFF_CHILD_RSP, "child rsp");
_Static_assert(offsetof(struct zpoline_regs, r9) == ZP_F_R9, "zpoline_regs prefix");
_Static_assert(offsetof(struct zpoline_regs, flags) == ZP_F_FLAGS, "zpoline_regs flags");

/* Set once at start-up, before any site is rewritten. */
char zp_have_fsgsbase;
uint64_t zp_xsave_mask;   /* xsave components of the register files saved around hooks */
uint64_t zp_xsave_size;   /* bytes of one vector save area in a block (zp_vec_init) */

/* Process-wide state that differs in a fork child. */
volatile int zp_in_fork_child;

/* All blocks ever made, for statistics: a lock-free push-only list. */
static struct zp_block *volatile zp_blocks_head;
struct zp_block_link {
	struct zp_block *next;
};

/* The current hook; replaced atomically as a whole. */
static struct zp_hook zp_hook_pass = {.kind = ZP_HOOK_PASS, .flags = ZPOLINE_HOOK_VECTOR_FREE};
static struct zp_hook *volatile zp_hook_cur = &zp_hook_pass;

/* Counters that have no block to live in. */
static volatile uint64_t zp_bypass_noblock;

/* The original zpoline ABI's hook variable: the library swaps in its hook. */
zpoline_orig_hook_fn zp_orig_hook_slot = zp_orig_next;

/* Set once the low region is mapped: before that, %gs:field would fault. */
volatile int zp_low_mapped;

static inline int64_t zp_raw(const struct zpoline_regs *r)
{
	return zp_sys6(r->rax, r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9);
}

/* ---- per-thread blocks ---- */

static inline struct zp_block_link *zp_link(struct zp_block *b)
{
	return (struct zp_block_link *)((char *)b + b->xsave_off + 2 * zp_xsave_size);
}

/* Takes a block that nobody uses any more, or returns 0. */
static struct zp_block *zp_block_reuse(void)
{
	long pid = 0;
	for (struct zp_block *b = zp_blocks_head; b; b = zp_link(b)->next) {
		uint64_t st = b->state;
		if (st == ZP_BLOCK_EXITING) {
			if (!pid)
				pid = zp_sys0(__NR_getpid);
			if (zp_sys3(__NR_tgkill, pid, b->tid, 0) != -ESRCH)
				continue;
		} else if (st != ZP_BLOCK_FREE) {
			continue;
		}
		if (__sync_bool_compare_and_swap(&b->state, st, ZP_BLOCK_USED)) {
			b->idle = 1;
			b->vfork_child = 0;
			b->fork_child = 0;
			b->no_go = 0;
			b->nested = 0;
			b->in_go = 0;
			b->in_handler = 0;
			b->sud_on = b->sud_sel = b->sud_app_sys = b->sud_pending = 0; /* a new thread is not armed */
			b->sud_gen = 0;
			for (unsigned i = 0; i < sizeof b->hook_keys / sizeof b->hook_keys[0]; i++)
				b->hook_keys[i] = 0; /* a value belongs to the thread that ended */
			return b;
		}
	}
	return 0;
}

/* A block with a fresh hook stack: reused, else newly mapped. 0 when out of memory. */
struct zp_block *zp_block_new(void)
{
	struct zp_block *b = zp_block_reuse();
	if (b)
		return b;
	uint64_t hdr = sizeof(struct zp_block);
	uint64_t xoff = (hdr + 63) & ~63ull;
	uint64_t tail = xoff + 2 * zp_xsave_size + sizeof(struct zp_block_link);
	uint64_t len = 4096 + ZP_HOOK_STACK_SIZE + ((tail + 4095) & ~4095ull);
	long m = zp_sys6(__NR_mmap, 0, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m < 0 && m > -4096)
		return 0;
	zp_sys3(__NR_mprotect, m, 4096, PROT_NONE); /* guard page below the hook stack */
	b = (struct zp_block *)(m + 4096 + ZP_HOOK_STACK_SIZE);
	b->self = b;
	b->map_base = (uint64_t)m;
	b->map_len = len;
	b->xsave_off = xoff;
	b->frame = (struct zp_frame *)(((uint64_t)b - ZP_FRAME_SIZE) & ~15ull);
	b->idle = 1;
	b->state = ZP_BLOCK_USED;
	struct zp_block *head;
	do {
		head = zp_blocks_head;
		zp_link(b)->next = head;
	} while (!__sync_bool_compare_and_swap(&zp_blocks_head, head, b));
	return b;
}

/* Gives back a block that did not become a thread's (vfork child gone, clone failed). */
static void zp_block_free(struct zp_block *b)
{
	__atomic_store_n(&b->state, ZP_BLOCK_FREE, __ATOMIC_RELEASE);
}

/* Makes b the block of the calling thread. */
void zp_block_install(struct zp_block *b)
{
	b->owner = zp_sys0(__NR_gettid);
	b->owner_fs = zp_thread_pointer();
	uint64_t base = (uint64_t)b - ZP_BLK_BASE;
	if (zp_have_fsgsbase)
		__asm__ volatile("wrgsbase %0" ::"r"(base) : "memory");
	else
		zp_sys2(__NR_arch_prctl, 0x1001 /* ARCH_SET_GS */, base);
}

/* ---- vector state ---- */

/* zp_vector_amd64.S: one pair per register file; rdi = the area. */
void zp_vec_save_avx512(void *area), zp_vec_restore_avx512(void *area);
void zp_vec_save_avx(void *area), zp_vec_restore_avx(void *area);
void zp_vec_save_sse(void *area), zp_vec_restore_sse(void *area);

/* The fallback for a CPU with AVX-512 but without 64-bit opmask moves (AVX512BW). */
static void zp_vec_save_xsave(void *area)
{
	uint32_t lo = (uint32_t)zp_xsave_mask, hi = (uint32_t)(zp_xsave_mask >> 32);
	__asm__ volatile("xsave64 (%0)" ::"r"(area), "a"(lo), "d"(hi) : "memory");
}

static void zp_vec_restore_xsave(void *area)
{
	uint32_t lo = (uint32_t)zp_xsave_mask, hi = (uint32_t)(zp_xsave_mask >> 32);
	__asm__ volatile("xrstor64 (%0)" ::"r"(area), "a"(lo), "d"(hi) : "memory");
}

static void (*zp_vec_save_fn)(void *area) = zp_vec_save_sse;
static void (*zp_vec_restore_fn)(void *area) = zp_vec_restore_sse;

static inline void *zp_vec_area(struct zp_block *b, int level)
{
	return (char *)b + b->xsave_off + level * zp_xsave_size;
}

static inline void zp_vec_save(struct zp_block *b, int level)
{
	zp_vec_save_fn(zp_vec_area(b, level));
}

static inline void zp_vec_restore(struct zp_block *b, int level)
{
	zp_vec_restore_fn(zp_vec_area(b, level));
}

void zp_vec_init(void)
{
	uint32_t a, b, c, d;
	/* x86-64 always has SSE: the default pair, in an area of 128 + 16 * 64 bytes. */
	zp_xsave_mask = 0x2;
	zp_xsave_size = 128 + 16 * 64;
	__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(c & (1u << 27))) /* OSXSAVE: the kernel enabled xsave */
		return;
	uint32_t x0lo, x0hi;
	__asm__("xgetbv" : "=a"(x0lo), "=d"(x0hi) : "c"(0));
	uint64_t xcr0 = ((uint64_t)x0hi << 32) | x0lo;
	/* x87, SSE, AVX, AVX-512 opmask/ZMM_Hi256/Hi16_ZMM; never AMX tile data. */
	zp_xsave_mask = xcr0 & 0xe7;
	if ((xcr0 & 0xe0) == 0xe0) {
		__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
		if (b & (1u << 30)) { /* AVX512BW: kmovq */
			zp_vec_save_fn = zp_vec_save_avx512;
			zp_vec_restore_fn = zp_vec_restore_avx512;
			zp_xsave_size = 128 + 32 * 64;
		} else {
			zp_vec_save_fn = zp_vec_save_xsave;
			zp_vec_restore_fn = zp_vec_restore_xsave;
			__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xd), "c"(0));
			zp_xsave_size = (b + 63) & ~63u; /* standard format size for XCR0 */
		}
	} else if (xcr0 & 0x4) {
		zp_vec_save_fn = zp_vec_save_avx;
		zp_vec_restore_fn = zp_vec_restore_avx;
	}
}

/* ---- the site set: return addresses of rewritten callq sites ---- */

static uint64_t *volatile zp_sites; /* t[-1] is the table's mask */

static inline uint64_t zp_site_hash(uint64_t a)
{
	return (a * 0x9E3779B97F4A7C15ull) >> 20;
}

int zp_site_known(uint64_t addr)
{
	uint64_t *t = __atomic_load_n(&zp_sites, __ATOMIC_ACQUIRE);
	if (!t)
		return 0;
	uint64_t mask = t[-1]; /* each table carries its own mask: tables are replaced */
	for (uint64_t i = zp_site_hash(addr) & mask;; i = (i + 1) & mask) {
		uint64_t v = t[i];
		if (v == addr)
			return 1;
		if (v == 0)
			return 0;
	}
}

/* Replaces the site set (start-up only; readers see the old or the new table). */
int zp_sites_set(const uint64_t *addrs, uint64_t n)
{
	uint64_t cap = 1024;
	while (cap < 2 * n + 2)
		cap <<= 1;
	long m = zp_sys6(__NR_mmap, 0, cap * 8 + 8, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m < 0 && m > -4096)
		return (int)m;
	uint64_t *t = (uint64_t *)m + 1, mask = cap - 1;
	t[-1] = mask;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t i = zp_site_hash(addrs[k]) & mask;
		while (t[i] != 0 && t[i] != addrs[k])
			i = (i + 1) & mask;
		t[i] = addrs[k];
	}
	__atomic_store_n(&zp_sites, t, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Adds n sites (code mapped after start-up): a new table holding the old entries and the
 * new ones replaces the old, which stays mapped (a reader may still be in it). Callers
 * are serialised by zp_newcode.c's lock. 0 or -errno.
 */
int zp_sites_add(const uint64_t *addrs, uint64_t n)
{
	uint64_t *old = zp_sites, cap = old ? old[-1] + 1 : 0;
	long m = zp_sys6(__NR_mmap, 0, (cap + n) * 8, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m < 0 && m > -4096)
		return (int)m;
	uint64_t *all = (uint64_t *)m, k = 0;
	for (uint64_t i = 0; i < cap; i++)
		if (old[i])
			all[k++] = old[i];
	for (uint64_t i = 0; i < n; i++)
		all[k++] = addrs[i];
	int r = zp_sites_set(all, k);
	zp_sys2(__NR_munmap, m, (cap + n) * 8);
	return r;
}

/* ---- fatal conditions ---- */

static char *zp_fmt_hex(char *p, uint64_t v)
{
	*p++ = '0';
	*p++ = 'x';
	int shift = 60;
	while (shift > 0 && ((v >> shift) & 0xf) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = "0123456789abcdef"[(v >> shift) & 0xf];
	return p;
}

/* A call reached the trampoline from something that is not a rewritten site. */
static void __attribute__((noreturn)) zp_null_call(struct zp_frame *f)
{
	char buf[256], *p = buf;
	const char *a = "zpoline: call through a NULL function pointer (return address ";
	while (*a)
		*p++ = *a++;
	p = zp_fmt_hex(p, f->ret);
	a = ", stack ";
	while (*a)
		*p++ = *a++;
	p = zp_fmt_hex(p, f->rsp);
	a = ", rax ";
	while (*a)
		*p++ = *a++;
	p = zp_fmt_hex(p, (uint64_t)f->rax);
	a = "): not a rewritten system call; raising SIGSEGV\n";
	while (*a)
		*p++ = *a++;
	zp_sys3(__NR_write, 2, buf, p - buf);
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} dfl = {0};
	zp_sys4(__NR_rt_sigaction, SIGSEGV, &dfl, 0, 8);
	long pid = zp_sys0(__NR_getpid), tid = zp_sys0(__NR_gettid);
	zp_sys3(__NR_tgkill, pid, tid, SIGSEGV);
	zp_sys1(__NR_exit_group, 128 + SIGSEGV);
	__builtin_unreachable();
}

/* ---- the clone family ---- */

static int zp_is_clone(int nr)
{
	return nr == __NR_clone || nr == __NR_clone3 || nr == __NR_vfork || nr == __NR_fork;
}

/*
 * Whether h itself may perform a clone-family call: the built-in hook and original-ABI
 * hooks call back into the loader (clone-safe), others only if they say so. For the
 * rest the loader runs the call itself without showing it to the hook.
 */
static int zp_hook_runs_clone(const struct zp_hook *h)
{
	return h->kind == ZP_HOOK_PASS || h->kind == ZP_HOOK_ORIG || (h->flags & ZPOLINE_HOOK_CLONE_SAFE);
}

static void zp_after_fork_child(void)
{
	zp_in_fork_child = 1;
	zp_sud_fork_child();
	const struct zp_hook *h = zp_hook_cur;
	if (h->desc.on_fork_child)
		h->desc.on_fork_child();
}

void zp_child_start(struct zp_block *b)
{
	const struct zp_hook *h = zp_hook_cur;
	b->owner = zp_sys0(__NR_gettid);
	b->owner_fs = zp_thread_pointer();
	if (b->fork_child)
		zp_after_fork_child();
	else if (!b->vfork_child && h->desc.on_thread_start)
		h->desc.on_thread_start();
	zp_sud_child(b);
}

/* Copies n bytes between this process's memory and ours without faulting on a bad
   pointer (the kernel checks it): 0, or -1. */
static int zp_user_rw(void *ours, void *theirs, uint64_t n, int write)
{
	struct {
		void *base;
		uint64_t len;
	} local = {ours, n}, remote = {theirs, n};
	long nr = write ? __NR_process_vm_writev : __NR_process_vm_readv;
	return zp_sys6(nr, zp_sys0(__NR_getpid), (long)&local, 1, (long)&remote, 1, 0) == (long)n ? 0
												 : -1;
}

/*
 * Runs a clone-family call. app holds the application's registers at the call (what a
 * child must resume with); r holds the number and arguments to pass to the kernel.
 */
static int64_t zp_clone(const struct zp_frame *app, const struct zpoline_regs *r)
{
	uint64_t flags, stack;
	switch ((int)r->rax) {
	case __NR_clone:
		flags = r->rdi;
		stack = r->rsi;
		break;
	case __NR_clone3: {
		struct clone_args ca = {0};
		uint64_t size = (uint64_t)r->rsi < sizeof ca ? (uint64_t)r->rsi : sizeof ca;
		if (size < 64 || zp_user_rw(&ca, (void *)r->rdi, size, 0) != 0)
			return zp_raw(r); /* let the kernel report the bad argument */
		flags = ca.flags;
		stack = ca.stack;
		break;
	}
	case __NR_vfork:
		flags = CLONE_VM | CLONE_VFORK;
		stack = 0;
		break;
	default: /* fork */
		flags = 0;
		stack = 0;
	}
	if (!(flags & CLONE_VM) && stack == 0) {
		int64_t ret = zp_raw(r);
		if (ret == 0)
			zp_after_fork_child();
		return ret;
	}
	struct zp_block *child = zp_block_new();
	if (!child)
		return -EAGAIN;
	child->birth = *app;
	child->birth_new_stack = stack != 0;
	child->vfork_child = (flags & CLONE_VM) && ((flags & CLONE_VFORK) || stack == 0);
	child->fork_child = !(flags & CLONE_VM); /* a process of its own, on a new stack */
	child->idle = 0;
	struct zp_block *parent = zp_self();
	child->no_go = 0;
	if (parent && parent->making_go_thread)
		child->no_go = ZP_BYPASS_GO_RUNTIME;
	else if ((flags & CLONE_VM) && !(flags & CLONE_SETTLS))
		/* It shares its parent's %fs: the Go runtime would take it for the parent. */
		child->no_go = ZP_BYPASS_GO_SHARED_TLS;
	int64_t ret = zp_clone_raw(r, child);
	/* A thread keeps its block; a vfork child is gone (exec or exit) once we resume,
	   and a non-CLONE_VM child has its own copy. */
	if (ret < 0 || !(flags & CLONE_VM) || (flags & CLONE_VFORK))
		zp_block_free(child);
	return ret;
}

/* ---- the API given to hooks ---- */

/* zpoline_syscall (zp_entry_amd64.S) for the clone family: inside a hook, zp_clone. */
int64_t zp_syscall_clone(struct zpoline_regs *r)
{
	struct zp_block *b = zp_self();
	if (b && !b->idle && b->cur)
		return zp_clone(b->cur, r);
	return zp_raw(r);
}

/* zp_orig_next (zp_entry_amd64.S) for the clone family. */
long zp_orig_next_clone(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	struct zpoline_regs r = {.rax = nr, .rdi = a1, .rsi = a2, .rdx = a3, .r10 = a4,
				 .r8 = a5, .r9 = a6};
	return zp_syscall_clone(&r);
}

static void zp_api_hook_stack(uint64_t *lo, uint64_t *hi)
{
	struct zp_block *b = zp_self();
	*lo = *hi = 0;
	if (b && !b->idle) {
		*lo = b->map_base + 4096;
		*hi = (uint64_t)b;
	}
}

const struct zpoline_api zp_api = {
	.abi_version = ZPOLINE_ABI_VERSION,
	.size = sizeof(struct zpoline_api),
	.syscall = zpoline_syscall,
	.syscall6 = zp_orig_next,
	.hook_stack = zp_api_hook_stack,
	.key_create = zp_key_create,
	.setspecific = zp_setspecific,
	.getspecific = zp_getspecific,
};

/* The hook the loader installed at start-up: zpoline_set_hook(NULL) goes back to it. */
static struct zp_hook *volatile zp_hook_base = &zp_hook_pass;

/* Installs h as the current hook; h must stay valid for the life of the process. */
void zp_hook_install(struct zp_hook *h)
{
	__atomic_store_n(&zp_hook_cur, h, __ATOMIC_RELEASE);
}

/* Installs h and makes it the one zpoline_set_hook(NULL) returns to. */
void zp_hook_install_base(struct zp_hook *h)
{
	zp_hook_base = h;
	zp_hook_install(h);
}

const struct zp_hook *zp_hook_current(void)
{
	return zp_hook_cur;
}

/* Adds flags to the start-up hook (a proof that it is vector-free), before the program
   runs: the hook path reads them at every call. */
void zp_hook_base_add_flags(uint32_t flags)
{
	__atomic_fetch_or(&zp_hook_base->flags, flags, __ATOMIC_RELEASE);
}

static struct zp_hook zp_app_hooks[16];
static int zp_app_hooks_used;

zpoline_hook_fn zpoline_set_hook(zpoline_hook_fn fn)
{
	const struct zp_hook *old = zp_hook_cur;
	zpoline_hook_fn prev = old->kind == ZP_HOOK_REGS ? old->fn : 0;
	if (!fn) {
		zp_hook_install(zp_hook_base);
		return prev;
	}
	/* Hooks are never freed (another thread may still be inside one): a fixed pool,
	   reused for a function installed before. */
	for (int i = 0; i < zp_app_hooks_used && i < 16; i++) {
		if (zp_app_hooks[i].fn == fn) {
			zp_hook_install(&zp_app_hooks[i]);
			return prev;
		}
	}
	int i = __atomic_fetch_add(&zp_app_hooks_used, 1, __ATOMIC_RELAXED);
	if (i >= 16)
		return prev; /* out of slots: keep the current hook */
	zp_app_hooks[i] = *zp_hook_base; /* keeps the flush and exit notification */
	zp_app_hooks[i].kind = ZP_HOOK_REGS;
	zp_app_hooks[i].flags = 0;         /* unknown code: save vectors, no clone */
	zp_app_hooks[i].fn = fn;
	zp_hook_install(&zp_app_hooks[i]);
	return prev;
}

/* zpoline-rs's name for in-application registration. */
void __hook_init(zpoline_hook_fn fn)
{
	zpoline_set_hook(fn);
}

/* ---- dispatch ---- */

/* Set by the loader once start-up finished: Go hooks may run from then on. */
volatile int zp_go_ready;
volatile int zp_started; /* the process is rewritten and the hook installed */

/*
 * Where a Go hook must not run (DESIGN.md §2): the reason to count, or -1 when it may.
 * Nested calls never get here (zp_dispatch_busy serves them).
 */
static inline int zp_go_blocked(const struct zp_block *b)
{
	if (zp_in_fork_child)
		return ZP_BYPASS_GO_FORK;
	if (b->vfork_child)
		return ZP_BYPASS_GO_VFORK;
	if (b->no_go)
		return (int)b->no_go;
	if (!zp_go_ready)
		return ZP_BYPASS_GO_EARLY;
	if (b->in_handler)
		return ZP_BYPASS_GO_HANDLER;
	return -1;
}

/* Calls the hook for f; level 0 on the hook stack, 1 for a nested call. */
/* Whether the Go hook h takes call number nr; the C hook behind it takes the others. */
static inline int zp_go_wants(const struct zp_hook *h, int64_t rax)
{
	uint64_t nr = (uint64_t)(int)rax;
	/* A thread must not end inside a Go callback (the runtime would wait for it
	   forever): exit is performed by the C hook behind. */
	return nr < 512 && nr != __NR_exit && (h->go_want[nr / 64] & (1ull << (nr % 64)));
}

/* zpoline_regs.flags for the hook: calls of the loader's own Go runtime threads (libc
   on behalf of runtime/cgo) are marked, so a tracer can leave them out. */
static inline uint64_t zp_regs_flags(const struct zp_block *b, const struct zp_frame *f)
{
	return f->flags | (b && b->no_go == ZP_BYPASS_GO_RUNTIME ? ZPOLINE_REGS_RUNTIME : 0);
}

static int64_t zp_call_hook(const struct zp_hook *h, struct zp_block *b, struct zp_frame *f,
			    int level)
{
	struct zpoline_regs r = {f->rax, f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9,
				 f->ret, f->rsp, zp_regs_flags(b, f)};
	int64_t ret;
	if (h->kind == ZP_HOOK_GO) {
		int why = level ? ZP_BYPASS_NESTED : zp_go_blocked(b);
		if (!zp_go_wants(h, r.rax))
			return zp_call_hook(h->next, b, f, level);
		if (why >= 0) {
			b->bypass[why]++;
			return zp_call_hook(h->next, b, f, level);
		}
		zp_vec_save(b, level);
		b->in_go = 1;
		ret = h->go_fn(&r);
		b->in_go = 0;
		zp_vec_restore(b, level);
		return ret;
	}
	if (h->kind == ZP_HOOK_PASS)
		return zpoline_syscall(&r);
	if (h->flags & ZPOLINE_HOOK_RUNTIME) {
		/* A language runtime in the hook library: the same places as a Go hook. */
		int why = level ? ZP_BYPASS_NESTED : zp_go_blocked(b);
		if (why >= 0 && why != ZP_BYPASS_GO_EARLY) {
			b->bypass[why]++;
			return zpoline_syscall(&r);
		}
		if ((int)r.rax == __NR_exit) /* never end a thread inside the runtime */
			return zpoline_syscall(&r);
	}
	int vec = !(h->flags & ZPOLINE_HOOK_VECTOR_FREE) && zp_xsave_mask;
	if (vec)
		zp_vec_save(b, level);
	if (h->kind == ZP_HOOK_ORIG)
		ret = zp_orig_hook_slot(r.rax, r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9);
	else
		ret = h->fn(&r);
	if (vec)
		zp_vec_restore(b, level);
	return ret;
}

static int64_t zp_call_hook(const struct zp_hook *h, struct zp_block *b, struct zp_frame *f,
			    int level);

/* For zp_exec.c and zp_sud.c: the hook h called as zp_dispatch calls it. */
int64_t zp_call_hook_outer(const struct zp_hook *h, struct zp_block *b, struct zp_frame *f)
{
	return zp_call_hook(h, b, f, 0);
}

/* For zp_keys.c: may a hook's language runtime run on this thread now? The places a
   ZPOLINE_HOOK_RUNTIME hook is kept out of (zp_call_hook). */
int zp_runtime_may_run(const struct zp_block *b)
{
	int why = zp_go_blocked(b);
	return why < 0 || why == ZP_BYPASS_GO_EARLY;
}

/* For zp_newcode.c: may Go run on this thread now (zp_go_blocked)? */
int zp_go_may_run(const struct zp_block *b)
{
	return zp_go_blocked(b) < 0;
}

/* For zp_newcode.c: calls a Go function the way Go hooks are called. */
int64_t zp_go_call3(struct zp_block *b, int64_t (*fn)(uint64_t, uint64_t, uint64_t), uint64_t a0,
		    uint64_t a1, uint64_t a2)
{
	zp_vec_save(b, 0);
	b->in_go = 1;
	int64_t ret = fn(a0, a1, a2);
	b->in_go = 0;
	zp_vec_restore(b, 0);
	return ret;
}

/*
 * With a Go hook, the program's signal handlers are wrapped. Go must not run inside a
 * signal handler (cgo does not support calls into Go from one): zp_sig_wrap counts the
 * handlers running on the thread, and Go hooks are bypassed while any runs. Every
 * handler also runs on an alternate signal stack (SA_ONSTACK), as Go requires of code
 * sharing its process: a handler that interrupts a Go hook would otherwise run on a
 * goroutine stack, which is small and overflows into the Go heap. The program's
 * sigaction reaches the kernel changed in a copy (its memory is not changed), and the
 * old action it reads back is the one it installed. While the SUD net may be armed
 * (zp_sud.c) every hook gets this wrapper: a handler often runs when a system call made
 * by the hook path returns (selector ALLOW), and must run with the program's selector.
 */
struct zp_ksig {
	uint64_t handler, flags, restorer, mask;
};
static struct zp_ksig zp_app_sig[65]; /* what the program installed, per signal */

static void zp_sig_wrap(int sig, void *info, void *uc)
{
	struct zp_block *b = zp_self();
	uint8_t sud_sel = b ? b->sud_sel : 0;
	if (b) {
		b->in_handler++;
		b->sud_sel = b->sud_on; /* SUD: the handler is the program's code (zp_sud.c) */
	}
	struct zp_ksig a = zp_app_sig[sig > 0 && sig <= 64 ? sig : 0];
	if (a.flags & 4 /* SA_SIGINFO */)
		((void (*)(int, void *, void *))a.handler)(sig, info, uc);
	else
		((void (*)(int))a.handler)(sig);
	if (b) {
		b->in_handler--;
		b->sud_sel = sud_sel;
	}
}

static int64_t zp_sigaction_go(const struct zp_hook *h, struct zp_block *b, struct zp_frame *f)
{
	int sig = (int)f->rdi;
	if (sig <= 0 || sig > 64 || f->r10 != 8)
		return zp_call_hook(h, b, f, 0); /* let the kernel refuse it */
	struct zp_ksig act, prev = zp_app_sig[sig];
	int64_t saved = f->rsi, ret;
	if (f->rsi) {
		if (zp_user_rw(&act, (void *)f->rsi, sizeof act, 0) != 0)
			return zp_call_hook(h, b, f, 0); /* a bad pointer: the kernel says EFAULT */
		/* Recorded before the kernel has it: the signal may arrive at once. */
		zp_app_sig[sig] = act;
		if (act.handler > 1 /* neither SIG_DFL nor SIG_IGN */) {
			act.handler = (uint64_t)zp_sig_wrap;
			act.flags |= 0x08000000 /* SA_ONSTACK */ | 4 /* SA_SIGINFO */;
		}
		if (zp_sud_live) /* a trap while SIGSYS is blocked kills (zp_sud.c) */
			act.mask &= ~(1ull << (SIGSYS - 1));
		f->rsi = (int64_t)&act;
		ret = zp_call_hook(h, b, f, 0);
		f->rsi = saved;
		if (ret != 0)
			zp_app_sig[sig] = prev;
	} else {
		ret = zp_call_hook(h, b, f, 0);
	}
	/* The old action the program reads back is the one it installed. */
	struct zp_ksig old;
	if (ret == 0 && f->rdx && zp_user_rw(&old, (void *)f->rdx, sizeof old, 0) == 0 &&
	    old.handler == (uint64_t)zp_sig_wrap)
		zp_user_rw(&prev, (void *)f->rdx, sizeof prev, 1);
	return ret;
}

/*
 * A thread whose clone the loader did not see (made before the clone sites were
 * rewritten, or by code that is not rewritten) starts with its creator's %gs base, so it
 * finds its creator's block. It must not use it: it gets a block of its own and enters
 * again. The creator's block is left as it is (its owner takes a new one if it finds it
 * claimed by someone else, see zp_dispatch_busy).
 */
static int zp_leave_foreign_block(struct zp_frame *f)
{
	struct zp_block *nb = zp_block_new();
	if (!nb)
		return 0;
	zp_block_install(nb);
	f->action = ZP_ACT_RETRY;
	return 1;
}

/*
 * The last step of zp_dispatch. What remains for the built-in pass-through hook (the
 * system call) and for a vector-free C hook (the call of its function) is left to the
 * entry code, so that no `ret` of ours runs between the kernel's return and the
 * application's next instruction: the first `ret` after a system call is mispredicted
 * (the return-stack predictor does not survive the kernel; measured ~25 ns on this
 * machine class), which cost more than the rest of the hook path put together.
 */
static int64_t zp_call_hook_last(const struct zp_hook *h, struct zp_block *b, struct zp_frame *f)
{
	if (h->kind == ZP_HOOK_GO && !zp_go_wants(h, f->rax))
		h = h->next;
	if (h->kind == ZP_HOOK_PASS && !zp_is_clone((int)f->rax)) { /* zp_clone's, not ours */
		f->action = ZP_ACT_SYSCALL;
		return 0;
	}
	if (h->kind == ZP_HOOK_REGS && (h->flags & ZPOLINE_HOOK_VECTOR_FREE) &&
	    !(h->flags & ZPOLINE_HOOK_RUNTIME)) {
		struct zpoline_regs *r = (struct zpoline_regs *)f->hook_regs;
		*r = *(const struct zpoline_regs *)f;
		r->flags = zp_regs_flags(b, f);
		f->hook_fn = (int64_t(*)(void *))h->fn;
		f->action = ZP_ACT_HOOK;
		return 0;
	}
	return zp_call_hook(h, b, f, 0);
}

int64_t zp_dispatch(struct zp_frame *f)
{
	struct zp_block *b = zp_self();
	if (__builtin_expect(b->owner_fs != zp_thread_pointer(), 0) && zp_leave_foreign_block(f))
		return 0;
	if (f->via == ZP_VIA_CALL && !zp_site_known(f->ret - 2))
		zp_null_call(f);
	/* The kernel reads the number as an int: so do we, for the calls we treat apart. */
	int nr = (int)f->rax;
	b->cur = f;
	b->sud_sel = 0; /* SUD: ALLOW while the loader and the hook run (zp_sud.c) */
	int64_t sud_ret;
	if (__builtin_expect(zp_sud_live, 0) && zp_sud_call(b, f, &sud_ret))
		return sud_ret;
	if (nr == __NR_rt_sigreturn) {
		b->bypass[ZP_BYPASS_SIGRETURN]++;
		zp_sigreturn_exit(f, 1);
	}
	const struct zp_hook *h = zp_hook_cur;
	if (zp_is_clone(nr) && !zp_hook_runs_clone(h)) {
		b->bypass[ZP_BYPASS_CLONE]++;
		return zp_clone(f, (const struct zpoline_regs *)f);
	}
	/* Not in a vfork child: it has a signal table of its own but shares our memory,
	   where the record of the parent's handlers is. */
	if ((h->kind == ZP_HOOK_GO || (h->flags & ZPOLINE_HOOK_RUNTIME) || zp_sud_live) &&
	    nr == __NR_rt_sigaction && !b->vfork_child)
		return zp_sigaction_go(h, b, f);
	if (nr == __NR_exit_group)
		zp_before_exit(h, f->rdi);
	else if (nr == __NR_exit) {
		zp_keys_thread_exit(b); /* the hook's thread-specific data, while it still can */
		/* The block is free once the kernel says the thread is gone. */
		b->tid = zp_sys0(__NR_gettid);
		__atomic_store_n(&b->state, ZP_BLOCK_EXITING, __ATOMIC_RELEASE);
	}
	b->calls++;
	if (__builtin_expect(nr == __NR_execve || nr == __NR_execveat, 0))
		return zp_exec(h, b, f); /* unhooked programs named, the environment completed */
	if (__builtin_expect(ZP_NEWCODE_NR(nr), 0)) {
		/* Performed here, not by the entry's fast actions: the result is needed. */
		int64_t ret = zp_call_hook(h, b, f, 0);
		zp_newcode_after(b, f, ret); /* new executable code is rewritten before it runs */
		return ret;
	}
	return zp_call_hook_last(h, b, f);
}

/* Is the thread running a signal handler on its alternate signal stack? */
static int zp_on_altstack(void)
{
	struct {
		void *sp;
		int flags;
		uint64_t size;
	} ss;
	return zp_sys2(__NR_sigaltstack, 0, &ss) == 0 && (ss.flags & 1 /* SS_ONSTACK */);
}

/*
 * Is a call that found the block busy really nested in the call that made it busy?
 * While that call runs, this thread executes on its hook stack, so a signal handler
 * runs on the hook stack or on the alternate signal stack. A call from anywhere else
 * means the busy call was left without returning (a handler longjmp'ed out of it).
 */
static int zp_really_nested(const struct zp_block *b, const struct zp_frame *f)
{
	uint64_t lo = b->map_base + 4096;
	if (f->rsp >= lo && f->rsp <= (uint64_t)b)
		return 1;
	/* A Go hook runs on a goroutine stack, where a handler may run too. */
	if (b->in_go)
		return 1;
	/* Interrupted between claiming the block and leaving the application's stack, or
	   after coming back to it: the handler runs below where that call was made. */
	if (f->rsp < b->claim_rsp)
		return 1;
	return zp_on_altstack();
}

int64_t zp_dispatch_busy(struct zp_frame *f)
{
	struct zp_block *b = zp_self();
	if (!b) {
		b = zp_block_new();
		if (b) {
			zp_block_install(b);
			f->action = ZP_ACT_RETRY;
			return 0;
		}
		__atomic_fetch_add(&zp_bypass_noblock, 1, __ATOMIC_RELAXED);
	} else if (b->owner_fs != zp_thread_pointer()) {
		if (zp_leave_foreign_block(f))
			return 0;
	} else if (!zp_really_nested(b, f)) {
		/* Our block, busy, but not with a call of ours in progress. */
		if (b->claim_fs != zp_thread_pointer()) {
			/* Another thread claimed it (see zp_leave_foreign_block): leave it to it. */
			if (zp_leave_foreign_block(f))
				return 0;
		} else {
			/* We left a call of ours for good (a handler longjmp'ed out of it). */
			b->stale++;
			b->nested = 0;
			b->idle = 1;
			f->action = ZP_ACT_RETRY;
			return 0;
		}
	}
	if (f->via == ZP_VIA_CALL && !zp_site_known(f->ret - 2))
		zp_null_call(f);
	int nr = (int)f->rax;
	if (nr == __NR_rt_sigreturn)
		zp_sigreturn_exit(f, 0);
	/*
	 * A handler interrupted a hook on this thread. A C hook is called again here, on
	 * the handler's stack, as original zpoline does (hooks must be async-signal-safe);
	 * one level deep, with the second xsave area. Deeper calls run directly.
	 */
	const struct zp_hook *h = zp_hook_cur;
	if (b && !b->nested && h->kind != ZP_HOOK_PASS && !(zp_is_clone(nr) && !zp_hook_runs_clone(h))) {
		b->nested = 1;
		struct zp_frame *outer = b->cur;
		b->cur = f;
		b->calls++;
		/* SUD: the hook's code is outside the loader's text: ALLOW while it runs. The
		   handler may have interrupted the entry after it selected BLOCK on its way out
		   (or before zp_dispatch selected ALLOW): the interrupted code gets its own back. */
		uint8_t sel = b->sud_sel;
		b->sud_sel = 0;
		int64_t ret = zp_call_hook(h, b, f, 1);
		b->sud_sel = sel;
		b->cur = outer;
		b->nested = 0;
		return ret;
	}
	if (b)
		b->bypass[ZP_BYPASS_NESTED]++;
	if (zp_is_clone(nr))
		return zp_clone(f, (const struct zpoline_regs *)f);
	return zp_raw((const struct zpoline_regs *)f);
}

/* ---- statistics ---- */

void zp_bypass_totals(uint64_t out[ZP_BYPASS_MAX + 2])
{
	for (int i = 0; i < ZP_BYPASS_MAX + 2; i++)
		out[i] = 0;
	for (struct zp_block *b = zp_blocks_head; b; b = zp_link(b)->next) {
		for (int i = 0; i < ZP_BYPASS_MAX; i++)
			out[i] += b->bypass[i];
		out[ZP_BYPASS_MAX] += b->calls;
	}
	out[ZP_BYPASS_NOBLOCK] += zp_bypass_noblock;
	out[ZP_BYPASS_MAX + 1] = zp_in_fork_child;
}
