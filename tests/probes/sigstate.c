/*
 * sigstate.c — probe for DESIGN.md §3 "inherited signal state": a Go runtime in the process
 * (the loader) must not change the signal dispositions and the signal mask that a program
 * inherits across exec.
 *
 * The first image ignores SIGPIPE, SIGHUP, SIGINT, SIGUSR2 and SIGXFSZ, blocks SIGUSR1 and
 * SIGTERM, then execs itself as "child". The child asserts:
 *  1. /proc/self/status SigIgn has the bits of every ignored signal, SigBlk those of every
 *     blocked one (what the kernel will apply, whatever handlers libc reports);
 *  2. sigaction() reports SIG_IGN for each ignored signal, sigprocmask() the blocked set;
 *  3. both images see the expected getppid (the exec'd image is hooked too);
 *  4. behaviour: write() to a pipe whose read end is closed fails with EPIPE instead of
 *     killing the process (what `yes | head -1` depends on under `trap '' PIPE`).
 * It reports (stderr note, not a failure) when an ignored SIGURG came back changed: Go uses
 * SIGURG for preemption, so restoring it is the lead's decision.
 * The shell variant (`trap '' PIPE; yes | head -1`) is run by the Go test.
 */
#include "probe.h"

#include <signal.h>

extern char **environ;

static const int ignored[] = {SIGPIPE, SIGHUP, SIGINT, SIGUSR2, SIGXFSZ};
static const int blocked[] = {SIGUSR1, SIGTERM};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static unsigned long long status_mask(const char *key)
{
	char v[64];
	if (proc_status(key, v, sizeof v) < 0)
		fail("cannot read %s from /proc/self/status", key);
	return strtoull(v, NULL, 16);
}

static int child(void)
{
	unsigned long long ign = status_mask("SigIgn"), blk = status_mask("SigBlk");
	struct sigaction sa;
	sigset_t cur;

	require_ppid("child", expected_ppid());
	for (size_t i = 0; i < N(ignored); i++) {
		int s = ignored[i];
		if (!(ign & (1ull << (s - 1))))
			fail("child: SigIgn %016llx lacks SIG%s (inherited SIG_IGN was reset)", ign,
			     sigabbrev_np(s));
		if (sigaction(s, NULL, &sa) != 0 || sa.sa_handler != SIG_IGN)
			fail("child: sigaction(SIG%s) does not report SIG_IGN", sigabbrev_np(s));
	}
	if (sigprocmask(SIG_BLOCK, NULL, &cur) != 0)
		fail("sigprocmask: %s", strerror(errno));
	for (size_t i = 0; i < N(blocked); i++) {
		int s = blocked[i];
		if (!(blk & (1ull << (s - 1))))
			fail("child: SigBlk %016llx lacks SIG%s (inherited mask was changed)", blk,
			     sigabbrev_np(s));
		if (!sigismember(&cur, s))
			fail("child: sigprocmask does not report SIG%s blocked", sigabbrev_np(s));
	}
	if (!(ign & (1ull << (SIGURG - 1))))
		note("child: inherited SIG_IGN of SIGURG was changed (Go preemption signal)");
	ok("child: SigIgn and SigBlk inherited");

	int fds[2];
	if (pipe(fds) != 0)
		fail("pipe: %s", strerror(errno));
	close(fds[0]);
	ssize_t n = write(fds[1], "x", 1);
	if (n != -1 || errno != EPIPE)
		fail("child: write to a broken pipe returned %zd (%s), want -1 EPIPE", n,
		     strerror(errno));
	ok("child: broken pipe gives EPIPE");
	return 0;
}

int main(int argc, char **argv)
{
	probe_init("sigstate", argc, argv);
	if (argc >= 2 && strcmp(argv[1], "child") == 0)
		return child();

	sigset_t set;
	require_ppid("first image", expected_ppid());
	sigemptyset(&set);
	for (size_t i = 0; i < N(ignored); i++)
		if (signal(ignored[i], SIG_IGN) == SIG_ERR)
			fail("signal(SIG%s, SIG_IGN): %s", sigabbrev_np(ignored[i]), strerror(errno));
	signal(SIGURG, SIG_IGN);
	for (size_t i = 0; i < N(blocked); i++)
		sigaddset(&set, blocked[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		fail("sigprocmask: %s", strerror(errno));

	char *cargv[] = {"sigstate", "child", NULL};
	execve(self_exe(), cargv, environ);
	fail("execve self: %s", strerror(errno));
}
