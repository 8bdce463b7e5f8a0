/*
 * warmstart.c — probe for the warm start (internal/core/zp_warm.c): the Go runtime starts
 * on its own thread while the warm start rewrites the process, and the program's main
 * must find it finished. What main does first must come out as it does natively:
 *  1. descriptors get the numbers they get natively (the runtime opens and closes files
 *     while it starts);
 *  2. the open-file limit is the one the process inherited (the runtime raises it);
 *  3. SIGINT's action is the inherited one;
 *  4. a thread and a forked child run and end.
 * Everything is done first thing in main and printed afterwards. (A prototype that let
 * main run while the runtime started deadlocked in dlopen: glibc's dlopen holds the TLS
 * lock that the runtime's pthread_create needs.)
 */
#include "probe.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

static void *thread_main(void *arg)
{
	*(long *)arg = getppid();
	return NULL;
}

int main(void)
{
	probe_name = "warmstart";
	int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int b = open("/dev/null", O_RDONLY | O_CLOEXEC);
	close(a);
	int c = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct rlimit nofile;
	getrlimit(RLIMIT_NOFILE, &nofile);
	struct sigaction sigint;
	sigaction(SIGINT, NULL, &sigint);
	long thread_ppid = 0;
	pthread_t th;
	int thread_err = pthread_create(&th, NULL, thread_main, &thread_ppid);
	if (!thread_err)
		pthread_join(th, NULL);
	pid_t child = fork();
	if (child == 0)
		_exit(7);
	int status = 0;
	waitpid(child, &status, 0);

	printf("warmstart: descriptors %d %d %d\n", a, b, c);
	printf("warmstart: nofile soft %llu hard %llu\n", (unsigned long long)nofile.rlim_cur,
	       (unsigned long long)nofile.rlim_max);
	printf("warmstart: SIGINT %s\n", sigint.sa_handler == SIG_IGN   ? "ignored"
					: sigint.sa_handler == SIG_DFL ? "default"
								       : "handled");
	printf("warmstart: thread %s\n", thread_err ? "failed" : thread_ppid == getppid() ? "ran" : "wrong ppid");
	printf("warmstart: child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
