/*
 * tracemem — the recorder's direct reads (hooks/trace/src/zp_trace.c, "direct reads"):
 * a page proven readable by one copy is read with plain loads afterwards, until a call
 * takes readability away. Run under `zpoline trace`; the test checks the trace lines.
 *
 *  1. fresh  : write(fd, p, 5) of "AAAA\n", then "BBBB\n" from the same page: the second
 *              line shows the bytes as they are now (a direct copy is not a stale one).
 *  2. unmap  : munmap(p), then write(fd, p, 5) fails with EFAULT: no fault in the recorder.
 * fd is the write end of a pipe (a write to /dev/null would not read the buffer).
 *  3. noread : a new page, written once (proven), then mprotect(PROT_NONE) and written
 *              again (EFAULT), then mmap MAP_FIXED over it with PROT_NONE (EFAULT again).
 *  4. race   : one thread writes 8 bytes of a page to /dev/null in a loop while another
 *              unmaps and maps that page again (MAP_FIXED) in a loop; every write returns
 *              8 or EFAULT and the process does not crash.
 *
 * Natively the same program prints the same stdout and exits 0.
 */
#include "probe.h"

#include <pthread.h>
#include <sys/mman.h>

#define RACE_ROUNDS 20000

static char *race_page;
static volatile int race_done;

static void *race_writer(void *arg)
{
	int fd = *(int *)arg;
	long ok = 0, efault = 0;

	while (!race_done) {
		long r = syscall(SYS_write, fd, race_page, 8);
		if (r == 8)
			ok++;
		else if (r == -1 && errno == EFAULT)
			efault++;
		else {
			fprintf(stderr, "tracemem: FAIL: race write returned %ld errno %d\n", r, errno);
			exit(1);
		}
	}
	return (void *)(ok + efault);
}

static int pfd[2];

/* write(2) to the pipe; what was written is read back. */
static long pw(const char *buf)
{
	char tmp[8];
	long r = syscall(SYS_write, pfd[1], buf, 5);

	if (r > 0 && read(pfd[0], tmp, sizeof tmp) != r)
		return -2;
	return r;
}

int main(void)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *q;
	pthread_t th;
	int fd;

	if (p == MAP_FAILED) {
		fprintf(stderr, "tracemem: FAIL: mmap: %s\n", strerror(errno));
		return 1;
	}
	if (pipe(pfd) != 0)
		return 1;
	/* 1 */
	memcpy(p, "AAAA\n", 5);
	if (pw(p) != 5)
		return 1;
	memcpy(p, "BBBB\n", 5);
	if (pw(p) != 5)
		return 1;
	/* 2 */
	munmap(p, 4096);
	if (pw(p) != -1 || errno != EFAULT) {
		fprintf(stderr, "tracemem: FAIL: write from an unmapped page did not fail with EFAULT\n");
		return 1;
	}
	/* 3 */
	q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(q, "CCCC\n", 5);
	if (pw(q) != 5)
		return 1;
	mprotect(q, 4096, PROT_NONE);
	if (pw(q) != -1 || errno != EFAULT) {
		fprintf(stderr, "tracemem: FAIL: write from a PROT_NONE page did not fail with EFAULT\n");
		return 1;
	}
	mprotect(q, 4096, PROT_READ | PROT_WRITE);
	memcpy(q, "DDDD\n", 5);
	if (pw(q) != 5)
		return 1;
	if (mmap(q, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != q)
		return 1;
	if (pw(q) != -1 || errno != EFAULT) {
		fprintf(stderr, "tracemem: FAIL: write from a page mapped again PROT_NONE did not fail with EFAULT\n");
		return 1;
	}
	/* 4 */
	fd = open("/dev/null", O_WRONLY);
	race_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(race_page, 'R', 4096);
	if (fd < 0 || race_page == MAP_FAILED || pthread_create(&th, NULL, race_writer, &fd) != 0)
		return 1;
	for (int i = 0; i < RACE_ROUNDS; i++) {
		munmap(race_page, 4096);
		if (mmap(race_page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0) != race_page) {
			fprintf(stderr, "tracemem: FAIL: mmap MAP_FIXED: %s\n", strerror(errno));
			return 1;
		}
		race_page[0] = 'R';
	}
	race_done = 1;
	pthread_join(th, NULL);
	printf("tracemem: ok\n");
	return 0;
}
