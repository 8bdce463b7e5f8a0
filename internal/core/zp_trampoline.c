/*
 * zp_trampoline.c — the machine code of the low region (zp_layout.h) and of the far
 * page, and mapping them.
 *
 * Why C: the warm start (zp_warm.c) maps the trampoline in the constructor, before the
 * Go runtime is ready; the Go start-up calls the same code (core.BuildTrampoline, the
 * trampoline tests), so the layout is computed in one place.
 *
 * Context: start-up, once, on the main thread; raw system calls only.
 *
 * `callq *%rax` lands at offset rax of page 0. Every offset 0..4096 must reach
 * zp_entry_call without touching the stack, without changing rax and the argument
 * registers, and quickly for the numbers the kernel knows.
 *
 * Page 0 is two chains of 2-byte forward jumps `eb d`. The displacement d is an even REX
 * byte (0x40, 0x42, ..., 0x4e: REX without the B bit). Entering a pair on its
 * displacement byte executes that byte as a REX prefix of the next pair's jump (or of a
 * NOP in the tail, where REX without B keeps 0x90 a NOP), so entering at either byte
 * continues along the chain. A jump advances up to 80 bytes: the fast chain [0, 0x200)
 * reaches offset 0x200 in at most 7 jumps. Offset 0x200 holds `jmp rel32` whose four
 * displacement bytes are prefixes (segment overrides, at most one REX last), so entering
 * inside it is harmless too; it jumps about 1 GiB up, to the far page, the only place
 * that holds a 64-bit address (movabs $zp_entry_call, %r11; jmp *%r11 — r11 is free, as
 * after a syscall). The slow chain [0x205, 0xffb) serves numbers the kernel does not
 * know and ends in a second `jmp rel32` at 0xffb; page 1 starts with a third at 0x1000.
 */
#include <stdint.h>
#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/mman.h>

#include "zp_core.h"
#include "zp_syscall.h"

#define ZP_PAGE 0x1000
#define ZP_SLOW_START (ZP_FAST_END + 5)
#define ZP_TRANSFER_LEN 13

static int zp_is_segment(uint8_t b)
{
	return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e;
}

static int zp_is_rex_no_b(uint8_t b)
{
	return b >= 0x40 && b <= 0x4e && b % 2 == 0;
}

/* Entered at any of its four bytes, a rel32 displacement is only prefixes of what
   follows: segment overrides, and a REX byte only last (REX must precede the opcode). */
static int zp_harmless_rel32(uint32_t d)
{
	uint8_t b0 = d, b1 = d >> 8, b2 = d >> 16, b3 = d >> 24;
	return zp_is_segment(b0) && zp_is_segment(b1) && zp_is_segment(b2) &&
	       (zp_is_segment(b3) || zp_is_rex_no_b(b3));
}

uint32_t zp_trampoline_displacement(unsigned i)
{
	static const uint8_t seg[4] = {0x3e, 0x36, 0x2e, 0x26};
	static const uint8_t last[8] = {0x3e, 0x36, 0x2e, 0x26, 0x40, 0x44, 0x48, 0x4c};
	return seg[i % 4] | (uint32_t)seg[i / 4 % 4] << 8 | (uint32_t)seg[i / 16 % 4] << 16 |
	       (uint32_t)last[i / 64] << 24;
}

/* Fills code[start, end) (start and end of equal parity) with a jump chain ending at
   end, with a NOP tail where no jump fits. Costs in quarter jumps: a jump is 4, a NOP 1;
   of equal costs the longest jump wins. */
static void zp_chain(uint8_t *code, int start, int end)
{
	static int16_t cost[ZP_PAGE + 1];
	for (int i = 0; i <= end - start; i++)
		cost[i] = -1;
	cost[end - start] = 0;
	for (int p = end - 2; p >= start; p -= 2) {
		int best = -1, best_d = -1;
		for (int d = 0x4e; d >= 0x40; d -= 2) {
			int t = p + 2 + d;
			if (t > end || cost[t - start] < 0)
				continue;
			if (best < 0 || 4 + cost[t - start] < best)
				best = 4 + cost[t - start], best_d = d;
		}
		if (best_d < 0) { /* the tail: NOPs to end */
			code[p] = code[p + 1] = 0x90;
			cost[p - start] = (int16_t)(end - p);
			cost[p + 1 - start] = (int16_t)(end - p - 1);
			continue;
		}
		code[p] = 0xeb, code[p + 1] = (uint8_t)best_d;
		cost[p - start] = (int16_t)best;
	}
}

/* movabs $entry, %r11; jmp *%r11 */
static void zp_transfer(uint8_t *p, uint64_t entry)
{
	static const uint8_t head[2] = {0x49, 0xbb}, tail[3] = {0x41, 0xff, 0xe3};
	p[0] = head[0], p[1] = head[1];
	for (int i = 0; i < 8; i++)
		p[2 + i] = (uint8_t)(entry >> (8 * i));
	p[10] = tail[0], p[11] = tail[1], p[12] = tail[2];
}

static void zp_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int zp_trampoline_build(uint32_t d1, uint64_t entry, struct zp_trampoline *t)
{
	if (!zp_harmless_rel32(d1))
		return -EINVAL;
	uint64_t fast = (uint64_t)ZP_FAST_END + 5 + d1;
	uint64_t far = fast & ~(uint64_t)(ZP_PAGE - 1), off1 = fast - far, off2 = 0;
	/* The slow chain's target: a far-page offset whose rel32 from 0x1000 has only
	   harmless bytes and whose NOP run plus transfer fits beside the first. */
	uint32_t d2 = 0;
	int found = 0;
	for (uint64_t o = 0; o + 5 + ZP_TRANSFER_LEN <= ZP_PAGE && !found; o++) {
		if (o + 5 + ZP_TRANSFER_LEN > off1 && o < off1 + ZP_TRANSFER_LEN)
			continue;
		uint32_t d = (uint32_t)(far + o - ZP_PAGE1_JMP);
		if (zp_harmless_rel32(d))
			d2 = d, off2 = o, found = 1;
	}
	if (!found)
		return -ENOSPC;
	t->far_addr = far, t->fast = far + off1, t->slow = far + off2;
	for (int i = 0; i < ZP_TRAMP_SIZE; i++)
		t->low[i] = 0;
	zp_chain(t->low, 0, ZP_FAST_END);
	t->low[ZP_FAST_END] = 0xe9;
	zp_put32(t->low + ZP_FAST_END + 1, d1);
	zp_chain(t->low, ZP_SLOW_START, ZP_SLOW_END);
	t->low[ZP_SLOW_END] = 0xe9;
	zp_put32(t->low + ZP_SLOW_END + 1, d2);
	/* Page 1: jmp rel32 to the same target + 5 (past the NOPs), then zeros: the null
	   block (zp_layout.h) must read as zero. */
	t->low[ZP_PAGE1_JMP] = 0xe9;
	zp_put32(t->low + ZP_PAGE1_JMP + 1, d2);
	for (int i = 0; i < ZP_PAGE; i++)
		t->far[i] = 0xcc; /* int3 anywhere else */
	zp_transfer(t->far + off1, entry);
	for (int i = 0; i < 5; i++)
		t->far[off2 + i] = 0x90;
	zp_transfer(t->far + off2 + 5, entry);
	return 0;
}

/* Maps anonymous memory at exactly addr, or returns -errno (never another address). */
static long zp_map_exact(uint64_t addr, uint64_t len, int prot)
{
	long r = zp_map_fixed(addr, len, prot);
	if (r >= 0 && (uint64_t)r != addr) { /* a kernel that ignores MAP_FIXED_NOREPLACE */
		zp_sys2(__NR_munmap, r, len);
		return -EEXIST;
	}
	return r < 0 ? r : 0;
}

int zp_trampoline_map(int mem, int *page_zero_errno)
{
	static struct zp_trampoline t;
	*page_zero_errno = 0;
	for (unsigned i = 0; i < ZP_TRAMPOLINE_DISPLACEMENTS; i++) {
		if (zp_trampoline_build(zp_trampoline_displacement(i), (uint64_t)zp_entry_call, &t) != 0)
			continue;
		if (zp_map_exact(t.far_addr, ZP_PAGE, PROT_READ | PROT_EXEC) != 0)
			continue;
		long r = zp_map_exact(0, ZP_TRAMP_SIZE, PROT_READ | PROT_EXEC);
		if (r != 0) {
			zp_sys2(__NR_munmap, t.far_addr, ZP_PAGE);
			*page_zero_errno = (int)-r;
			return (int)r;
		}
		if (zp_sys4(__NR_pwrite64, mem, t.far, ZP_PAGE, t.far_addr) != ZP_PAGE ||
		    zp_sys4(__NR_pwrite64, mem, t.low, ZP_TRAMP_SIZE, 0) != ZP_TRAMP_SIZE)
			return -EIO;
		zp_low_mapped = 1;
		return 0;
	}
	return -ENOSPC;
}
