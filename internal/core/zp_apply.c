/*
 * zp_apply.c — writing found sites into the process: the jump stubs, the site set, and
 * the patches themselves, through /proc/self/mem.
 *
 * Why C: the warm start (zp_warm.c) applies cached sites in the constructor, before the
 * Go runtime is ready; the Go start-up and the new-code scanner (loader/) call the same
 * function, so the patching protocol exists once.
 *
 * Context: once at start-up on the main thread, and on a program thread that just made
 * code executable (new code). Raw system calls only, no libc, no allocation but raw mmap.
 *
 * The protocol, in order:
 *  1. stubs: every ShapeJump site gets a record in fresh low memory (below 2 GiB, so
 *     `jmp *abs32` reaches its slot): [slot: .quad code][code: the displaced mov,
 *     movabs $site_end,%rcx, jmp *entry_slot]; entry_slot (the stub page's first quad)
 *     holds zp_entry_jump;
 *  2. the site set: every ShapeCall site's address, before any is written, so the
 *     NULL-call check never sees a rewritten site it does not know;
 *  3. the patches: each site's current bytes are compared with what the scan saw
 *     immediately before (a changed site is left alone and reported), and the patches of
 *     the sites on one page go in one write, with the current bytes between them. Pages
 *     without a site are never written (never copied-on-write). Spans holding a clone-
 *     family site are written first: a thread inherits its creator's %gs base, so a
 *     thread made through a clone the loader did not see would share its creator's block
 *     once the creator has one.
 *
 * Code moved by mremap (zp_apply_moved) carries its rewritten sites to the new address:
 * call-shape sites are added to the site set there, jump-shape sites get a stub that
 * returns to the new address and their `jmp *slot` is pointed at it. Where sites are is
 * kept coarsely (zp_site_ranges) so that an mremap of data costs a few compares.
 */
#include <stdint.h>
#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/mman.h>

#include "zp_core.h"
#include "zp_syscall.h"

#define ZP_STUB_RECORD 48     /* bytes per ShapeJump stub: [slot][code] */
#define ZP_STUB_BASE 0x10000ull /* first address tried for the stub pages */

/* Does [a, a+n) lie in one readable range (it can be read directly, not through mem)? */
static int zp_readable(const struct zp_range *r, uint64_t nr, uint64_t a, uint64_t n)
{
	for (uint64_t i = 0; i < nr; i++)
		if (r[i].start <= a && a + n <= r[i].end)
			return 1;
	return 0;
}

static int zp_read(int mem, const struct zp_range *r, uint64_t nr, uint64_t a, void *dst, uint64_t n)
{
	if (zp_readable(r, nr, a, n)) {
		for (uint64_t i = 0; i < n; i++)
			((uint8_t *)dst)[i] = ((const volatile uint8_t *)a)[i];
		return 0;
	}
	return zp_sys4(__NR_pread64, mem, dst, n, a) == (long)n ? 0 : -1;
}

/* Are the site's bytes still what the scan saw: its displaced instruction, then 0f 05/34? */
static int zp_site_intact(int mem, const struct zp_range *r, uint64_t nr, const struct zp_site *s)
{
	uint8_t cur[ZP_SITE_PREFIX_MAX + 2];
	uint64_t n = s->plen + 2u;
	if (s->plen > ZP_SITE_PREFIX_MAX || zp_read(mem, r, nr, s->start, cur, n) != 0)
		return 0;
	for (unsigned i = 0; i < s->plen; i++)
		if (cur[i] != s->prefix[i])
			return 0;
	return cur[s->plen] == 0x0f && cur[s->plen + 1] == (s->insn == ZP_INSN_SYSENTER ? 0x34 : 0x05);
}

static int zp_is_clone_nr(int64_t nr)
{
	return nr == __NR_clone || nr == __NR_clone3 || nr == __NR_fork || nr == __NR_vfork;
}

/* Shell sort by address: sites arrive from the scan or a cache file, mostly in order. */
static void zp_sort_sites(struct zp_site *s, uint64_t n)
{
	static const uint64_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
	for (unsigned g = 0; g < sizeof gaps / sizeof gaps[0]; g++)
		for (uint64_t i = gaps[g]; i < n; i++) {
			struct zp_site t = s[i];
			uint64_t j = i;
			for (; j >= gaps[g] && s[j - gaps[g]].addr > t.addr; j -= gaps[g])
				s[j] = s[j - gaps[g]];
			s[j] = t;
		}
}

/* Maps and fills the stub pages; slot[i] = the slot of the i-th jump site, or 0. */
static int zp_build_stubs(int mem, const struct zp_site *s, uint64_t n, uint64_t *slot)
{
	uint64_t jumps = 0;
	for (uint64_t i = 0; i < n; i++)
		jumps += s[i].shape == ZP_SHAPE_JUMP;
	if (jumps == 0)
		return 0;
	uint64_t size = (16 + ZP_STUB_RECORD * jumps + 4095) & ~4095ull;
	uint64_t base = 0;
	for (uint64_t a = ZP_STUB_BASE; a + size < (1ull << 31); a += 0x100000)
		if (zp_map_fixed(a, size, PROT_READ | PROT_EXEC) == (long)a) {
			base = a;
			break;
		}
	if (base == 0)
		return -ENOSPC;
	long buf = zp_sys6(__NR_mmap, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf < 0 && buf > -4096)
		return (int)buf;
	uint8_t *b = (uint8_t *)buf;
	*(uint64_t *)b = (uint64_t)zp_entry_jump; /* entry_slot */
	uint64_t off = 16;
	for (uint64_t i = 0; i < n; i++) {
		slot[i] = 0;
		if (s[i].shape != ZP_SHAPE_JUMP)
			continue;
		uint8_t *rec = b + off, *c = rec + 8;
		*(uint64_t *)rec = base + off + 8;
		for (unsigned k = 0; k < s[i].plen; k++)
			*c++ = s[i].prefix[k];
		*c++ = 0x48, *c++ = 0xb9; /* movabs $site_end, %rcx */
		*(uint64_t *)c = s[i].addr + 2, c += 8;
		*c++ = 0xff, *c++ = 0x24, *c++ = 0x25; /* jmp *entry_slot */
		*(uint32_t *)c = (uint32_t)base, c += 4;
		slot[i] = base + off;
		off += ZP_STUB_RECORD;
	}
	long w = zp_sys4(__NR_pwrite64, mem, b, size, base);
	zp_sys2(__NR_munmap, buf, size);
	return w == (long)size ? 0 : -EIO;
}

/* The patch for site s (its slot for ShapeJump) into p; its length. */
static unsigned zp_patch(const struct zp_site *s, uint64_t slot, uint8_t *p)
{
	if (s->shape != ZP_SHAPE_JUMP) {
		p[0] = 0xff, p[1] = 0xd0; /* callq *%rax */
		return 2;
	}
	unsigned n = s->plen + 2u;
	p[0] = 0xff, p[1] = 0x24, p[2] = 0x25; /* jmp *slot */
	*(uint32_t *)(p + 3) = (uint32_t)slot;
	for (unsigned i = ZP_JUMP_LEN; i < n; i++)
		p[i] = 0xcc;
	return n;
}

/* One write of the pages' patches: pass 0 writes the spans with a clone-family site,
   pass 1 the others. */
static int zp_write_spans(int mem, const struct zp_range *r, uint64_t nr, const struct zp_site *s,
			  uint64_t n, const uint64_t *slot, const uint8_t *ok, int pass)
{
	uint8_t buf[2 * 4096];
	uint64_t span = 0, len = 0;
	int clone = 0;
	for (uint64_t i = 0; i <= n; i++) {
		if (i < n && !ok[i])
			continue;
		uint64_t end = span + len;
		int joins = i < n && len && s[i].start >= end && s[i].start >> 12 == (end - 1) >> 12 &&
			    (s[i].start - span) + s[i].plen + 2 <= sizeof buf &&
			    zp_read(mem, r, nr, end, buf + len, s[i].start - end) == 0;
		if (!joins) {
			if (len && clone == !pass && zp_sys4(__NR_pwrite64, mem, buf, len, span) != (long)len)
				return -EIO;
			if (i == n)
				break;
			span = s[i].start, len = 0, clone = 0;
		} else {
			len = s[i].start - span;
		}
		len += zp_patch(&s[i], slot[i], buf + len);
		clone |= zp_is_clone_nr(s[i].nr);
	}
	return 0;
}

/* Address ranges holding rewritten sites (sites less than 1 MiB apart share one). */
#define ZP_SITE_RANGES_MAX 1024
#define ZP_SITE_RANGE_GAP (1ull << 20)
static struct zp_range zp_site_ranges[ZP_SITE_RANGES_MAX];
static volatile uint32_t zp_site_ranges_n;
static volatile int zp_site_ranges_full; /* then every moved range is looked at */

/* Records that [a, b) holds rewritten sites. Callers are serialised (start-up, the
   new-code lock); readers take the count with acquire. */
void zp_note_site_range(uint64_t a, uint64_t b)
{
	uint32_t k = zp_site_ranges_n;
	if (k && a < zp_site_ranges[k - 1].end + ZP_SITE_RANGE_GAP && a >= zp_site_ranges[k - 1].start) {
		if (b > zp_site_ranges[k - 1].end)
			__atomic_store_n(&zp_site_ranges[k - 1].end, b, __ATOMIC_RELEASE);
		return;
	}
	if (k == ZP_SITE_RANGES_MAX) {
		zp_site_ranges_full = 1;
		return;
	}
	zp_site_ranges[k] = (struct zp_range){a, b};
	__atomic_store_n(&zp_site_ranges_n, k + 1, __ATOMIC_RELEASE);
}

/* The written sites of s (sorted; written 0: all). */
static void zp_note_site_ranges(const struct zp_site *s, uint64_t n, const uint8_t *written)
{
	for (uint64_t i = 0; i < n; i++)
		if (!written || written[i])
			zp_note_site_range(s[i].start, s[i].addr + 2);
}

int zp_sites_maybe_in(uint64_t start, uint64_t end)
{
	if (zp_site_ranges_full)
		return 1;
	uint32_t n = __atomic_load_n(&zp_site_ranges_n, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < n; i++)
		if (start < __atomic_load_n(&zp_site_ranges[i].end, __ATOMIC_ACQUIRE) && zp_site_ranges[i].start < end)
			return 1;
	return 0;
}

/* Is the `jmp *slot` found at new_start a moved jump-shape site that was at old_start?
   Its stub record says so: [slot: .quad slot+8][the displaced instruction][movabs
   $old_start+plen+2,%rcx][jmp *entry_slot]. Fills site (at new_start) from the record. */
static int zp_moved_jump(int mem, uint32_t slot, uint64_t old_start, uint64_t new_start, struct zp_site *site)
{
	uint8_t rec[8 + ZP_SITE_PREFIX_MAX + 10 + 3];
	if (zp_sys4(__NR_pread64, mem, rec, sizeof rec, slot) != (long)sizeof rec ||
	    *(uint64_t *)rec != (uint64_t)slot + 8)
		return 0;
	const uint8_t *code = rec + 8;
	for (unsigned k = 1; k <= ZP_SITE_PREFIX_MAX; k++) {
		if (code[k] != 0x48 || code[k + 1] != 0xb9 || *(const uint64_t *)(code + k + 2) != old_start + k + 2 ||
		    code[k + 10] != 0xff || code[k + 11] != 0x24 || code[k + 12] != 0x25)
			continue;
		/* insn: not known from the stub, and not needed once a site is rewritten */
		*site = (struct zp_site){.addr = new_start + k, .start = new_start, .nr = -1,
					 .insn = ZP_INSN_SYSCALL, .shape = ZP_SHAPE_JUMP, .plen = (uint8_t)k};
		for (unsigned i = 0; i < k; i++)
			site->prefix[i] = code[i];
		return 1;
	}
	return 0;
}

int64_t zp_apply_moved(uint64_t old, uint64_t new_addr, uint64_t len)
{
	if (old == new_addr || len < 2 || !zp_sites_maybe_in(old, old + len))
		return 0;
	long mem = zp_sys3(__NR_open, "/proc/self/mem", 02 /* O_RDWR */ | 02000000 /* O_CLOEXEC */, 0);
	if (mem < 0)
		return -1;
	/* The moved bytes, and room for what is found in them (at most one site per 2 bytes). */
	uint64_t sites_bytes = (len / 2 + 1) * (sizeof(struct zp_site) + 16);
	long buf = zp_sys6(__NR_mmap, 0, len + sites_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int64_t found = -1;
	if (buf < 0 && buf > -4096)
		goto out;
	uint8_t *b = (uint8_t *)buf;
	struct zp_site *jumps = (struct zp_site *)(b + ((len + 15) & ~15ull));
	uint64_t *calls = (uint64_t *)(jumps + len / 2 + 1), *slot = calls + len / 2 + 1;
	uint64_t nj = 0, nc = 0;
	if (zp_sys4(__NR_pread64, mem, b, len, new_addr) != (long)len)
		goto unmap;
	for (uint64_t i = 0; i + 1 < len; i++) {
		if (b[i] != 0xff)
			continue;
		if (b[i + 1] == 0xd0 && zp_site_known(old + i)) {
			calls[nc++] = new_addr + i;
			i++;
		} else if (b[i + 1] == 0x24 && i + ZP_JUMP_LEN <= len && b[i + 2] == 0x25 &&
			   zp_moved_jump((int)mem, *(uint32_t *)(b + i + 3), old + i, new_addr + i, &jumps[nj])) {
			i += jumps[nj++].plen + 1;
		}
	}
	/* The set first (the NULL-call check must know a site before it is reached at its new
	   address), then the jump sites' new stubs, then their slots. */
	if ((nc && zp_sites_add(calls, nc) != 0) || zp_build_stubs((int)mem, jumps, nj, slot) != 0)
		goto unmap;
	for (uint64_t k = 0; k < nj; k++) {
		uint8_t p[ZP_SITE_PREFIX_MAX + 2];
		unsigned n = zp_patch(&jumps[k], slot[k], p);
		if (zp_sys4(__NR_pwrite64, mem, p, n, jumps[k].start) != (long)n)
			goto unmap;
	}
	zp_note_site_ranges(jumps, nj, 0);
	found = (int64_t)(nc + nj);
unmap:
	zp_sys2(__NR_munmap, buf, len + sites_bytes);
out:
	zp_sys1(__NR_close, mem);
	return found;
}

int zp_apply_sites(int mem, struct zp_site *s, uint64_t n, const struct zp_range *r, uint64_t nr,
		   int add, uint8_t *written)
{
	zp_sort_sites(s, n);
	uint64_t bytes = (n ? n : 1) * 8 * 2;
	long m = zp_sys6(__NR_mmap, 0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m < 0 && m > -4096)
		return (int)m;
	uint64_t *slot = (uint64_t *)m, *calls = slot + n, ncalls = 0;
	int err = zp_build_stubs(mem, s, n, slot);
	if (err == 0) {
		for (uint64_t i = 0; i < n; i++)
			if (s[i].shape != ZP_SHAPE_JUMP)
				calls[ncalls++] = s[i].addr;
		if (add)
			err = ncalls ? zp_sites_add(calls, ncalls) : 0;
		else if (ncalls)
			err = zp_sites_set(calls, ncalls);
		else {
			uint64_t none = ~0ull; /* the set exists, and holds no site */
			err = zp_sites_set(&none, 1);
		}
	}
	if (err == 0) {
		for (uint64_t i = 0; i < n; i++)
			written[i] = (uint8_t)zp_site_intact(mem, r, nr, &s[i]);
		err = zp_write_spans(mem, r, nr, s, n, slot, written, 0);
		if (err == 0)
			err = zp_write_spans(mem, r, nr, s, n, slot, written, 1);
		if (err == 0)
			zp_note_site_ranges(s, n, written);
	}
	zp_sys2(__NR_munmap, m, bytes);
	return err;
}
