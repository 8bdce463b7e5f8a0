/*
 * exec.c — probe for DESIGN.md §3 "coverage" across exec, and §3 "hook library" (paths
 * must keep working in children that run in another directory): programs started with
 * exec are hooked too, because LD_PRELOAD and the hook selection are inherited.
 *
 * Asserts, checking getppid in each new image (4242 hooked; the real parent natively):
 *  1. fork + execve(self "chain 1"), which checks, then replaces itself with execve
 *     (no fork) at level 2 after chdir("/"), and again at level 3 — each image is hooked;
 *  2. system("exec <self> chain 3"): through /bin/sh (itself hooked) to the probe;
 *  3. execvpe through PATH lookup (a bare name resolved in a PATH holding the probe's dir).
 * Each level exits 0 only if its own checks passed; the parent checks every status.
 */
#include "probe.h"

#include <libgen.h>

extern char **environ;

#define MAX_LEVEL 3

static void chain(int level)
{
	char lv[16];
	char *argv[] = {"exec", "chain", lv, NULL};

	/* Natively the parent of levels 2..3 is still the process that forked level 1. */
	require_ppid(level == 1 ? "chain level 1" : level == 2 ? "chain level 2" : "chain level 3",
		     expected_ppid());
	if (level >= MAX_LEVEL)
		_exit(0);
	if (level == 1 && chdir("/") != 0)
		fail("chdir /: %s", strerror(errno));
	snprintf(lv, sizeof lv, "%d", level + 1);
	execve(self_exe(), argv, environ);
	fail("chain level %d: execve: %s", level, strerror(errno));
}

static void run_and_wait(const char *what, char *const argv[], int use_path)
{
	pid_t pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		if (use_path)
			execvpe(argv[0], argv, environ);
		else
			execve(self_exe(), argv, environ);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			fail("%s: waitpid: %s", what, strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("%s: %s", what, wait_status_str(st));
}

int main(int argc, char **argv)
{
	probe_init("exec", argc, argv);
	if (argc >= 3 && strcmp(argv[1], "chain") == 0)
		chain(atoi(argv[2]));

	long want = expected_ppid();
	require_ppid("first image", want);

	char *chain_argv[] = {"exec", "chain", "1", NULL};
	run_and_wait("fork+execve chain", chain_argv, 0);
	ok("fork+execve chain of 3 images");

	char cmd[4200];
	snprintf(cmd, sizeof cmd, "exec '%s' chain %d", self_exe(), MAX_LEVEL);
	int st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("system(sh -c exec self): %s", st == -1 ? strerror(errno) : wait_status_str(st));
	ok("system() through /bin/sh");

	/* PATH lookup: PATH=<dir of probe>:/usr/bin:/bin, argv[0] = basename. */
	char dir[4096], base[256], path[4200];
	snprintf(dir, sizeof dir, "%s", self_exe());
	snprintf(base, sizeof base, "%s", basename(dir));
	snprintf(dir, sizeof dir, "%s", self_exe());
	snprintf(path, sizeof path, "PATH=%s:/usr/bin:/bin", dirname(dir));
	putenv(path);
	char *lv[] = {base, "chain", "3", NULL};
	run_and_wait("execvpe via PATH", lv, 1);
	ok("execvpe via PATH");

	require_ppid("first image at the end", want);
	ok("parent lives on");
	return 0;
}
