/*
 * zp_start.c — the parts of start-up and exit that must be C.
 *
 * Why C: zp_early runs as a constructor(101), before the Go runtime's own initialiser
 * (Go's .init_array entry has the default priority), so it sees the signal dispositions,
 * mask and open-file limit the process inherited, before the Go runtime changes them.
 * zp_before_exit runs on the hook path at exit_group, possibly in a fork child where Go
 * cannot run.
 *
 * Context: zp_early and zp_restore_signals run once on the main thread at start-up and
 * may call libc. zp_before_exit runs on the hook path: raw system calls only.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <ucontext.h>
#include <asm/unistd.h>

#include "zp_core.h"
#include "zp_syscall.h"

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

/* The kernel's struct sigaction for rt_sigaction. */
struct zp_ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static char *zp_put(char *p, const char *s);
static char *zp_put_u(char *p, uint64_t v);

static struct zp_ksigaction zp_sig_initial[65];
static uint64_t zp_mask_initial;

/* The kernel's struct rlimit for prlimit64. */
struct zp_rlimit {
	uint64_t cur, max;
};

/* RLIMIT_NOFILE as the process inherited it (zp_early). */
static struct zp_rlimit zp_nofile_initial;
static int zp_nofile_saved;

/* The Go runtime of the loader needs this much address space to start (measured: the
   process maps about 1.6 GB; limits below 2 GiB fail some of the time). */
#define ZP_MIN_ADDRESS_SPACE (2ull << 30)

/* Refuses to start, with one line, where the Go runtime would abort with a cryptic one. */
static void zp_check_address_space(void)
{
	struct zp_rlimit lim;
	if (zp_sys4(__NR_prlimit64, 0, 9 /* RLIMIT_AS */, 0, &lim) != 0 || lim.cur >= ZP_MIN_ADDRESS_SPACE)
		return;
	char buf[256], *p = buf;
	p = zp_put(p, "zpoline: the address-space limit (ulimit -v ");
	p = zp_put_u(p, lim.cur / 1024);
	p = zp_put(p, ") is below the 2 GiB the loader's Go runtime needs to start; "
		      "raise it (ulimit -v 2097152 or more, or unlimited)\n");
	zp_sys3(__NR_write, 2, buf, p - buf);
	zp_sys1(__NR_exit_group, 127);
}

/*
 * Numbers that jump off the trampoline. `callq *%rax` at a rewritten site jumps to
 * address rax; 0..4096 land in the trampoline, anything else (syscall(-1) through an
 * inline `syscall`, 0x40000000|nr, 0x100000027) faults at rip == rax. The kernel would
 * have returned -ENOSYS (or, for numbers with high bits, run the low 32 bits): this
 * handler makes the real call with the interrupted registers and resumes at the return
 * address, as if the call had returned. Every other fault goes to the handler that was
 * there before (the Go runtime, which is installed after us, forwards faults outside Go
 * code here; the program may install its own handler later, which then sees these faults).
 */
static struct zp_ksigaction zp_segv_prev;

static void zp_segv(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	uint64_t rip = g[REG_RIP], rsp = g[REG_RSP];
	if (rip == (uint64_t)g[REG_RAX] && (uint64_t)si->si_addr == rip && zp_low_mapped) {
		uint64_t ret = *(uint64_t *)rsp; /* pushed by the callq; the stack is mapped */
		if (zp_site_known(ret - 2)) {
			g[REG_RAX] = zp_sys6(g[REG_RAX], g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10],
					     g[REG_R8], g[REG_R9]);
			g[REG_RIP] = ret;
			g[REG_RSP] = rsp + 8;
			g[REG_RCX] = ret;
			g[REG_R11] = g[REG_EFL];
			return;
		}
	}
	if (zp_segv_prev.flags & SA_SIGINFO) {
		((void (*)(int, siginfo_t *, void *))zp_segv_prev.handler)(sig, si, ucv);
		return;
	}
	if (zp_segv_prev.handler == SIG_DFL || zp_segv_prev.handler == SIG_IGN) {
		/* Restore the default action: a fault happens again and kills. A SIGSEGV sent
		   with kill() (si_code <= 0) does not recur: send it again. */
		struct zp_ksigaction dfl = {0};
		zp_sys4(__NR_rt_sigaction, sig, &dfl, 0, 8);
		if (si->si_code <= 0)
			zp_sys3(__NR_tgkill, zp_sys0(__NR_getpid), zp_sys0(__NR_gettid), sig);
		return;
	}
	((void (*)(int))zp_segv_prev.handler)(sig);
}

extern void zp_sigreturn_trampoline(void);

static void zp_install_segv(void)
{
	struct zp_ksigaction sa = {
		.handler = (void *)zp_segv,
		.flags = SA_SIGINFO | SA_ONSTACK | 0x04000000 /* SA_RESTORER */ | SA_NODEFER,
		.restorer = (void *)zp_sigreturn_trampoline,
		.mask = 0,
	};
	zp_sys4(__NR_rt_sigaction, SIGSEGV, &sa, &zp_segv_prev, 8);
}

/*
 * The Go runtime's os package starts its network poller (an epoll and an eventfd that
 * the program would then see as open descriptors) when stdin, stdout or stderr is
 * non-blocking at its start. Clear O_NONBLOCK on those until the runtime has started;
 * zp_restore_stdio_flags puts it back.
 */
static int zp_stdio_nonblock; /* bit fd: it was non-blocking */

static void zp_stdio_blocking(void)
{
	for (int fd = 0; fd < 3; fd++) {
		long fl = zp_sys2(__NR_fcntl, fd, 3 /* F_GETFL */);
		if (fl >= 0 && (fl & 04000 /* O_NONBLOCK */)) {
			zp_stdio_nonblock |= 1 << fd;
			zp_sys3(__NR_fcntl, fd, 4 /* F_SETFL */, fl & ~04000);
		}
	}
}

int zp_stdio_was_nonblocking(void)
{
	return zp_stdio_nonblock != 0;
}

void zp_restore_stdio_flags(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (!(zp_stdio_nonblock & (1 << fd)))
			continue;
		long fl = zp_sys2(__NR_fcntl, fd, 3 /* F_GETFL */);
		if (fl >= 0)
			zp_sys3(__NR_fcntl, fd, 4 /* F_SETFL */, fl | 04000);
	}
	zp_stdio_nonblock = 0;
}

__attribute__((constructor(101))) static void zp_early(void)
{
	zp_check_address_space();
	zp_stdio_blocking();
	for (int s = 1; s <= 64; s++)
		zp_sys4(__NR_rt_sigaction, s, 0, &zp_sig_initial[s], 8);
	zp_sys4(__NR_rt_sigprocmask, 0 /* SIG_BLOCK */, 0, &zp_mask_initial, 8);
	zp_nofile_saved = zp_sys4(__NR_prlimit64, 0, 7 /* RLIMIT_NOFILE */, 0, &zp_nofile_initial) == 0;
	zp_have_fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
	zp_vec_init();
	zp_install_segv();
	if (zp_go_signal_table_fix() != 0) {
		static const char w[] = "zpoline: warning: the Go runtime's signal table was not found in the "
					"loader (unsupported Go version?): SIGCHLD may reach the loader's "
					"threads; rebuild the loader with a supported Go\n";
		zp_sys3(__NR_write, 2, w, sizeof w - 1);
	}
}

/*
 * Puts back what the Go runtime changed: a signal the process inherited as ignored is
 * ignored again (exec'd children inherit it), and the main thread's mask is restored.
 * Signals the Go runtime needs for its own faults keep Go's handler.
 */
void zp_restore_signals(void)
{
	for (int s = 1; s <= 64; s++) {
		if (zp_sig_initial[s].handler != (void *)1 /* SIG_IGN */)
			continue;
		if (s == 4 || s == 7 || s == 8 || s == 11) /* SIGILL SIGBUS SIGFPE SIGSEGV */
			continue;
		struct zp_ksigaction now;
		if (zp_sys4(__NR_rt_sigaction, s, 0, &now, 8) == 0 && now.handler != (void *)1)
			zp_sys4(__NR_rt_sigaction, s, &zp_sig_initial[s], 0, 8);
	}
	zp_sys4(__NR_rt_sigprocmask, 2 /* SIG_SETMASK */, &zp_mask_initial, 0, 8);
}

/*
 * Puts back the soft limit on open files that the Go runtime's syscall package raised
 * to one below the hard limit when it started (Go does so for itself; a C program would see it,
 * and so would every program it starts: a program using select() must stay below
 * FD_SETSIZE). Only Go's change is undone: a limit the program set meanwhile stays.
 */
void zp_restore_nofile(void)
{
	struct zp_rlimit now;
	if (!zp_nofile_saved || zp_sys4(__NR_prlimit64, 0, 7 /* RLIMIT_NOFILE */, 0, &now) != 0)
		return;
	/* Go sets the soft limit to hard - 1, its mark (syscall/rlimit.go). */
	if (now.cur != zp_nofile_initial.cur && now.cur + 1 == now.max && now.max == zp_nofile_initial.max)
		zp_sys4(__NR_prlimit64, 0, 7 /* RLIMIT_NOFILE */, &zp_nofile_initial, 0);
}

/* mmap(addr, len, prot, MAP_FIXED_NOREPLACE|MAP_PRIVATE|MAP_ANONYMOUS): address or -errno. */
long zp_map_fixed(uint64_t addr, uint64_t len, int prot)
{
	return zp_sys6(__NR_mmap, addr, len, prot,
		       0x02 /* MAP_PRIVATE */ | 0x20 /* MAP_ANONYMOUS */ | 0x100000 /* MAP_FIXED_NOREPLACE */,
		       -1, 0);
}

/* ---- statistics written at exit ---- */

static const char *zp_stats_text;
static uint64_t zp_stats_len;
static int zp_stats_fd = -1;

/* Sets the start-up statistics (kept, not copied) and where to write them at exit. */
void zp_set_stats_text(const char *text, uint64_t len, int fd)
{
	zp_stats_text = text;
	zp_stats_len = len;
	zp_stats_fd = fd;
}

static char *zp_put(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static char *zp_put_u(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static volatile int zp_stats_written;

/* Writes the statistics once per process (the first of exit() and exit_group). */
static void zp_write_stats(void)
{
	if (zp_stats_fd < 0 || zp_stats_written)
		return;
	zp_stats_written = 1;
	uint64_t t[ZP_BYPASS_MAX + 2];
	zp_bypass_totals(t);
	char buf[1024], *p = buf;
	p = zp_put(p, "zpoline: pid ");
	p = zp_put_u(p, zp_sys0(__NR_getpid));
	p = zp_put(p, zp_in_fork_child ? " (fork child)\n" : "\n");
	zp_sys3(__NR_write, zp_stats_fd, buf, p - buf);
	if (zp_stats_text)
		zp_sys3(__NR_write, zp_stats_fd, zp_stats_text, zp_stats_len);
	static const struct {
		const char *label; /* printed before the counter; "" continues the line */
		int index;
	} rows[] = {
		{"calls hooked: ", ZP_BYPASS_MAX},
		{"\nbypass nested: ", ZP_BYPASS_NESTED},
		{"\nbypass no-block: ", ZP_BYPASS_NOBLOCK},
		{"\nbypass clone: ", ZP_BYPASS_CLONE},
		{"\nbypass sigreturn: ", ZP_BYPASS_SIGRETURN},
		{"\nbypass go (fork child, vfork child, runtime thread, shared TLS, early): ",
		 ZP_BYPASS_GO_FORK},
		{" ", ZP_BYPASS_GO_VFORK},
		{" ", ZP_BYPASS_GO_RUNTIME},
		{" ", ZP_BYPASS_GO_SHARED_TLS},
		{" ", ZP_BYPASS_GO_EARLY},
		{"\nbypass go in signal handlers: ", ZP_BYPASS_GO_HANDLER},
	};
	p = buf;
	for (unsigned i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		p = zp_put(p, rows[i].label);
		p = zp_put_u(p, t[rows[i].index]);
	}
	p = zp_put(p, "\n");
	uint64_t k[3];
	zp_keys_stats(k);
	if (k[0]) { /* only when hook code made thread-specific keys (zp_keys.c) */
		p = zp_put(p, "hook thread data (keys, destroyed at thread exit, dropped): ");
		for (int i = 0; i < 3; i++) {
			p = zp_put_u(p, k[i]);
			p = zp_put(p, i < 2 ? " " : "\n");
		}
	}
	zp_sys3(__NR_write, zp_stats_fd, buf, p - buf);
	char nc[8192];
	zp_sys3(__NR_write, zp_stats_fd, nc, zp_newcode_stats(nc, nc + sizeof nc) - nc);
}

/*
 * At exit(): the exit_group that follows may not reach the hook (ZPOLINE_EXCLUDE of
 * libc leaves it unrewritten), so write the statistics here already.
 */
__attribute__((destructor)) static void zp_at_exit(void)
{
	zp_write_stats();
}

/* Runs on the hook path just before exit_group. */
void zp_before_exit(const struct zp_hook *h, long status)
{
	if (h->desc.on_exit)
		h->desc.on_exit((int)status);
	if (h->flush)
		h->flush(0);
	zp_write_stats();
}

/* Ends the process with SIGABRT, whatever handler or mask the program set. */
void zp_abort(void)
{
	struct zp_ksigaction dfl = {0};
	uint64_t abrt = 1ull << (6 - 1);
	zp_sys4(__NR_rt_sigaction, 6 /* SIGABRT */, &dfl, 0, 8);
	zp_sys4(__NR_rt_sigprocmask, 1 /* SIG_UNBLOCK */, &abrt, 0, 8);
	zp_sys3(__NR_tgkill, zp_sys0(__NR_getpid), zp_sys0(__NR_gettid), 6);
	zp_sys1(__NR_exit_group, 128 + 6);
	__builtin_unreachable();
}
