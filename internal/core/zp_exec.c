/*
 * zp_exec.c — execve and execveat: children that will not be hooked are named, and the
 * loader's variables are put back into an environment that dropped them.
 *
 * What it does. zp_dispatch hands every execve/execveat of the program to zp_exec, which
 *  1. looks at the program about to run (through #! interpreters, up to 4 levels) and,
 *     when LD_PRELOAD cannot reach it, writes one line to fd 2 ("zpoline: PATH will not
 *     be hooked: REASON"), once per program path among the processes of one program
 *     image and its fork children (a shared table; an exec'd program starts a new one):
 *     a statically linked program, one that is not x86-64, a set-user-ID or set-group-ID
 *     program that puts ld.so in secure mode (it ignores LD_PRELOAD entries with a slash),
 *     or, with ZPOLINE_KEEP_ENV=0, an environment without the loader in LD_PRELOAD;
 *  2. unless ZPOLINE_KEEP_ENV=0 was set when this process started, builds a new envp:
 *     the program's own entries, plus LD_PRELOAD (the loader by its absolute path, with
 *     the other entries the process started with) when it is missing or no longer names
 *     the loader, plus every ZPOLINE_* and LIBZPHOOK variable the process started with
 *     and the new environment lacks. A variable the program set itself is kept as it is.
 *     The kernel gets the new array; the program's memory is not changed, and the
 *     registers are restored when the call fails. A hook (`zpoline trace`'s recorder)
 *     sees the environment the kernel gets.
 *
 * Why C: it runs on the hook path of every thread, in fork and vfork children (a vfork
 * child shares the parent's memory: nothing may be allocated in it that the parent would
 * keep) and in signal handlers' calls, where Go cannot run.
 *
 * Context and what it may call: zp_exec_init is a constructor(102), run before the Go
 * runtime and before anything is rewritten, so its system calls are never hooked or
 * traced (libc allowed: dladdr, realpath; it copies what it needs into static memory,
 * because programs overwrite their initial environment block to set a process title). zp_exec runs on the thread's hook
 * stack (256 KiB; it uses ~45 KiB: the new envp array and the new LD_PRELOAD string live
 * in its frame while the hook performs the call): raw system calls only, no libc, no
 * malloc, no locks. The program's memory is read with process_vm_readv, so a bad pointer
 * is left for the kernel to refuse (EFAULT), never a fault here. Shared state written on
 * the hook path: zp_exec_seen (slots claimed with CAS, shared with fork children).
 *
 * Limits: an environment of more than ZP_EXEC_ENV_MAX entries is passed unchanged (and
 * not inspected); an execve made by a signal handler nested in a hook (zp_dispatch_busy)
 * is not seen here; a program that cannot be opened for reading (mode --x) is not checked.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <asm/stat.h>
#include <asm/unistd.h>

#include "zp_exec.h"
#include "zp_syscall.h"

#pragma GCC target("general-regs-only")

#define ZP_EXEC_ENV_MAX 4096  /* envp entries inspected and rebuilt on the hook stack */
#define ZP_EXEC_VARS 32	      /* loader variables kept from the start */
#define ZP_EXEC_ARENA 16384   /* their copies */
#define ZP_EXEC_PREFIX 64     /* bytes of each envp entry read to match names */
#define ZP_EXEC_SEEN 256      /* program paths already named, by hash */
#define ZP_EXEC_AT_FDCWD (-100)
#define ZP_EXEC_AT_EMPTY_PATH 0x1000
#define ZP_EXEC_O_RDONLY_CLOEXEC 02000000

/* ---- set at start-up (constructor), read-only afterwards ---- */

static char zp_exec_arena[ZP_EXEC_ARENA];
static const char *zp_exec_var[ZP_EXEC_VARS]; /* "NAME=value" */
static int zp_exec_namelen[ZP_EXEC_VARS];     /* bytes of "NAME=" */
static int zp_exec_nvars;
static const char *zp_exec_preload; /* "LD_PRELOAD=..." to put back; NULL: none at start */
static const char *zp_exec_loader;  /* the loader's absolute path */
static int zp_exec_loaderlen;
static const char *zp_exec_loaderbase; /* its file name */
static int zp_exec_keep = 1;	       /* ZPOLINE_KEEP_ENV != 0 */

/* Program paths already named (FNV-1a hashes; 0 = free): a shared anonymous mapping made
   at start-up, so the fork children of this program image (a shell's commands) share one
   table; the static table only if that mmap failed. */
static uint64_t zp_exec_seen_static[ZP_EXEC_SEEN];
static uint64_t *zp_exec_seen = zp_exec_seen_static;

static int zp_exec_len(const char *s)
{
	int n = 0;
	while (s[n])
		n++;
	return n;
}

static int zp_exec_prefix(const char *s, const char *p)
{
	while (*p)
		if (*s++ != *p++)
			return 0;
	return 1;
}

/* Copies n bytes of s (and a NUL) into the arena; NULL when full. */
static char *zp_exec_save(const char *s, int n)
{
	static int used;
	char *d;
	if (n < 0 || used + n + 1 > ZP_EXEC_ARENA)
		return NULL;
	d = zp_exec_arena + used;
	for (int i = 0; i < n; i++)
		d[i] = s[i];
	d[n] = 0;
	used += n + 1;
	return d;
}

/* The loader's variables and LD_PRELOAD with the loader's entry made absolute. */
__attribute__((constructor(102))) static void zp_exec_init(int argc, char **argv, char **envp)
{
	static char abs[PATH_MAX], entry_abs[PATH_MAX], pre[ZP_EXEC_ARENA / 2];
	const char *preload = NULL;
	Dl_info di;
	(void)argc;
	(void)argv;

	long m = zp_sys6(__NR_mmap, 0, sizeof zp_exec_seen_static, 3 /* PROT_READ|PROT_WRITE */,
			 0x21 /* MAP_SHARED|MAP_ANONYMOUS */, -1, 0);
	if (m > 0)
		zp_exec_seen = (uint64_t *)m;
	for (char **e = envp; e && *e; e++) {
		const char *s = *e;
		int n = zp_exec_len(s), k = 0;
		if (zp_exec_prefix(s, "LD_PRELOAD=")) {
			preload = s + 11;
			continue;
		}
		if (!zp_exec_prefix(s, "ZPOLINE_") && !zp_exec_prefix(s, "LIBZPHOOK="))
			continue;
		if (zp_exec_prefix(s, "ZPOLINE_KEEP_ENV=") && s[17] == '0' && s[18] == 0)
			zp_exec_keep = 0;
		while (s[k] && s[k] != '=')
			k++;
		if (s[k] != '=' || k + 1 >= ZP_EXEC_PREFIX || zp_exec_nvars == ZP_EXEC_VARS)
			continue;
		const char *c = zp_exec_save(s, n);
		if (c) {
			zp_exec_var[zp_exec_nvars] = c;
			zp_exec_namelen[zp_exec_nvars++] = k + 1;
		}
	}
	if (!dladdr((void *)zp_exec_init, &di) || !di.dli_fname || !realpath(di.dli_fname, abs))
		return;
	zp_exec_loader = zp_exec_save(abs, zp_exec_len(abs));
	if (!zp_exec_loader)
		return;
	zp_exec_loaderlen = zp_exec_len(zp_exec_loader);
	zp_exec_loaderbase = zp_exec_loader;
	for (const char *p = zp_exec_loader; *p; p++)
		if (*p == '/')
			zp_exec_loaderbase = p + 1;
	if (!preload)
		return; /* loaded some other way (/etc/ld.so.preload): nothing to put back */
	/* "LD_PRELOAD=" + the entries, the loader's one absolute, ':'-separated. */
	int n = 0, found = 0;
	const char *hdr = "LD_PRELOAD=";
	for (; *hdr; hdr++)
		pre[n++] = *hdr;
	for (const char *p = preload; *p;) {
		char name[PATH_MAX];
		int k = 0;
		while (*p == ':' || *p == ' ')
			p++;
		while (*p && *p != ':' && *p != ' ' && k < PATH_MAX - 1)
			name[k++] = *p++;
		name[k] = 0;
		if (k == 0)
			continue;
		const char *use = name;
		if (!found && realpath(name, entry_abs) && zp_exec_len(entry_abs) == zp_exec_loaderlen) {
			int same = 1;
			for (int i = 0; i < zp_exec_loaderlen; i++)
				same &= entry_abs[i] == zp_exec_loader[i];
			if (same) {
				use = zp_exec_loader;
				found = 1;
			}
		}
		int ul = zp_exec_len(use);
		if (n + ul + 2 >= (int)sizeof pre)
			break;
		if (n > 11)
			pre[n++] = ':';
		for (int i = 0; i < ul; i++)
			pre[n++] = use[i];
	}
	if (!found) {
		/* Not listed by a path that resolves to us: put ourselves first. */
		int ll = zp_exec_loaderlen, rest = n - 11;
		if (n + ll + 2 >= (int)sizeof pre)
			return;
		for (int i = rest - 1; i >= 0; i--)
			pre[11 + ll + (rest ? 1 : 0) + i] = pre[11 + i];
		for (int i = 0; i < ll; i++)
			pre[11 + i] = zp_exec_loader[i];
		if (rest)
			pre[11 + ll] = ':';
		n += ll + (rest ? 1 : 0);
	}
	zp_exec_preload = zp_exec_save(pre, n);
}

/* ---- the hook path: raw system calls only ---- */

struct zp_exec_iov {
	uint64_t base, len;
};

/* Reads n bytes of the program's memory; the bytes read (short where memory ends). */
static long zp_exec_read(void *ours, uint64_t theirs, uint64_t n)
{
	struct zp_exec_iov local = {(uint64_t)ours, n}, remote = {theirs, n};
	long r = zp_sys6(__NR_process_vm_readv, zp_sys0(__NR_getpid), (long)&local, 1,
			 (long)&remote, 1, 0);
	return r < 0 ? 0 : r;
}

/* Reads a NUL-terminated string of at most max bytes (NUL included), a page at a time;
   its length, or -1 when unreadable or too long. */
static long zp_exec_string(char *dst, uint64_t addr, long max)
{
	long got = 0;
	while (got < max) {
		long chunk = 4096 - (long)((addr + got) & 4095), n;
		if (chunk > max - got)
			chunk = max - got;
		n = zp_exec_read(dst + got, addr + got, chunk);
		for (long i = 0; i < n; i++)
			if (dst[got + i] == 0)
				return got + i;
		got += n;
		if (n < chunk)
			return -1;
	}
	return -1;
}

static void zp_exec_put(char *buf, int *n, int cap, const char *s)
{
	while (*s && *n < cap)
		buf[(*n)++] = *s++;
}

static void zp_exec_putu(char *buf, int *n, int cap, uint64_t v)
{
	char tmp[24];
	int k = 0;
	do
		tmp[k++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (k > 0 && *n < cap)
		buf[(*n)++] = tmp[--k];
}

/* Writes "zpoline: PATH will not be hooked: REASON" once per path (and process). */
static void zp_exec_name(const char *path, const char *reason, const char *detail, uint64_t num)
{
	char line[4096 + 256];
	int n = 0, cap = (int)sizeof line - 1;
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *p = path; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	h |= 1;
	for (int i = 0; i < 16; i++) {
		uint64_t *slot = &zp_exec_seen[(h + (uint64_t)i) % ZP_EXEC_SEEN], zero = 0;
		uint64_t cur = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
		if (cur == h)
			return;
		if (cur == 0) {
			if (__atomic_compare_exchange_n(slot, &zero, h, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				break;
			if (zero == h)
				return;
		}
	}
	zp_exec_put(line, &n, cap, "zpoline: ");
	zp_exec_put(line, &n, cap, path);
	zp_exec_put(line, &n, cap, " will not be hooked: ");
	zp_exec_put(line, &n, cap, reason);
	if (detail) {
		zp_exec_putu(line, &n, cap, num);
		zp_exec_put(line, &n, cap, detail);
	}
	line[n++] = '\n';
	zp_sys3(__NR_write, 2, line, n);
}

/* Why LD_PRELOAD will not reach the program in fd (NULL: it will, or cannot be told);
   *num and *detail complete the reason. *interp gets a #! interpreter to follow. */
static const char *zp_exec_why(long fd, const char *name, char *interp, const char **detail,
			       uint64_t *num)
{
	uint8_t hd[256];
	uint8_t ph[64 * 56];
	struct stat st;
	long n = zp_sys6(__NR_pread64, fd, (long)hd, sizeof hd, 0, 0, 0);
	interp[0] = 0;
	if (n >= 4 && hd[0] == '#' && hd[1] == '!') {
		long i = 2, k = 0;
		while (i < n && (hd[i] == ' ' || hd[i] == '\t'))
			i++;
		while (i < n && hd[i] != ' ' && hd[i] != '\t' && hd[i] != '\n' && k < 255)
			interp[k++] = (char)hd[i++];
		interp[k] = 0;
		return NULL;
	}
	if (n < 64 || hd[0] != 0x7f || hd[1] != 'E' || hd[2] != 'L' || hd[3] != 'F')
		return NULL; /* not ELF: the kernel decides */
	if (hd[4] != 2 || (hd[18] | hd[19] << 8) != 62 /* EM_X86_64 */)
		return "it is not an x86-64 program";
	uint64_t phoff = 0;
	for (int i = 0; i < 8; i++)
		phoff |= (uint64_t)hd[32 + i] << (8 * i);
	unsigned phentsize = hd[54] | hd[55] << 8, phnum = hd[56] | hd[57] << 8;
	if (phentsize != 56 || phnum == 0 || phnum > 64)
		return NULL;
	if (zp_sys6(__NR_pread64, fd, (long)ph, phnum * 56, (long)phoff, 0, 0) != (long)(phnum * 56))
		return NULL;
	int has_interp = 0;
	for (unsigned i = 0; i < phnum; i++)
		if ((ph[i * 56] | ph[i * 56 + 1] << 8 | ph[i * 56 + 2] << 16 | (uint32_t)ph[i * 56 + 3] << 24) == 3)
			has_interp = 1;
	if (!has_interp) {
		/* ld.so run as a program (ld-linux-x86-64.so.2 prog) honours LD_PRELOAD. */
		const char *base = name;
		for (const char *p = name; *p; p++)
			if (*p == '/')
				base = p + 1;
		if ((hd[16] | hd[17] << 8) == 3 /* ET_DYN */ && zp_exec_prefix(base, "ld-"))
			return NULL;
		return "it is statically linked, and LD_PRELOAD only reaches dynamically linked programs";
	}
	if (zp_sys2(__NR_fstat, fd, &st) != 0)
		return NULL;
	if (!(st.st_mode & 06000))
		return NULL;
	/* Set-ID bits are ignored under no_new_privs and on a nosuid mount. */
	uint64_t sfs[15];
	if (zp_sys2(__NR_prctl, 39 /* PR_GET_NO_NEW_PRIVS */, 0) == 1 ||
	    (zp_sys2(__NR_fstatfs, fd, sfs) == 0 && (sfs[10] & 2 /* ST_NOSUID */)))
		return NULL;
	if ((st.st_mode & 04000) && st.st_uid != (unsigned)zp_sys0(__NR_getuid)) {
		*detail = "), so ld.so runs in secure mode and ignores LD_PRELOAD";
		*num = st.st_uid;
		return "it is set-user-ID (owner uid ";
	}
	if ((st.st_mode & 02010) == 02010 && st.st_gid != (unsigned)zp_sys0(__NR_getgid)) {
		*detail = "), so ld.so runs in secure mode and ignores LD_PRELOAD";
		*num = st.st_gid;
		return "it is set-group-ID (group ";
	}
	return NULL;
}

/* Names the program about to run when it will not be hooked; env_reason is the reason
   of the environment (NULL: the environment is fine). */
static void zp_exec_check(long dirfd, uint64_t upath, long flags, const char *env_reason)
{
	char path[4096], interp[256], shown[4096 + 32];
	long len = zp_exec_string(path, upath, sizeof path), fd;
	const char *detail = NULL, *why = NULL;
	uint64_t num = 0;
	if (len < 0)
		return; /* the kernel says EFAULT or ENAMETOOLONG */
	if (len == 0 && (flags & ZP_EXEC_AT_EMPTY_PATH)) {
		int n = 0;
		zp_exec_put(shown, &n, sizeof shown - 1, "/dev/fd/");
		zp_exec_putu(shown, &n, sizeof shown - 1, (uint64_t)dirfd);
		shown[n] = 0;
		fd = zp_sys3(__NR_dup, dirfd, 0, 0);
	} else {
		int n = 0;
		zp_exec_put(shown, &n, sizeof shown - 1, path);
		shown[n] = 0;
		fd = zp_sys4(__NR_openat, dirfd, path, ZP_EXEC_O_RDONLY_CLOEXEC, 0);
	}
	for (int depth = 0; fd >= 0 && depth < 5; depth++) {
		why = zp_exec_why(fd, depth ? interp : shown, interp, &detail, &num);
		zp_sys1(__NR_close, fd);
		fd = -1;
		if (why || !interp[0])
			break;
		fd = zp_sys4(__NR_openat, ZP_EXEC_AT_FDCWD, interp, ZP_EXEC_O_RDONLY_CLOEXEC, 0);
	}
	if (fd >= 0)
		zp_sys1(__NR_close, fd);
	if (!why && env_reason)
		why = env_reason, detail = NULL;
	if (why)
		zp_exec_name(shown, why, detail, num);
}

/* Whether the LD_PRELOAD value at addr (after "LD_PRELOAD=") names the loader. */
static int zp_exec_names_loader(const char *v)
{
	while (*v) {
		const char *s, *base;
		int k;
		while (*v == ':' || *v == ' ')
			v++;
		s = base = v;
		while (*v && *v != ':' && *v != ' ') {
			if (*v == '/')
				base = v + 1;
			v++;
		}
		k = (int)(v - base);
		if (k > 0 && k == zp_exec_len(zp_exec_loaderbase)) {
			int same = 1;
			for (int i = 0; i < k; i++)
				same &= base[i] == zp_exec_loaderbase[i];
			if (same)
				return 1;
		}
		(void)s;
	}
	return 0;
}

int64_t zp_exec(const struct zp_hook *h, struct zp_block *b, struct zp_frame *f)
{
	uint64_t env[ZP_EXEC_ENV_MAX + ZP_EXEC_VARS + 2];
	char pre[8192 + PATH_MAX];
	char prefix[64][ZP_EXEC_PREFIX];
	struct zp_exec_iov local[64], remote[64];
	int at = (int)f->rax == __NR_execveat;
	int64_t *envreg = at ? &f->r10 : &f->rdx, saved = *envreg, ret;
	const char *env_reason = NULL;
	int n = 0, have_preload = 0, preload_ok = 0, changed = 0;
	int have[ZP_EXEC_VARS] = {0};

	if (zp_exec_preload) {
		/* The program's envp (NULL is an empty one), and the first bytes of each entry. */
		int ok = 1, done = saved == 0;
		while (ok && !done) {
			uint64_t batch[64];
			int k = (int)(zp_exec_read(batch, (uint64_t)saved + 8ull * n, sizeof batch) / 8), m = 0;
			if (k == 0) {
				ok = 0;
				break;
			}
			for (int i = 0; i < k; i++) {
				if (batch[i] == 0) {
					done = 1;
					break;
				}
				if (n + m >= ZP_EXEC_ENV_MAX) {
					ok = 0;
					break;
				}
				env[n + m] = batch[i];
				local[m] = (struct zp_exec_iov){(uint64_t)prefix[m], 0};
				remote[m] = (struct zp_exec_iov){batch[i], 0};
				uint64_t l = 4096 - (batch[i] & 4095);
				local[m].len = remote[m].len = l < ZP_EXEC_PREFIX ? l : ZP_EXEC_PREFIX;
				m++;
			}
			if (!ok || m == 0)
				break;
			uint64_t want = 0;
			for (int i = 0; i < m; i++)
				want += remote[i].len;
			if (zp_sys6(__NR_process_vm_readv, zp_sys0(__NR_getpid), (long)local, m, (long)remote, m, 0) !=
			    (long)want) {
				ok = 0; /* a bad entry: the kernel refuses the call anyway */
				break;
			}
			for (int i = 0; i < m; i++) {
				const char *s = prefix[i];
				int sl = 0;
				while (sl < (int)remote[i].len && s[sl])
					sl++;
				if (sl >= 11 && zp_exec_prefix(s, "LD_PRELOAD=")) {
					have_preload = n + i + 1;
				}
				for (int v = 0; v < zp_exec_nvars; v++) {
					int nl = zp_exec_namelen[v], same = sl >= nl;
					for (int c = 0; same && c < nl; c++)
						same = s[c] == zp_exec_var[v][c];
					if (same)
						have[v] = 1;
				}
			}
			n += m;
		}
		if (ok && done) {
			if (have_preload) {
				long l = zp_exec_string(pre + 11, env[have_preload - 1] + 11, sizeof pre - 11 - PATH_MAX);
				if (l >= 0) {
					preload_ok = zp_exec_names_loader(pre + 11);
					if (!preload_ok && zp_exec_keep) {
						/* "LD_PRELOAD=<loader>:<their value>" */
						int ll = zp_exec_loaderlen;
						for (long i = l; i >= 0; i--)
							pre[11 + ll + 1 + i] = pre[11 + i];
						for (int i = 0; i < 11; i++)
							pre[i] = "LD_PRELOAD="[i];
						for (int i = 0; i < ll; i++)
							pre[11 + i] = zp_exec_loader[i];
						pre[11 + ll] = ':';
						env[have_preload - 1] = (uint64_t)pre;
						changed = 1;
					}
				} else {
					preload_ok = 1; /* unreadable: leave it to the kernel */
				}
			}
			if (zp_exec_keep) {
				if (!have_preload) {
					env[n++] = (uint64_t)zp_exec_preload;
					changed = 1;
				}
				for (int v = 0; v < zp_exec_nvars; v++)
					if (!have[v]) {
						env[n++] = (uint64_t)zp_exec_var[v];
						changed = 1;
					}
			} else if (!have_preload) {
				env_reason = "its environment has no LD_PRELOAD (ZPOLINE_KEEP_ENV=0: the loader does not put it back)";
			} else if (!preload_ok) {
				env_reason = "its LD_PRELOAD does not name the loader (ZPOLINE_KEEP_ENV=0: the loader does not put it back)";
			}
			env[n] = 0;
			if (changed)
				*envreg = (int64_t)env;
		}
	}
	if (at)
		zp_exec_check(f->rdi, (uint64_t)f->rsi, f->r8, env_reason);
	else
		zp_exec_check(ZP_EXEC_AT_FDCWD, (uint64_t)f->rdi, 0, env_reason);
	ret = zp_call_hook_outer(h, b, f);
	*envreg = saved;
	return ret;
}
