/*
 * zp_sud.c — the Syscall User Dispatch (SUD) safety net: a system call made by code the
 * rewriter never saw (or could not vouch for) traps to the kernel's SIGSYS and is served
 * by the same hook as a rewritten one.
 *
 * Why C: everything here runs on the hook path (zp_dispatch, fork and vfork children,
 * new threads) or in a SIGSYS handler that may interrupt any code, including the Go
 * runtime; the constructor must run before the Go runtime installs its handlers.
 *
 * Context and what it may call:
 *  - zp_sud_init: constructor(102), after zp_start.c's constructor(101), before the Go
 *    runtime (default priority): libc allowed.
 *  - zp_sud_sigsys: the SIGSYS handler, any thread, any moment: raw system calls only,
 *    no locks, no allocation. It runs in the loader's text, which is the range the
 *    kernel always allows, so its own system calls never trap.
 *  - everything else: zp_dispatch's context (the thread's hook stack, block busy): raw
 *    system calls only, no locks (one CAS for the handler install), no allocation.
 *
 * The policy (ZPOLINE_SUD, read once at start-up):
 *   off     never armed; the hook path pays one load and a not-taken branch.
 *   auto    (default) armed once the process makes a writable-and-executable mapping
 *           (mmap/mprotect/pkey_mprotect with PROT_WRITE|PROT_EXEC that reaches the hook,
 *           outside the hook namespaces): code can then be written after the rewriter
 *           scanned it. Sticky: the loader does not follow when the last such mapping
 *           goes away. Until then it costs what "off" costs.
 *   always  armed as soon as start-up has finished.
 * An armed thread pays the kernel's slower system-call entry (~+24 ns per call, even for
 * allowed calls), which is why "auto" does not arm without a reason.
 *
 * Arming is per thread (the kernel keeps SUD per task; measured on 6.18: neither a fork
 * child nor a clone child inherits it, and execve clears it). A policy change bumps
 * zp_sud_gen; each thread compares it with its block's sud_gen at its next hooked call
 * and arms itself (no thread is ever signalled). Thread, fork and vfork children made
 * through the loader arm before their first application instruction (zp_sud_child,
 * zp_sud_fork_child). The loader's own Go runtime threads are never armed: all their code
 * is the loader's (always allowed) or libc reached through cgo (rewritten at start-up).
 *
 * The allowed range given to the kernel is the loader's executable segment. Hook
 * libraries live in their own dlmopen namespaces and make system calls from their own
 * text, hence the selector in the per-thread block: zp_dispatch sets ALLOW on entry and
 * the entry code copies sud_on (BLOCK when armed) back on its way to the application
 * (.Lleave, zp_sigreturn_exit, the clone child in zp_child_start).
 *
 * A trapped call: the kernel rolls the call back and sends SIGSYS (si_code
 * SYS_USER_DISPATCH) to the thread. zp_sud_sigsys only rewrites the interrupted context
 * to enter zp_entry_sud with rcx = the address after the instruction (as `syscall` would
 * leave it) and returns through rt_sigreturn in the loader's text. The call is then
 * served exactly like a rewritten one, in the application's own context (not inside a
 * signal handler: Go hooks may run, rt_sigreturn and clone work). zp_sud_call then tries
 * to rewrite the site: the bytes must be `0f 05` and the Go scanner, asked to rescan that
 * mapping (zp_newcode_rescan), must find it with its anonymous-code rule (a linear sweep
 * and resync windows agree) or the ELF rule. Otherwise the site is remembered as not
 * vouched for and traps at every call, each served once.
 *
 * What the application sees stays native:
 *  - rt_sigaction(SIGSYS) is answered by the loader: the program's handler is recorded
 *    (and read back), the kernel keeps ours, which forwards every SIGSYS that is not a
 *    SUD trap of an armed thread (kill, tgkill, seccomp) to the recorded handler, or
 *    emulates SIG_DFL/SIG_IGN. Ours carries the program's sa_mask minus SIGSYS, and
 *    SA_NODEFER so a trap inside the program's own SIGSYS handler can still arrive.
 *  - rt_sigprocmask on an armed thread never blocks SIGSYS for real (a blocked SIGSYS at
 *    a trap would make the kernel kill the process); the program's view is kept in the
 *    block and shown in the old set.
 * Limits (documented in USAGE.md): the temporary masks of a signal handler's sa_mask,
 * sigsuspend, ppoll, pselect6 and epoll_pwait may still block SIGSYS while they last; a
 * program that arms SUD itself replaces ours on that thread; a thread that never makes a
 * hooked call after the policy changed stays unarmed.
 */
#define _GNU_SOURCE
#pragma GCC target("general-regs-only")

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <asm/unistd.h>
#include <linux/errno.h>

#include "zp_core.h"
#include "zp_syscall.h"

_Static_assert(offsetof(struct zp_block, sud_sel) == ZP_BLKOFF_SUD_SEL, "sud selector");
_Static_assert(offsetof(struct zp_block, sud_on) == ZP_BLKOFF_SUD_SEL + 1, "sud on");

#define ZP_PR_SET_SYSCALL_USER_DISPATCH 59
#define ZP_PR_SYS_DISPATCH_OFF 0
#define ZP_PR_SYS_DISPATCH_ON 1
#define ZP_SYS_USER_DISPATCH 2 /* si_code of a SUD trap */
#define ZP_SIGSYS_BIT (1ull << (SIGSYS - 1))

/* zp_entry_amd64.S */
void zp_entry_sud(void);
void zp_sigreturn_trampoline(void);

struct zp_ksig {
	uint64_t handler, flags, restorer, mask;
};

volatile int zp_sud_live;       /* read on every hooked call: 0 unless the net may arm */
volatile uint64_t zp_sud_gen;   /* bumped when the policy changes */
static volatile int zp_sud_want;       /* the policy: threads should be armed */
static int zp_sud_mode = ZP_SUD_AUTO;
static int zp_sud_available;           /* the kernel accepted a test prctl */
static uint64_t zp_sud_lo, zp_sud_len; /* the loader's executable segment */
static volatile int zp_sud_handler_state; /* 0 none, 1 being installed, 2 installed */
static struct zp_ksig zp_sud_app;       /* the program's SIGSYS action, as it believes */
static struct zp_ksig zp_sud_initial;   /* SIGSYS as the process inherited it */

static struct {
	uint64_t threads, traps, rewritten, unvouched, forwarded, sigactions, masks, failed, disarmed;
} zp_sud_stat;
#define ZP_SUD_ADD(field) __atomic_fetch_add(&zp_sud_stat.field, 1, __ATOMIC_RELAXED)

/* Sites whose rescan did not vouch for them: open addressing, insert-only. */
#define ZP_SUD_UNVOUCHED 512
static uint64_t zp_sud_unvouched[ZP_SUD_UNVOUCHED];

static int zp_sud_unvouched_has(uint64_t a)
{
	for (unsigned i = 0, h = (unsigned)((a * 0x9E3779B97F4A7C15ull) >> 55); i < 16; i++) {
		uint64_t v = __atomic_load_n(&zp_sud_unvouched[(h + i) % ZP_SUD_UNVOUCHED], __ATOMIC_RELAXED);
		if (v == a)
			return 1;
		if (v == 0)
			return 0;
	}
	return 0;
}

static void zp_sud_unvouched_add(uint64_t a)
{
	for (unsigned i = 0, h = (unsigned)((a * 0x9E3779B97F4A7C15ull) >> 55); i < 16; i++) {
		uint64_t zero = 0, *slot = &zp_sud_unvouched[(h + i) % ZP_SUD_UNVOUCHED];
		if (__atomic_compare_exchange_n(slot, &zero, a, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED) ||
		    zero == a)
			return;
	}
	/* full around this hash: the site is rescanned at its next trap (slower, still once) */
}

/* Copies n bytes from or to the program's memory without faulting: 0 or -1. */
static int zp_sud_rw(void *ours, uint64_t theirs, uint64_t n, int write)
{
	struct {
		void *base;
		uint64_t len;
	} local = {ours, n}, remote = {(void *)theirs, n};
	long nr = write ? __NR_process_vm_writev : __NR_process_vm_readv;
	return zp_sys6(nr, zp_sys0(__NR_getpid), (long)&local, 1, (long)&remote, 1, 0) == (long)n ? 0 : -1;
}

/* ---- start-up ---- */

static int zp_sud_text_range(void)
{
	Dl_info info;
	struct link_map *lm;
	uint64_t self = (uint64_t)zp_entry_sud;
	if (!dladdr1((void *)zp_entry_sud, &info, (void **)&lm, RTLD_DL_LINKMAP))
		return -1;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)info.dli_fbase;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)((const char *)eh + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++) {
		uint64_t lo = lm->l_addr + ph[i].p_vaddr, hi = lo + ph[i].p_memsz;
		if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X) || self < lo || self >= hi)
			continue;
		zp_sud_lo = lo & ~4095ull;
		zp_sud_len = ((hi + 4095) & ~4095ull) - zp_sud_lo;
		return 0;
	}
	return -1;
}

/* Arms and disarms SUD on this thread with an ALLOW selector: does the kernel have it? */
static int zp_sud_probe(void)
{
	volatile char sel = 0;
	if (zp_sys6(__NR_prctl, ZP_PR_SET_SYSCALL_USER_DISPATCH, ZP_PR_SYS_DISPATCH_ON, zp_sud_lo,
		    zp_sud_len, (long)&sel, 0) != 0)
		return 0;
	zp_sys6(__NR_prctl, ZP_PR_SET_SYSCALL_USER_DISPATCH, ZP_PR_SYS_DISPATCH_OFF, 0, 0, 0, 0);
	return 1;
}

__attribute__((constructor(102))) static void zp_sud_init(void)
{
	zp_sys4(__NR_rt_sigaction, SIGSYS, 0, &zp_sud_initial, 8);
	const char *m = getenv("ZPOLINE_SUD");
	if (m && strcmp(m, "off") == 0) {
		zp_sud_mode = ZP_SUD_OFF;
		return;
	}
	if (m && strcmp(m, "always") == 0) {
		zp_sud_mode = ZP_SUD_ALWAYS;
	} else if (m && *m && strcmp(m, "auto") != 0) {
		static const char w[] = "zpoline: ZPOLINE_SUD must be off, auto or always; using auto\n";
		zp_sys3(__NR_write, 2, w, sizeof w - 1);
	}
	if (zp_sud_text_range() != 0 || !zp_sud_probe())
		return; /* not available: the mode is reported, nothing ever arms */
	zp_sud_available = 1;
	if (zp_sud_mode == ZP_SUD_ALWAYS) {
		zp_sud_want = 1;
		zp_sud_gen = 1;
		zp_sud_live = 1; /* threads arm once start-up has finished (zp_started) */
	}
}

/* ---- policy ---- */

/*
 * auto: the net is wanted while the process has code the rewriter cannot vouch for:
 * while a writable-and-executable mapping exists (what is written into it later is never
 * scanned), and for good once new code was left unrewritten (a fork child, where Go
 * cannot run, mapping a file it does not know). The writable-and-executable ranges are
 * kept here (zp_newcode.c reports mmap, mprotect, mremap and munmap); when the last one
 * goes, the policy changes back and each thread disarms at its next hooked call.
 * Updates run on the hook path at level 0 (a signal handler's calls during one are
 * nested calls, which do not come here), under a spinlock held for a few compares.
 */
#define ZP_SUD_WX_MAX 256
static struct zp_range zp_sud_wx[ZP_SUD_WX_MAX];
static volatile uint32_t zp_sud_wx_n;
static volatile int zp_sud_wx_busy;
static volatile int zp_sud_sticky; /* wanted for the life of the process */

static void zp_sud_wx_lock(void)
{
	while (__atomic_exchange_n(&zp_sud_wx_busy, 1, __ATOMIC_ACQUIRE))
		zp_sys0(__NR_sched_yield);
}

static void zp_sud_wx_unlock(void)
{
	__atomic_store_n(&zp_sud_wx_busy, 0, __ATOMIC_RELEASE);
}

/* The policy is (sticky or a W+X range exists); a change bumps the generation. */
static void zp_sud_want_set(int want)
{
	if (zp_sud_want == want)
		return;
	zp_sud_want = want;
	__atomic_fetch_add(&zp_sud_gen, 1, __ATOMIC_RELEASE);
	zp_sud_live = 1;
}

static int zp_sud_auto(void)
{
	return zp_sud_mode == ZP_SUD_AUTO && zp_sud_available;
}

/* Removes [start, end) from the W+X ranges (caller holds the lock); 1 if any overlapped. */
static int zp_sud_wx_cut(uint64_t start, uint64_t end)
{
	int hit = 0;
	for (uint32_t i = 0; i < zp_sud_wx_n;) {
		struct zp_range r = zp_sud_wx[i];
		if (end <= r.start || r.end <= start) {
			i++;
			continue;
		}
		hit = 1;
		if (r.start < start && end < r.end) { /* a hole in the middle: two ranges */
			if (zp_sud_wx_n == ZP_SUD_WX_MAX) {
				zp_sud_sticky = 1; /* cannot track it: keep the net */
				return hit;
			}
			zp_sud_wx[i].end = start;
			zp_sud_wx[zp_sud_wx_n++] = (struct zp_range){end, r.end};
			i++;
		} else if (r.start < start) {
			zp_sud_wx[i++].end = start;
		} else if (end < r.end) {
			zp_sud_wx[i++].start = end;
		} else {
			zp_sud_wx[i] = zp_sud_wx[--zp_sud_wx_n];
		}
	}
	return hit;
}

void zp_sud_wx_mapped(struct zp_block *b, uint64_t start, uint64_t end)
{
	if (!zp_sud_auto())
		return;
	zp_sud_wx_lock();
	zp_sud_wx_cut(start, end);
	if (zp_sud_wx_n == ZP_SUD_WX_MAX)
		zp_sud_sticky = 1;
	else
		zp_sud_wx[zp_sud_wx_n++] = (struct zp_range){start, end};
	zp_sud_want_set(1);
	zp_sud_wx_unlock();
	if (b->sud_gen != zp_sud_gen)
		zp_sud_sync(b);
}

int zp_sud_wx_gone(struct zp_block *b, uint64_t start, uint64_t end)
{
	if (!__atomic_load_n(&zp_sud_wx_n, __ATOMIC_ACQUIRE) || !zp_sud_auto())
		return 0;
	zp_sud_wx_lock();
	int hit = zp_sud_wx_cut(start, end);
	zp_sud_want_set(zp_sud_sticky || zp_sud_wx_n > 0);
	zp_sud_wx_unlock();
	if (b->sud_gen != zp_sud_gen)
		zp_sud_sync(b);
	return hit;
}

void zp_sud_code_unvouched(struct zp_block *b)
{
	if (!zp_sud_auto())
		return;
	zp_sud_wx_lock();
	zp_sud_sticky = 1;
	zp_sud_want_set(1);
	zp_sud_wx_unlock();
	if (b->sud_gen != zp_sud_gen)
		zp_sud_sync(b);
}

static void zp_sud_sigsys(int sig, siginfo_t *si, void *ucv);

/* Installs our SIGSYS handler once; the program's action becomes a record. */
static void zp_sud_install(void)
{
	int st = __atomic_load_n(&zp_sud_handler_state, __ATOMIC_ACQUIRE);
	if (st == 2)
		return;
	st = 0;
	if (!__atomic_compare_exchange_n(&zp_sud_handler_state, &st, 1, 0, __ATOMIC_ACQUIRE,
					 __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&zp_sud_handler_state, __ATOMIC_ACQUIRE) != 2)
			zp_sys0(__NR_sched_yield);
		return;
	}
	struct zp_ksig cur;
	zp_sys4(__NR_rt_sigaction, SIGSYS, 0, &cur, 8);
	/* A handler in the loader's text is the Go runtime's, not the program's. */
	zp_sud_app = cur.handler - zp_sud_lo < zp_sud_len ? zp_sud_initial : cur;
	struct zp_ksig ours = {
		.handler = (uint64_t)zp_sud_sigsys,
		.flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | 0x04000000 /* SA_RESTORER */,
		.restorer = (uint64_t)zp_sigreturn_trampoline,
		.mask = zp_sud_app.mask & ~ZP_SIGSYS_BIT,
	};
	zp_sys4(__NR_rt_sigaction, SIGSYS, &ours, 0, 8);
	__atomic_store_n(&zp_sud_handler_state, 2, __ATOMIC_RELEASE);
}

/* The policy no longer wants the net: this thread disarms, and SIGSYS becomes as the
   program believes it is (blocked, with the one it blocked still pending). */
static void zp_sud_disarm(struct zp_block *b)
{
	zp_sys6(__NR_prctl, ZP_PR_SET_SYSCALL_USER_DISPATCH, ZP_PR_SYS_DISPATCH_OFF, 0, 0, 0, 0);
	b->sud_on = 0;
	b->sud_sel = 0;
	if (b->sud_app_sys) {
		uint64_t sys = ZP_SIGSYS_BIT;
		zp_sys4(__NR_rt_sigprocmask, SIG_BLOCK, &sys, 0, 8);
	}
	if (b->sud_pending) {
		b->sud_pending = 0;
		zp_sys4(__NR_rt_tgsigqueueinfo, zp_sys0(__NR_getpid), zp_sys0(__NR_gettid), SIGSYS,
			b->sud_info);
	}
	b->sud_app_sys = 0;
	ZP_SUD_ADD(disarmed);
}

/* Brings this thread up to the policy: arms or disarms it. */
void zp_sud_sync(struct zp_block *b)
{
	uint64_t gen = __atomic_load_n(&zp_sud_gen, __ATOMIC_ACQUIRE);
	if (!zp_started)
		return; /* start-up has not finished: look again at the next call */
	b->sud_gen = gen;
	if (!zp_sud_want && b->sud_on) {
		zp_sud_disarm(b);
		return;
	}
	if (!zp_sud_want || b->sud_on || b->no_go == ZP_BYPASS_GO_RUNTIME)
		return;
	zp_sud_install();
	if (zp_sys6(__NR_prctl, ZP_PR_SET_SYSCALL_USER_DISPATCH, ZP_PR_SYS_DISPATCH_ON, zp_sud_lo,
		    zp_sud_len, (long)&b->sud_sel, 0) != 0) {
		ZP_SUD_ADD(failed);
		return;
	}
	uint64_t sys = ZP_SIGSYS_BIT, old = 0;
	zp_sys4(__NR_rt_sigprocmask, SIG_UNBLOCK, &sys, &old, 8);
	b->sud_app_sys = (old & ZP_SIGSYS_BIT) != 0;
	b->sud_on = 1;
	ZP_SUD_ADD(threads);
}

/* A thread, fork or vfork child made by the loader, before its first instruction of the
   program: arms it under the current policy and leaves its selector as the program needs. */
void zp_sud_child(struct zp_block *b)
{
	if (zp_sud_live && b->sud_gen != zp_sud_gen)
		zp_sud_sync(b);
	b->sud_sel = b->sud_on;
}

/* A fork child on its parent's stack: the copy of the block says armed, the kernel
   does not (SUD is not inherited). */
void zp_sud_fork_child(void)
{
	zp_sud_wx_busy = 0; /* another thread may have held it at the fork */
	struct zp_block *b = zp_self();
	if (!b || !b->sud_on)
		return;
	if (zp_sys6(__NR_prctl, ZP_PR_SET_SYSCALL_USER_DISPATCH, ZP_PR_SYS_DISPATCH_ON, zp_sud_lo,
		    zp_sud_len, (long)&b->sud_sel, 0) != 0) {
		b->sud_on = 0;
		ZP_SUD_ADD(failed);
	}
}

/* ---- the hook path ---- */

/* A trapped call: rewrite its site if the scanner vouches for it. */
static void zp_sud_arrival(struct zp_block *b, struct zp_frame *f)
{
	ZP_SUD_ADD(traps);
	/* rt_sigreturn: its sites are never rewritten (zp_dispatch performs it from the
	   signal frame), and the thread is leaving a signal handler: no rescan in Go. */
	if ((int)f->rax == __NR_rt_sigreturn)
		return;
	uint64_t site = f->ret - 2;
	unsigned char insn[2];
	if (zp_sud_unvouched_has(site) || zp_sud_rw(insn, site, 2, 0) != 0 || insn[0] != 0x0f ||
	    insn[1] != 0x05)
		return;
	if (zp_newcode_rescan(b, site & ~4095ull, 4096) < 0) {
		zp_sud_unvouched_add(site); /* Go cannot run here, or the scan failed */
		return;
	}
	if (zp_site_known(site) && zp_sud_rw(insn, site, 2, 0) == 0 && insn[0] == 0xff && insn[1] == 0xd0) {
		ZP_SUD_ADD(rewritten);
		return;
	}
	ZP_SUD_ADD(unvouched);
	zp_sud_unvouched_add(site);
}

/* rt_sigaction(SIGSYS, act, oact, 8) while our handler is installed: a record only. */
static int64_t zp_sud_sigaction(const struct zp_frame *f)
{
	struct zp_ksig act, old = zp_sud_app;
	if (f->rsi && zp_sud_rw(&act, f->rsi, sizeof act, 0) != 0)
		return -EFAULT;
	if (f->rdx && zp_sud_rw(&old, f->rdx, sizeof old, 1) != 0)
		return -EFAULT;
	if (f->rsi) {
		zp_sud_app = act;
		struct zp_ksig ours;
		zp_sys4(__NR_rt_sigaction, SIGSYS, 0, &ours, 8);
		ours.mask = act.mask & ~ZP_SIGSYS_BIT;
		zp_sys4(__NR_rt_sigaction, SIGSYS, &ours, 0, 8);
	}
	ZP_SUD_ADD(sigactions);
	return 0;
}

/* rt_sigprocmask on an armed thread: SIGSYS stays unblocked; the program's view is kept. */
static int64_t zp_sud_sigprocmask(struct zp_block *b, struct zp_frame *f)
{
	int how = (int)f->rdi;
	uint64_t set, saved = f->rsi;
	int view = b->sud_app_sys, stripped = 0;
	if (f->rsi) {
		if (zp_sud_rw(&set, f->rsi, 8, 0) != 0 || how < SIG_BLOCK || how > SIG_SETMASK)
			return zp_call_hook_outer(zp_hook_current(), b, f); /* the kernel reports EFAULT or EINVAL */
		if (how == SIG_BLOCK)
			view |= (set & ZP_SIGSYS_BIT) != 0;
		else if (how == SIG_UNBLOCK)
			view &= !(set & ZP_SIGSYS_BIT);
		else
			view = (set & ZP_SIGSYS_BIT) != 0;
		stripped = how != SIG_UNBLOCK && (set & ZP_SIGSYS_BIT);
		set &= ~ZP_SIGSYS_BIT;
		f->rsi = (int64_t)&set;
	}
	int64_t ret = zp_call_hook_outer(zp_hook_current(), b, f);
	f->rsi = saved;
	if (ret != 0)
		return ret;
	if (stripped)
		ZP_SUD_ADD(masks);
	if (f->rdx && b->sud_app_sys) {
		uint64_t old;
		if (zp_sud_rw(&old, f->rdx, 8, 0) == 0) {
			old |= ZP_SIGSYS_BIT;
			zp_sud_rw(&old, f->rdx, 8, 1);
		}
	}
	b->sud_app_sys = view;
	if (!view && b->sud_pending) {
		/* The program unblocked SIGSYS: the one it blocked arrives now, as it would. */
		b->sud_pending = 0;
		zp_sys4(__NR_rt_tgsigqueueinfo, zp_sys0(__NR_getpid), zp_sys0(__NR_gettid), SIGSYS,
			b->sud_info);
	}
	return 0;
}

/*
 * Called by zp_dispatch for every call while zp_sud_live: 1 with *ret when the call was
 * served here, 0 to go on as usual.
 */
int zp_sud_call(struct zp_block *b, struct zp_frame *f, int64_t *ret)
{
	if (__builtin_expect(b->sud_gen != zp_sud_gen, 0))
		zp_sud_sync(b);
	if (f->via == ZP_VIA_SUD)
		zp_sud_arrival(b, f);
	int nr = (int)f->rax;
	if (nr == __NR_rt_sigaction && (int)f->rdi == SIGSYS && f->r10 == 8 &&
	    zp_sud_handler_state == 2) {
		b->calls++;
		*ret = zp_sud_sigaction(f);
		return 1;
	}
	if (nr == __NR_rt_sigprocmask && b->sud_on && f->r10 == 8) {
		b->calls++;
		*ret = zp_sud_sigprocmask(b, f);
		return 1;
	}
	return 0;
}

/* ---- the SIGSYS handler ---- */

static void zp_sud_sigsys(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct zp_block *b = zp_self();
	if (si->si_code == ZP_SYS_USER_DISPATCH && b && b->sud_on) {
		/* Enter the loader as the call would have: rcx = the address after the
		   instruction (what `syscall` leaves there), rax = the number (the kernel
		   rolled the call back), every other register as the program left it. */
		uc->uc_mcontext.gregs[REG_RCX] = (greg_t)si->si_call_addr;
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)zp_entry_sud;
		return;
	}
	/* Not ours: what the program asked for. Blocked in its view: held until it
	   unblocks SIGSYS (zp_sud_sigprocmask sends it again with the same siginfo). */
	if (b && b->sud_on && b->sud_app_sys) {
		__builtin_memcpy(b->sud_info, si, sizeof b->sud_info);
		b->sud_pending = 1;
		return;
	}
	ZP_SUD_ADD(forwarded);
	struct zp_ksig a = zp_sud_app;
	if (a.handler == (uint64_t)SIG_IGN)
		return;
	if (a.handler == (uint64_t)SIG_DFL) {
		/* Terminate (with a core dump) as the default action would: put the default
		   back and send it again; SIGSYS is not blocked here (SA_NODEFER). */
		struct zp_ksig dfl = {0};
		zp_sys4(__NR_rt_sigaction, SIGSYS, &dfl, 0, 8);
		zp_sys3(__NR_tgkill, zp_sys0(__NR_getpid), zp_sys0(__NR_gettid), SIGSYS);
		return;
	}
	if (a.flags & SA_RESETHAND)
		zp_sud_app = (struct zp_ksig){0};
	if (b)
		b->in_handler++;
	if (a.flags & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))a.handler)(sig, si, ucv);
	else
		((void (*)(int))a.handler)(sig);
	if (b)
		b->in_handler--;
}

/* ---- statistics ---- */

static char *zp_sud_put(char *p, char *end, const char *s)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

static char *zp_sud_put_u(char *p, char *end, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n && p < end)
		*p++ = tmp[--n];
	return p;
}

/* Appends the safety net's line of ZPOLINE_STATS. */
char *zp_sud_stats(char *p, char *end)
{
	static const char *const modes[] = {"off", "auto", "always"};
	p = zp_sud_put(p, end, "sud: mode ");
	p = zp_sud_put(p, end, modes[zp_sud_mode]);
	p = zp_sud_put(p, end, zp_sud_available ? ", available" : ", not available");
	p = zp_sud_put(p, end, zp_sud_want ? ", armed" : ", not armed");
	p = zp_sud_put(p, end, "; threads armed: ");
	p = zp_sud_put_u(p, end, zp_sud_stat.threads);

	p = zp_sud_put(p, end, "; traps: ");
	p = zp_sud_put_u(p, end, zp_sud_stat.traps);
	p = zp_sud_put(p, end, " (sites rewritten: ");
	p = zp_sud_put_u(p, end, zp_sud_stat.rewritten);
	p = zp_sud_put(p, end, ", not vouched for: ");
	p = zp_sud_put_u(p, end, zp_sud_stat.unvouched);
	p = zp_sud_put(p, end, "); SIGSYS forwarded to the program: ");
	p = zp_sud_put_u(p, end, zp_sud_stat.forwarded);
	p = zp_sud_put(p, end, "; SIGSYS actions recorded: ");
	p = zp_sud_put_u(p, end, zp_sud_stat.sigactions);
	p = zp_sud_put(p, end, "; masks kept from blocking SIGSYS: ");
	p = zp_sud_put_u(p, end, zp_sud_stat.masks);
	p = zp_sud_put(p, end, "; arm failures: ");
	p = zp_sud_put_u(p, end, zp_sud_stat.failed);
	p = zp_sud_put(p, end, "; threads disarmed: ");
	p = zp_sud_put_u(p, end, zp_sud_stat.disarmed);
	p = zp_sud_put(p, end, "\n");
	return p;
}
