/*
 * zp_keys.c — thread-specific data for hook code (struct zpoline_api: key_create,
 * setspecific, getspecific), kept in the loader's per-thread block, and the destructors
 * run when a thread ends.
 *
 * Why the loader keeps it, not the hook namespace's libc: a hook library loaded with
 * dlmopen(LM_ID_NEWLM) has a libc of its own, but a program thread that runs hook code
 * keeps the program libc's thread descriptor (%fs points to it). The namespace libc's
 * pthread_setspecific(k) writes into that descriptor's slot k, and key numbers start at
 * 0 in every libc copy, so the slot is also the program libc's key k: the program's
 * value is overwritten, and at thread exit the program libc passes the hook's value to
 * the program's destructor for k (glibc nptl/nptl_deallocate_tsd.c walks its own
 * __pthread_keys over THREAD_SELF->specific). A Go hook library hung exactly so: its
 * runtime's key and the loader's runtime's key were both 0, the loader's runtime ran
 * dropm on the hook runtime's M, and the exiting thread's next call into the hook
 * spun forever on a goroutine in _Gdeadextra.
 *
 * Why C: setspecific and getspecific run on the hook path (Go's cgo binds an M on the
 * first callback of a thread), and the destructors are called by zp_dispatch for the
 * exit system call, on the hook stack, where the loader's Go runtime has no business.
 *
 * Context: zp_key_create, any thread, any time. zp_setspecific and zp_getspecific, the
 * calling thread, inside or outside a hook, signal handlers included. zp_keys_thread_exit,
 * zp_dispatch for __NR_exit, on the hook stack. May call: raw system calls (a block for
 * a thread that has none), and the hook's destructors. No libc, no locks.
 *
 * Invariants: a value lives in the block of the thread that set it (hook_keys) and is
 * reset when the block is reused (zp_block_reuse); a key accepts values only once its
 * destructor is in place (release/acquire on zp_key_ready), and nothing waits for
 * another thread (key_create is safe in a signal handler); keys are never deleted, so a
 * number stays valid for the life of the process.
 */
#pragma GCC target("general-regs-only")

#include <stddef.h>
#include <stdint.h>
#include <linux/errno.h>

#include "zp_core.h"

_Static_assert(sizeof(((struct zp_block *)0)->hook_keys) / sizeof(void *) == ZPOLINE_KEYS_MAX,
	       "one slot per key in every block");

/* pthread's PTHREAD_DESTRUCTOR_ITERATIONS: a destructor may set values again. */
#define ZP_KEY_ROUNDS 4

static void (*zp_key_dtor[ZPOLINE_KEYS_MAX])(void *);
static uint8_t zp_key_ready[ZPOLINE_KEYS_MAX]; /* the destructor is in place (release) */
static uint32_t zp_keys_n; /* numbers handed out (capped at ZPOLINE_KEYS_MAX when read) */
static uint64_t zp_keys_destroyed; /* values given to their destructor at thread exit */
static uint64_t zp_keys_dropped;   /* values left at an exit where the runtime may not run */

int zp_key_create(unsigned int *key, void (*destructor)(void *))
{
	uint32_t k = __atomic_fetch_add(&zp_keys_n, 1, __ATOMIC_RELAXED);
	if (k >= ZPOLINE_KEYS_MAX)
		return EAGAIN;
	zp_key_dtor[k] = destructor;
	__atomic_store_n(&zp_key_ready[k], 1, __ATOMIC_RELEASE);
	*key = k;
	return 0;
}

/* Keys whose number was handed out (their slots may hold values). */
static inline uint32_t zp_keys_count(void)
{
	uint32_t n = __atomic_load_n(&zp_keys_n, __ATOMIC_RELAXED);
	return n < ZPOLINE_KEYS_MAX ? n : ZPOLINE_KEYS_MAX;
}

/* The calling thread's own block, made now if it has none; 0 when none can be made. */
static struct zp_block *zp_keys_block(int make)
{
	struct zp_block *b = zp_self();
	if (b && b->owner_fs == zp_thread_pointer())
		return b;
	/* No block yet, or its creator's (inherited %gs base): the one the thread would get
	   at its next hooked call. */
	if (!make || !zp_low_mapped)
		return 0;
	b = zp_block_new();
	if (b)
		zp_block_install(b);
	return b;
}

int zp_setspecific(unsigned int key, const void *value)
{
	if (key >= ZPOLINE_KEYS_MAX || !__atomic_load_n(&zp_key_ready[key], __ATOMIC_ACQUIRE))
		return EINVAL;
	struct zp_block *b = zp_keys_block(value != 0);
	if (!b)
		return value ? ENOMEM : 0;
	b->hook_keys[key] = (void *)value;
	return 0;
}

void *zp_getspecific(unsigned int key)
{
	if (key >= ZPOLINE_KEYS_MAX)
		return 0;
	struct zp_block *b = zp_keys_block(0);
	return b ? b->hook_keys[key] : 0;
}

/*
 * The thread calls exit: each value that is set goes to its key's destructor, as
 * pthread does at thread exit. Only where a hook's language runtime may run (a Go
 * runtime's dropm is what runs here); elsewhere the values are dropped. The vector
 * registers are not saved: the thread ends with this call.
 */
void zp_keys_thread_exit(struct zp_block *b)
{
	uint32_t n = zp_keys_count();
	if (!n)
		return;
	if (!zp_runtime_may_run(b)) {
		for (uint32_t k = 0; k < n; k++) {
			if (b->hook_keys[k]) {
				b->hook_keys[k] = 0;
				__atomic_fetch_add(&zp_keys_dropped, 1, __ATOMIC_RELAXED);
			}
		}
		return;
	}
	for (int round = 0; round < ZP_KEY_ROUNDS; round++) {
		int called = 0;
		for (uint32_t k = 0; k < n; k++) {
			void *v = b->hook_keys[k];
			if (!v)
				continue;
			b->hook_keys[k] = 0;
			/* A value was set, so its key was ready (acquire pairs with the release). */
			if (__atomic_load_n(&zp_key_ready[k], __ATOMIC_ACQUIRE) && zp_key_dtor[k]) {
				zp_key_dtor[k](v);
				__atomic_fetch_add(&zp_keys_destroyed, 1, __ATOMIC_RELAXED);
				called = 1;
			}
		}
		if (!called)
			return;
	}
}

/* For the statistics: keys made, values destroyed at thread exit, values dropped. */
void zp_keys_stats(uint64_t out[3])
{
	out[0] = zp_keys_count();
	out[1] = __atomic_load_n(&zp_keys_destroyed, __ATOMIC_RELAXED);
	out[2] = __atomic_load_n(&zp_keys_dropped, __ATOMIC_RELAXED);
}
