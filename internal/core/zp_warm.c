/*
 * zp_warm.c — the warm start: when every executable mapping's sites are in the site
 * cache, a constructor that runs before the Go runtime's own .init_array entry maps the
 * trampoline, rewrites the process from the cache and loads the hook, in C, while the
 * process is still single-threaded (writes into text shared with no other thread need no
 * TLB shootdown; measured: the same writes took 2-3 times longer beside the starting
 * runtime). The Go start-up would wait for the runtime first and then do the same work
 * in Go.
 *
 * Why C: it runs before the Go runtime has started, by definition.
 *
 * Context: constructors of the loader, once, on the main thread, before the program's
 * main: libc may be called.
 *
 * It changes nothing in the process unless it can do everything: the configuration is
 * a simple one (the hook is builtin:pass, a library by absolute path or the default
 * library next to the loader; no statistics, debug output or exclusions; the cache on;
 * no Go hook linked into this loader; stdio not non-blocking), and every executable
 * mapping is either skipped by the start-up's own rules or has a trusted cache entry
 * whose sites are still in memory as cached. Otherwise the Go start-up runs, exactly as
 * without a warm start. The cache format and its trust rules are those of
 * internal/sitecache (written only by Go); every site is checked against the bytes in
 * memory immediately before it is written (zp_apply.c). The hook library is loaded as the
 * Go start-up would (zp_hookload.c); if it fails, the process stays rewritten and the Go
 * start-up runs the fallback stages with their messages (zpolineFinishWarm), the failed
 * attempt reported, not repeated.
 *
 * zp_warm_finish, after the Go runtime's entry, waits until the loader's Go package
 * initialisation has run (zp_go_init_done): the runtime reads files while it starts
 * (transparent_hugepage, cgroup, mountinfo), descriptors the program would see as open
 * if it ran meanwhile, and new code must find Go ready. The wait is most of what a warm
 * start adds (measured: /bin/true +1.4 ms without it, +3.6 ms with it). Letting the
 * program run and making its calls wait for Go only where they need it was tried and
 * deadlocks: glibc's dlopen holds dl_load_tls_lock while ld.so maps the library (its
 * openat and mmap would wait), and the runtime's pthread_create needs that lock
 * (_dl_allocate_tls_init). Such a gate must let ld.so's own calls through and give the
 * code they map the new-code C path (per-file cached sites, else the SUD net).
 * ZPOLINE_WARM=0 turns the warm start off; ZPOLINE_WARM=1 prints the decision on stderr.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zp_core.h"
#include "zp_syscall.h"

/* Defined by the Go hook SDK (hook/zp_sdk.c): this loader may run Go hooks. */
extern const int zp_go_sdk_linked __attribute__((weak));

#define ZP_WARM_MAPS_MAX (1u << 20)  /* bytes of /proc/self/maps read */
#define ZP_WARM_SITES_MAX 65536      /* sites, all mappings */
#define ZP_WARM_RANGES_MAX 512       /* readable executable mappings */
#define ZP_WARM_CACHE_FILE_MAX (4u << 20)

static const char zp_cache_magic[] = "zpoline-sites-1\n";

/* The warm start installed a hook library's hook (the loader's Go init may prove it
   vector-free: loader.go). */
int zp_warm_library_hook;

/* Why the warm start was not taken, for ZPOLINE_WARM=1. */
static const char *zp_warm_why;

struct zp_warm {
	int mem;
	char dir[4096];
	const char *hook_env; /* ZPOLINE_HOOK, else LIBZPHOOK; NULL if neither is set */
	char hook[4096];      /* the library to load; "" for builtin:pass */
	struct zp_site *sites;
	uint64_t n;
	struct zp_range readable[ZP_WARM_RANGES_MAX];
	uint64_t nreadable;
};

/* Writes msg to stderr (one line). */
static void zp_say(const char *msg, int n)
{
	if (n > 0)
		(void)!write(2, msg, (size_t)n);
}

static int zp_fail(const char *why)
{
	zp_warm_why = why;
	return -1;
}

static int zp_env_is(const char *name, const char *value)
{
	const char *v = getenv(name);
	return v && strcmp(v, value) == 0;
}

static int zp_env_empty(const char *name)
{
	const char *v = getenv(name);
	return !v || !*v;
}

/* sitecache.Dir: $XDG_CACHE_HOME/zpoline, else $HOME/.cache/zpoline, else /tmp/zpoline-UID. */
static int zp_cache_dir(char *dir, size_t size)
{
	const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
	int n;
	if (x && x[0] == '/')
		n = snprintf(dir, size, "%s/zpoline", x);
	else if (h && h[0] == '/')
		n = snprintf(dir, size, "%s/.cache/zpoline", h);
	else
		n = snprintf(dir, size, "/tmp/zpoline-%u", (unsigned)getuid());
	/* filepath.Join cleans: a trailing or doubled slash would name the same directory. */
	return n > 0 && (size_t)n < size && !strstr(dir, "//") && !strstr(dir, "/./") &&
			       !strstr(dir, "/../")
		       ? 0
		       : -1;
}

/* sitecache's trust rule: owned by this user, writable by nobody else. */
static int zp_trusted(const struct stat *st)
{
	return st->st_uid == geteuid() && !(st->st_mode & 022);
}

static int zp_eligible(struct zp_warm *w)
{
	if (zp_env_is("ZPOLINE_WARM", "0"))
		return zp_fail("ZPOLINE_WARM=0");
	const char *hook = getenv("ZPOLINE_HOOK");
	if (!hook || !*hook)
		hook = getenv("LIBZPHOOK");
	if (hook && *hook && strcmp(hook, "builtin:pass") != 0 && hook[0] != '/')
		return zp_fail("the hook is neither builtin:pass nor an absolute path");
	w->hook_env = hook && *hook ? hook : NULL;
	if (!zp_env_empty("ZPOLINE_STATS") || zp_env_is("ZPOLINE_DEBUG", "1"))
		return zp_fail("statistics or debug output asked for");
	if (!zp_env_empty("ZPOLINE_EXCLUDE"))
		return zp_fail("ZPOLINE_EXCLUDE is set");
	if (zp_env_is("ZPOLINE_CACHE", "0"))
		return zp_fail("the site cache is off");
	if (&zp_go_sdk_linked)
		return zp_fail("this loader has Go hooks");
	if (zp_stdio_was_nonblocking())
		return zp_fail("stdio is non-blocking (the Go runtime must start first)");
	return 0;
}

static uint64_t zp_hex(const char **p)
{
	uint64_t v = 0;
	for (;; (*p)++) {
		char c = **p;
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return v;
		v = v << 4 | (uint64_t)d;
	}
}

static uint64_t zp_dec(const char **p)
{
	uint64_t v = 0;
	for (; **p >= '0' && **p <= '9'; (*p)++)
		v = v * 10 + (uint64_t)(**p - '0');
	return v;
}

/* One line of /proc/self/maps. */
struct zp_map {
	uint64_t start, end, offset, ino;
	unsigned major, minor;
	char r, x;
	const char *path; /* NUL-terminated (the line's newline is overwritten) */
};

static int zp_parse_map(char *line, struct zp_map *m)
{
	const char *p = line;
	m->start = zp_hex(&p);
	if (*p++ != '-')
		return -1;
	m->end = zp_hex(&p);
	if (*p++ != ' ' || strlen(p) < 5)
		return -1;
	m->r = p[0], m->x = p[2];
	p += 4;
	if (*p++ != ' ')
		return -1;
	m->offset = zp_hex(&p);
	if (*p++ != ' ')
		return -1;
	m->major = (unsigned)zp_hex(&p);
	if (*p++ != ':')
		return -1;
	m->minor = (unsigned)zp_hex(&p);
	if (*p++ != ' ')
		return -1;
	m->ino = zp_dec(&p);
	while (*p == ' ')
		p++;
	m->path = p;
	return 0;
}

/* FNV-1a, 64-bit: the vDSO's cache key (loader/rewrite.go vdsoKey). */
static uint64_t zp_fnv(const uint8_t *b, uint64_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (uint64_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

struct zp_key {
	uint64_t dev, ino, size, mtime_ns, offset, length;
};

static void zp_put_hex(char **p, uint64_t v)
{
	char t[16];
	int n = 0;
	do
		t[n++] = "0123456789abcdef"[v & 15];
	while (v >>= 4);
	while (n)
		*(*p)++ = t[--n];
}

/* Appends the cached sites of mapping m (key k) to w; -1 if there is no usable entry. */
static int zp_load_cached(struct zp_warm *w, const struct zp_map *m, const struct zp_key *k)
{
	char path[4096 + 128], *p = path;
	size_t dl = strlen(w->dir);
	memcpy(p, w->dir, dl), p += dl, *p++ = '/';
	const uint64_t parts[6] = {k->dev, k->ino, k->size, k->mtime_ns, k->offset, k->length};
	for (int i = 0; i < 6; i++) {
		zp_put_hex(&p, parts[i]);
		*p++ = i < 5 ? '-' : '.';
	}
	memcpy(p, "sites", 6);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return zp_fail("a mapping has no cached sites");
	struct stat st;
	uint8_t *data = MAP_FAILED;
	int ok = fstat(fd, &st) == 0 && zp_trusted(&st) && st.st_size > 0 &&
		 (uint64_t)st.st_size <= ZP_WARM_CACHE_FILE_MAX;
	if (ok)
		data = mmap(0, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (data == MAP_FAILED)
		return zp_fail("a cache file is unreadable or not trusted");
	const uint8_t *q = data, *end = data + st.st_size;
	int r = -1;
	uint32_t count;
	if (end - q < (long)sizeof zp_cache_magic - 1 + 52 || memcmp(q, zp_cache_magic, sizeof zp_cache_magic - 1))
		goto out;
	q += sizeof zp_cache_magic - 1;
	for (int i = 0; i < 6; i++, q += 8)
		if (memcmp(q, &parts[i], 8) != 0)
			goto out;
	memcpy(&count, q, 4);
	q += 4;
	if (w->n + count > ZP_WARM_SITES_MAX)
		goto out;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t addr, start;
		int64_t nr;
		if (end - q < 27)
			goto out;
		memcpy(&addr, q, 8), memcpy(&start, q + 8, 8), memcpy(&nr, q + 16, 8);
		uint8_t insn = q[24], shape = q[25], plen = q[26];
		q += 27;
		/* sitecache.decode's checks */
		if (end - q < plen || addr >= k->length || start > addr || addr - start != plen ||
		    shape > ZP_SHAPE_JUMP || insn > ZP_INSN_SYSENTER || (shape == ZP_SHAPE_JUMP) != (plen > 0) ||
		    plen > ZP_SITE_PREFIX_MAX)
			goto out;
		struct zp_site *s = &w->sites[w->n + i];
		memset(s, 0, sizeof *s);
		s->addr = m->start + addr, s->start = m->start + start, s->nr = nr;
		s->insn = insn, s->shape = shape, s->plen = plen;
		memcpy(s->prefix, q, plen);
		q += plen;
	}
	if (q == end) {
		w->n += count;
		r = 0;
	}
out:
	munmap(data, (size_t)st.st_size);
	return r == 0 ? 0 : zp_fail("a cache file is malformed");
}

/* The loader's own rules (loader/rewrite.go skipReason) for a mapping not to rewrite. */
static int zp_skipped(const struct zp_map *m, const struct zp_map *self)
{
	if (m->ino && m->ino == self->ino && m->major == self->major && m->minor == self->minor)
		return 1; /* the loader itself */
	if (m->start < (1ull << 31) && !*m->path)
		return 1; /* zpoline's own low memory */
	if (!strcmp(m->path, "[vsyscall]"))
		return 1;
	return !*m->path || !strncmp(m->path, "[anon", 5); /* not an ELF image */
}

/* The cache key of an executable mapping (loader/rewrite.go cacheKey, vdsoKey). */
static int zp_key_of(const struct zp_map *m, struct zp_key *k)
{
	uint64_t len = m->end - m->start;
	if (!strcmp(m->path, "[vdso]")) {
		*k = (struct zp_key){0, zp_fnv((const uint8_t *)m->start, len), len, 0, 0, len};
		return 0;
	}
	struct stat st;
	if (m->path[0] != '/' || !m->ino || stat(m->path, &st) != 0 || st.st_ino != m->ino ||
	    major(st.st_dev) != m->major || minor(st.st_dev) != m->minor)
		return zp_fail("a mapping's file is not the one mapped");
	*k = (struct zp_key){st.st_dev, st.st_ino, (uint64_t)st.st_size,
			     (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec,
			     m->offset, len};
	return 0;
}

/* The files whose sites the new-code C path may apply again in a fork child. */
struct zp_warm_file {
	struct zp_key key;
	uint64_t first, n; /* their sites in w->sites */
	uint64_t start;
};

static void zp_register_files(struct zp_warm *w, const struct zp_warm_file *f, uint64_t nf)
{
	uint64_t bytes = (w->n ? w->n : 1) * sizeof(uint32_t);
	uint32_t *rel = mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rel == MAP_FAILED)
		return;
	for (uint64_t i = 0, used = 0; i < nf; i++) {
		uint32_t *r = rel + used;
		uint64_t k = 0;
		for (uint64_t j = 0; j < w->n; j++) {
			uint64_t a = w->sites[j].addr;
			if (a >= f[i].start && a - f[i].start < f[i].key.length)
				r[k++] = (uint32_t)(a - f[i].start);
		}
		used += k;
		zp_newcode_file_add(f[i].key.dev, f[i].key.ino, f[i].key.size, f[i].key.mtime_ns,
				    f[i].key.offset, f[i].key.length, r, k);
	}
}

/* The hook the Go start-up would load first (internal/hooklib.Stages): the library named
   by ZPOLINE_HOOK or LIBZPHOOK, else the default library next to the loader when it
   exists (a missing one is passed over in silence), else the built-in pass-through. */
static int zp_choose_hook(struct zp_warm *w, const struct zp_map *self)
{
	static const char impl[] = "/libzpoline_hook_impl.so";
	struct stat st;
	w->hook[0] = 0;
	if (w->hook_env) {
		if (strcmp(w->hook_env, "builtin:pass") == 0)
			return 0;
		if (strlen(w->hook_env) >= sizeof w->hook)
			return zp_fail("the hook path is too long");
		strcpy(w->hook, w->hook_env);
		return 0;
	}
	const char *slash = strrchr(self->path, '/');
	size_t n = slash ? (size_t)(slash - self->path) : 0;
	if (!slash || n + sizeof impl > sizeof w->hook)
		return zp_fail("the loader's path is unusual");
	memcpy(w->hook, self->path, n);
	memcpy(w->hook + n, impl, sizeof impl);
	if (stat(w->hook, &st) != 0)
		w->hook[0] = 0;
	return 0;
}

static int zp_warm_run(struct zp_warm *w)
{
	struct stat st;
	if (zp_cache_dir(w->dir, sizeof w->dir) != 0 || stat(w->dir, &st) != 0 || !zp_trusted(&st))
		return zp_fail("no trusted cache directory");
	char *maps = mmap(0, ZP_WARM_MAPS_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	w->sites = mmap(0, ZP_WARM_SITES_MAX * sizeof *w->sites, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static struct zp_warm_file files[ZP_WARM_RANGES_MAX];
	uint64_t nfiles = 0;
	int r = -1;
	if (maps == MAP_FAILED || w->sites == MAP_FAILED)
		return zp_fail("out of memory");
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t got = 0;
	while (fd >= 0 && len < ZP_WARM_MAPS_MAX - 1 && (got = read(fd, maps + len, ZP_WARM_MAPS_MAX - 1 - len)) > 0)
		len += (size_t)got;
	if (fd >= 0)
		close(fd);
	if (fd < 0 || got < 0 || len >= ZP_WARM_MAPS_MAX - 1) {
		zp_fail("cannot read /proc/self/maps");
		goto out;
	}
	maps[len] = 0;
	/* The loader's own mapping: the one holding the entry code. */
	struct zp_map self = {0}, m;
	for (char *line = maps, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = 0;
		int hook_err = 0;
		if (zp_parse_map(line, &m) == 0 && m.start <= (uint64_t)zp_entry_call && (uint64_t)zp_entry_call < m.end) {
			self = m;
			hook_err = zp_choose_hook(w, &m); /* while its path is NUL-terminated */
		}
		*nl = '\n';
		if (hook_err)
			goto out;
	}
	if (!self.ino) {
		zp_fail("the loader's own mapping is not in /proc/self/maps");
		goto out;
	}
	for (char *line = maps, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = 0;
		if (zp_parse_map(line, &m) != 0) {
			zp_fail("an unexpected line in /proc/self/maps");
			goto out;
		}
		if (m.x != 'x')
			continue;
		if (m.r == 'r') {
			if (w->nreadable == ZP_WARM_RANGES_MAX) {
				zp_fail("too many executable mappings");
				goto out;
			}
			w->readable[w->nreadable++] = (struct zp_range){m.start, m.end};
		}
		if (zp_skipped(&m, &self))
			continue;
		struct zp_key k;
		uint64_t first = w->n;
		if (m.r != 'r') {
			zp_fail("an execute-only mapping");
			goto out;
		}
		if (zp_key_of(&m, &k) != 0 || zp_load_cached(w, &m, &k) != 0)
			goto out;
		if (m.path[0] == '/' && nfiles < ZP_WARM_RANGES_MAX)
			files[nfiles++] = (struct zp_warm_file){k, first, w->n - first, m.start};
	}
	/* Everything is known: from here on the process changes. */
	w->mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	int pz;
	if (w->mem < 0 || zp_trampoline_map(w->mem, &pz) != 0) {
		if (w->mem >= 0)
			close(w->mem);
		zp_fail("the trampoline could not be mapped here");
		goto out;
	}
	uint8_t *written = (uint8_t *)maps; /* the maps text is no longer needed */
	int err = zp_apply_sites(w->mem, w->sites, w->n, w->readable, w->nreadable, 0, written);
	close(w->mem);
	if (err != 0) {
		char msg[160];
		int n = snprintf(msg, sizeof msg, "zpoline: rewriting the process failed (errno %d)%s\n", -err,
				 zp_env_is("ZPOLINE_ALLOW_UNHOOKED", "1") ? "; running unhooked (ZPOLINE_ALLOW_UNHOOKED=1)"
									 : "; not running the program unhooked (set ZPOLINE_ALLOW_UNHOOKED=1 to allow it)");
		zp_say(msg, n);
		if (!zp_env_is("ZPOLINE_ALLOW_UNHOOKED", "1"))
			_exit(127);
		r = 1;
		goto out;
	}
	zp_register_files(w, files, nfiles);
	r = 1;
out:
	munmap(maps, ZP_WARM_MAPS_MAX);
	if (r != 1 && w->sites != MAP_FAILED)
		munmap(w->sites, ZP_WARM_SITES_MAX * sizeof *w->sites);
	return r;
}

/* Marks the calling thread's calls as the Go runtime's (on) or the program's (off). */
static void zp_mark_runtime_calls(int on)
{
	struct zp_block *b = zp_self();
	if (!b && on) {
		b = zp_block_new();
		if (b)
			zp_block_install(b);
	}
	if (b)
		b->no_go = on ? ZP_BYPASS_GO_RUNTIME : 0;
}

int zp_warm_start(void *newcode_fn)
{
	static struct zp_warm w;
	if (zp_eligible(&w) != 0 || zp_warm_run(&w) != 1) {
		if (zp_env_is("ZPOLINE_WARM", "1")) {
			char msg[200];
			zp_say(msg, snprintf(msg, sizeof msg, "zpoline: no warm start: %s; starting with Go\n",
					     zp_warm_why));
		}
		return 0;
	}
	zp_newcode_go_fn = (int64_t(*)(uint64_t, uint64_t, uint64_t))newcode_fn;
	struct zp_hook_loaded l;
	int hooked = !w.hook[0] || (zp_hook_load_once(w.hook, &l) == ZP_LOAD_OK && zp_hook_install_loaded(&l) == 0);
	zp_warm_library_hook = hooked && w.hook[0];
	if (zp_env_is("ZPOLINE_WARM", "1")) {
		char msg[160];
		zp_say(msg, snprintf(msg, sizeof msg, "zpoline: warm start: %llu sites from the cache%s\n",
				     (unsigned long long)w.n,
				     hooked ? "" : "; the hook library did not load: Go chooses the hook"));
	}
	/* The Go runtime's .init_array entry runs next on this thread: runtime.libpreinit's
	   sigactions and the clone of the runtime's first thread go through libc, rewritten
	   by now. They are the runtime's calls, not the program's (ZPOLINE_REGS_RUNTIME: a
	   tracer leaves them out) until zp_warm_finish. */
	zp_mark_runtime_calls(1);
	return hooked ? 1 : 2; /* 2: zpolineFinishWarm runs the hook stages in Go */
}

/* 1 once the loader's Go package initialisation has run (zp_go_init_done). */
static volatile uint32_t zp_go_inited;

void zp_go_init_done(void)
{
	zp_restore_nofile(); /* the runtime's syscall package has raised it by now */
	__atomic_store_n(&zp_go_inited, 1, __ATOMIC_RELEASE);
	zp_sys3(__NR_futex, (long)&zp_go_inited, 1 /* FUTEX_WAKE */, 0x7fffffff);
}

/* Runs after the process is rewritten and the hook installed: raw system calls only
   (libc's are hooked by now, and a tracer would show them as the program's). */
void zp_warm_finish(int go_finishes)
{
	zp_mark_runtime_calls(0);
	if (go_finishes)
		return;
	zp_restore_signals(); /* what runtime.libpreinit changed */
	while (!__atomic_load_n(&zp_go_inited, __ATOMIC_ACQUIRE))
		zp_sys4(__NR_futex, (long)&zp_go_inited, 0 /* FUTEX_WAIT */, 0, 0);
	zp_go_ready = 1;
	zp_started = 1;
}
