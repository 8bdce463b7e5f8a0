/*
 * zpoline.h — the C ABI between the zpoline-go loader (libzpoline.so) and hook code.
 *
 * This header is the source of truth for the hook ABI (cgo does not put exports of
 * non-main Go packages into its generated header). It is versioned: a hook library
 * compiled against version N runs under any loader whose ZPOLINE_ABI_VERSION >= N.
 *
 * Three ways to hook, all loaded unmodified:
 *
 *  1. zpoline-rs ABI (hook library, loaded with dlmopen(LM_ID_NEWLM)):
 *         zpoline_hook_fn zpoline_hook_init(void);          preferred
 *         int64_t zpoline_hook_function(struct zpoline_regs *);   used when init is absent
 *  2. original zpoline ABI (hook library, selected with LIBZPHOOK or ZPOLINE_HOOK):
 *         int __hook_init(long placeholder, void *sys_call_hook_ptr);
 *     The library reads the current hook from *(zpoline_orig_hook_fn *)sys_call_hook_ptr,
 *     keeps it as "next", and stores its own hook there.
 *  3. In-application registration: the program calls zpoline_set_hook(fn) (also exported
 *     under zpoline-rs's name __hook_init(fn)) at run time.
 *
 * Optional for libraries of kind 1 or 2: export zpoline_hook_attach(). The loader calls it
 * before the init function with its API table; the library fills in a descriptor that
 * declares what it is (vector-free, clone-safe) and which notifications it wants.
 *
 * Rules for hook code (the loader cannot enforce them; breaking them corrupts the host):
 *  - a hook runs on a private per-thread stack, in any thread, in signal handlers and in
 *    fork and vfork children: format into stack buffers and write with a raw system call;
 *    no stdio, no malloc in code that may run in a fork child;
 *  - perform the real system call with api->syscall (clone-safe); an inline `syscall`
 *    instruction works for every call except the clone family, which the loader then runs
 *    itself without showing it to the hook (see ZPOLINE_HOOK_CLONE_SAFE);
 *  - a hook that never touches SSE/AVX registers may declare ZPOLINE_HOOK_VECTOR_FREE and
 *    skip the loader's save of the vector state (compile it with -mgeneral-regs-only).
 */
#ifndef ZPOLINE_H
#define ZPOLINE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZPOLINE_ABI_VERSION 1

/*
 * The registers of one system call. The first seven fields are binary compatible with
 * zpoline-rs's SyscallRegs; fields after them are zpoline-go additions.
 */
struct zpoline_regs {
	int64_t rax; /* system call number */
	int64_t rdi; /* argument 1 */
	int64_t rsi; /* argument 2 */
	int64_t rdx; /* argument 3 */
	int64_t r10; /* argument 4 */
	int64_t r8;  /* argument 5 */
	int64_t r9;  /* argument 6 */
	/* zpoline-go additions */
	uint64_t ret;   /* address the system call returns to (end of the rewritten site) */
	uint64_t rsp;   /* application stack pointer at the system call */
	uint64_t flags; /* ZPOLINE_REGS_* */
};

/* zpoline_regs.flags */
#define ZPOLINE_REGS_SIGNAL 0x1u /* reserved: set when the call came from a signal handler */
/* The call comes from a thread of the loader's own Go runtime (libc called by runtime/cgo,
   e.g. malloc's arena set-up in a new runtime thread), not from the program. */
#define ZPOLINE_REGS_RUNTIME 0x2u

/* zpoline-rs hook: returns the system call's result (or -errno). */
typedef int64_t (*zpoline_hook_fn)(struct zpoline_regs *regs);

/* original zpoline hook: hook(nr, a1, a2, a3, a4, a5, a6). */
typedef long (*zpoline_orig_hook_fn)(long nr, long a1, long a2, long a3, long a4, long a5,
				     long a6);

/* The loader's API table, passed to zpoline_hook_attach. */
struct zpoline_api {
	uint32_t abi_version; /* ZPOLINE_ABI_VERSION of the loader */
	uint32_t size;        /* sizeof(struct zpoline_api) of the loader */
	/*
	 * Performs the real system call described by regs and returns its result or -errno.
	 * Safe for the clone family: a child with a new stack (thread) or a shared stack
	 * (vfork) resumes directly in the application, never inside the hook.
	 */
	int64_t (*syscall)(struct zpoline_regs *regs);
	/* Same, with the number and arguments as values. */
	long (*syscall6)(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
	/*
	 * The bounds of the calling thread's hook stack (the stack a hook runs on), or 0 and
	 * 0 outside a hook. A language runtime that records its thread's stack (Go's cgo
	 * does, through pthread_getattr_np) can be told these instead of the thread's own.
	 */
	void (*hook_stack)(uint64_t *lo, uint64_t *hi);
	/*
	 * Thread-specific data for hook code, kept by the loader in its own per-thread
	 * block: use these instead of the pthread keys of the hook namespace's libc.
	 *
	 * Why: a program thread that runs hook code keeps the program libc's thread
	 * descriptor (%fs). The namespace libc's pthread_setspecific writes into that
	 * descriptor's slot for *its* key number, which is the same slot as the program
	 * libc's key of that number (both start at 0): the program's data is overwritten,
	 * and at thread exit the program libc hands the hook's value to the program's
	 * destructor, never to the hook's. A Go hook library hangs this way (its runtime's
	 * key collides with the loader's): link it with --wrap=pthread_key_create,
	 * --wrap=pthread_setspecific and --wrap=pthread_getspecific onto these.
	 *
	 * Same signatures and results as the pthread functions (0 or an errno value).
	 * Keys are process-wide, ZPOLINE_KEYS_MAX of them, never deleted. A value belongs
	 * to the calling thread. When a thread ends with exit (not exit_group), the loader
	 * calls the destructor of each key whose value is not NULL (after setting it to
	 * NULL, up to 4 rounds, as pthread does) on the thread's hook stack, before the
	 * thread ends; not where a language runtime may not run (fork and vfork children,
	 * clones sharing their parent's TLS, the loader's own runtime threads, signal
	 * handlers, nested calls): there the value is dropped. Present when
	 * size >= offsetof(struct zpoline_api, getspecific) + sizeof(void *).
	 */
	int (*key_create)(unsigned int *key, void (*destructor)(void *));
	int (*setspecific)(unsigned int key, const void *value);
	void *(*getspecific)(unsigned int key);
};

/* Keys the loader's thread-specific data offers (struct zpoline_api.key_create). */
#define ZPOLINE_KEYS_MAX 8

/* Filled in by the hook library in zpoline_hook_attach. */
struct zpoline_hook_desc {
	uint32_t size;  /* set by the loader: sizeof(struct zpoline_hook_desc) it knows */
	uint32_t flags; /* ZPOLINE_HOOK_* */
	/* Notifications; each may be NULL. They run in the thread or process concerned. */
	void (*on_thread_start)(void); /* first instructions of a new thread (CLONE_VM child) */
	void (*on_fork_child)(void);   /* in a fork child (no CLONE_VM), before it returns */
	void (*on_exit)(int status);   /* exit_group of the process, before it happens */
};

/* zpoline_hook_desc.flags */
#define ZPOLINE_HOOK_VECTOR_FREE 0x1u /* never touches SSE/AVX/x87: skip the vector save */
#define ZPOLINE_HOOK_CLONE_SAFE 0x2u  /* performs calls with api->syscall: show it clone */
/*
 * The hook runs on a language runtime (such as Go) that cannot run in a fork or vfork
 * child, on a clone(CLONE_VM) child without CLONE_SETTLS, or re-entered from a signal
 * handler: the loader performs those calls itself (counted as bypasses), and installs
 * the program's signal handlers with SA_ONSTACK.
 */
#define ZPOLINE_HOOK_RUNTIME 0x4u

/* Optional export of a hook library: 0 on success, -errno to refuse loading. */
typedef int (*zpoline_hook_attach_fn)(const struct zpoline_api *api,
				      struct zpoline_hook_desc *desc);

/* Exported by libzpoline.so for in-application registration; returns the previous hook. */
zpoline_hook_fn zpoline_set_hook(zpoline_hook_fn fn);

/* The loader's clone-safe real system call, for in-application hooks. */
int64_t zpoline_syscall(struct zpoline_regs *regs);

#ifdef __cplusplus
}
#endif

#endif /* ZPOLINE_H */
