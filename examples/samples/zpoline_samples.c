/*
 * zpoline_samples — installs its own hook at run time through the loader's exported
 * registration function (zpoline-rs's "method 1"), makes a few system calls, and shows
 * that the hook saw them.
 *
 *   LD_PRELOAD=build/libzpoline.so build/zpoline_samples
 *
 * The hook runs for every system call of every thread while installed, on the loader's
 * hook stack, possibly inside signal handlers: it only records numbers (no stdio, no
 * malloc) and performs the real call with the loader's clone-safe zpoline_syscall.
 * Without the loader, the registration function is absent and the program says so.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zpoline.h"

static int64_t (*real_syscall)(struct zpoline_regs *);
static volatile long seen[512];

static int64_t sample_hook(struct zpoline_regs *r)
{
	if (r->rax >= 0 && r->rax < 512)
		__atomic_fetch_add(&seen[r->rax], 1, __ATOMIC_RELAXED);
	if (r->rax == SYS_getppid)
		return 4242; /* the hook can change a result, too */
	return real_syscall(r);
}

int main(void)
{
	zpoline_hook_fn (*set_hook)(zpoline_hook_fn) = dlsym(RTLD_DEFAULT, "zpoline_set_hook");
	real_syscall = dlsym(RTLD_DEFAULT, "zpoline_syscall");
	if (!set_hook || !real_syscall) {
		fprintf(stderr, "zpoline_samples: run me with LD_PRELOAD=libzpoline.so\n");
		return 2;
	}
	set_hook(sample_hook);

	static const char msg[] = "zpoline_samples: hello through the hook\n";
	write(1, msg, sizeof msg - 1);
	pid_t pid = getpid();
	pid_t ppid = getppid();
	char comm[64] = {0};
	int fd = open("/proc/self/comm", O_RDONLY);
	ssize_t n = read(fd, comm, sizeof comm - 1);
	close(fd);
	struct stat st;
	int sr = stat("/", &st);

	set_hook(NULL); /* back to the loader's hook before using stdio freely */
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = 0;
	printf("getpid() = %d, getppid() = %d (emulated by the hook), comm = %s, stat(\"/\") = %d\n",
	       (int)pid, (int)ppid, comm, sr);
	static const struct {
		int nr;
		const char *name;
	} want[] = {{SYS_write, "write"}, {SYS_getpid, "getpid"}, {SYS_getppid, "getppid"},
		    {SYS_openat, "openat"}, {SYS_read, "read"}, {SYS_close, "close"},
		    {SYS_newfstatat, "newfstatat"}};
	int missing = 0;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		printf("hook saw %-10s %ld time(s)\n", want[i].name, seen[want[i].nr]);
		if (seen[want[i].nr] == 0)
			missing++;
	}
	if (ppid != 4242 || missing) {
		printf("zpoline_samples: the hook did not see everything\n");
		return 1;
	}
	printf("zpoline_samples: ok\n");
	return 0;
}
