/*
 * zp_core.h — declarations shared by the C files of the core and its cgo wrapper.
 */
#ifndef ZP_CORE_H
#define ZP_CORE_H

#include <stdint.h>
#include "zp_layout.h"
#include "../../include/zpoline.h"

/* How the current hook is called. */
enum zp_hook_kind {
	ZP_HOOK_PASS, /* built-in pass-through: the real call, nothing else */
	ZP_HOOK_REGS, /* zpoline-rs ABI or in-application: fn(&regs) */
	ZP_HOOK_ORIG, /* original zpoline ABI: zp_orig_hook_slot(nr, a1..a6) */
	ZP_HOOK_GO,   /* a Go hook in this process's runtime, with a C hook for the rest */
};

/* One installed hook. Never modified after zp_hook_install. */
struct zp_hook {
	int kind;
	uint32_t flags; /* ZPOLINE_HOOK_* */
	zpoline_hook_fn fn;
	struct zpoline_hook_desc desc;
	void (*flush)(void *); /* the hook namespace's fflush, called with NULL at exit */
	/* ZP_HOOK_GO: the exported Go dispatcher, the numbers it wants, and the C hook
	   that serves every other call and every call where Go cannot run. */
	int64_t (*go_fn)(struct zpoline_regs *);
	uint64_t go_want[8]; /* bit n: the Go hook wants number n (0..511) */
	const struct zp_hook *next;
};

extern volatile int zp_go_ready;
extern volatile int zp_started; /* start-up (Go or warm) has finished */
extern volatile int zp_low_mapped;

/* The calling thread's block, or 0 (no block yet, or no low region yet). */
static inline struct zp_block *zp_self(void)
{
	struct zp_block *b;
	if (__builtin_expect(!zp_low_mapped, 0))
		return 0;
	__asm__ volatile("mov %%gs:%c1, %0" : "=r"(b) : "i"(ZP_BLK_SELF));
	return b;
}

/* The calling thread's thread pointer: glibc's TCB keeps its own address at %fs:0x10. */
static inline uint64_t zp_thread_pointer(void)
{
	uint64_t tp;
	__asm__ volatile("mov %%fs:0x10, %0" : "=r"(tp));
	return tp;
}

extern char zp_have_fsgsbase;
extern uint64_t zp_xsave_mask, zp_xsave_size;
extern volatile int zp_in_fork_child;
extern zpoline_orig_hook_fn zp_orig_hook_slot;
extern const struct zpoline_api zp_api;

/* zp_entry_amd64.S */
void zp_entry_call(void);
void zp_entry_jump(void);
void zp_sigreturn_exit(struct zp_frame *f, long release) __attribute__((noreturn));
int64_t zp_clone_raw(const struct zpoline_regs *r, struct zp_block *child);

/* zp_dispatch.c */
int64_t zp_dispatch(struct zp_frame *f);
int64_t zp_syscall_clone(struct zpoline_regs *r);
long zp_orig_next_clone(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
int64_t zp_dispatch_busy(struct zp_frame *f);
void zp_child_start(struct zp_block *b);
struct zp_block *zp_block_new(void);
void zp_block_install(struct zp_block *b);
void zp_vec_init(void);
int zp_site_known(uint64_t ret_minus_2);
int zp_sites_set(const uint64_t *addrs, uint64_t n);
void zp_hook_install(struct zp_hook *h);
void zp_hook_install_base(struct zp_hook *h);
const struct zp_hook *zp_hook_current(void);
void zp_hook_base_add_flags(uint32_t flags);
extern int zp_warm_library_hook; /* zp_warm.c: the warm start installed a library's hook */
long zp_orig_next(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
void zp_bypass_totals(uint64_t out[ZP_BYPASS_MAX + 2]);
int zp_runtime_may_run(const struct zp_block *b);

/* zp_keys.c: thread-specific data for hook code (struct zpoline_api.key_create). */
int zp_key_create(unsigned int *key, void (*destructor)(void *));
int zp_setspecific(unsigned int key, const void *value);
void *zp_getspecific(unsigned int key);
void zp_keys_thread_exit(struct zp_block *b);
void zp_keys_stats(uint64_t out[3]);

/* zp_newcode.c: code made executable after start-up (see there). */

/* mmap, mprotect, munmap, mremap, pkey_mprotect: one shift and test for other numbers < 64. */
#define ZP_NEWCODE_NR(nr)                                                                                   \
	((unsigned)(nr) < 64 ? ((1ull << 9 | 1ull << 10 | 1ull << 11 | 1ull << 25) >> (unsigned)(nr)) & 1 \
			     : (nr) == 329)

struct zp_nc_stats {
	uint64_t events;      /* calls that made memory executable */
	uint64_t write_exec;  /* of which writable and executable at once (not covered later) */
	uint64_t excluded;    /* hook namespaces: never rewritten */
	uint64_t go_ranges, go_sites, go_ns; /* served by the Go path */
	uint64_t worker_ranges, worker_sites, worker_ns; /* by the worker, for a no-Go thread */
	uint64_t c_ranges, c_sites, c_ns;    /* served in C from the file table */
	uint64_t unrewritten; /* Go could not run and the file table did not know the code */
	uint64_t failed;      /* the Go or C path reported an error */
	uint64_t exclude_overflow;
	uint64_t moved_sites; /* rewritten sites carried to a new address by mremap */
};
extern struct zp_nc_stats zp_nc_stats;

/* How an event of the log was served. */
enum { ZP_NC_HOW_GO = 1, ZP_NC_HOW_C_CACHED, ZP_NC_HOW_UNREWRITTEN, ZP_NC_HOW_SKIPPED };
struct zp_nc_event {
	uint64_t start, end, how, sites, ns;
	const char *path; /* NUL-terminated, or 0 */
};
#define ZP_NC_EVENTS_MAX 64
extern struct zp_nc_event zp_nc_events[ZP_NC_EVENTS_MAX];
extern volatile uint32_t zp_nc_events_n;

extern int64_t (*volatile zp_newcode_go_fn)(uint64_t start, uint64_t len, uint64_t why);
extern volatile uint64_t zp_newcode_hookload_tid;
void zp_newcode_after(struct zp_block *b, const struct zp_frame *f, int64_t ret);
int zp_newcode_excluded(uint64_t start, uint64_t end);
int zp_newcode_file_add(uint64_t dev, uint64_t ino, uint64_t size, uint64_t mtime_ns, uint64_t offset,
			uint64_t length, const uint32_t *rel, uint64_t n);
void zp_newcode_log(uint64_t start, uint64_t end, uint64_t how, uint64_t sites, uint64_t ns,
		    const char *path);
char *zp_newcode_stats(char *p, char *end);
void zp_newcode_worker_ready(void);
void zp_newcode_worker_wait(uint64_t *start, uint64_t *len, uint64_t *nr);
void zp_newcode_worker_done(int64_t result);

/* zp_dispatch.c, for zp_newcode.c */
int zp_sites_add(const uint64_t *addrs, uint64_t n);
int zp_go_may_run(const struct zp_block *b);
int64_t zp_go_call3(struct zp_block *b, int64_t (*fn)(uint64_t, uint64_t, uint64_t), uint64_t a0,
		    uint64_t a1, uint64_t a2);

/* zp_sud.c: the Syscall User Dispatch safety net (see there). */
enum { ZP_SUD_OFF, ZP_SUD_AUTO, ZP_SUD_ALWAYS };
extern volatile int zp_sud_live;
extern volatile uint64_t zp_sud_gen;
int zp_sud_call(struct zp_block *b, struct zp_frame *f, int64_t *ret);
void zp_sud_sync(struct zp_block *b);
void zp_sud_code_unvouched(struct zp_block *b);
void zp_sud_wx_mapped(struct zp_block *b, uint64_t start, uint64_t end);
int zp_sud_wx_gone(struct zp_block *b, uint64_t start, uint64_t end);
void zp_sud_child(struct zp_block *b);
void zp_sud_fork_child(void);
char *zp_sud_stats(char *p, char *end);
/* zp_dispatch.c, for zp_sud.c and zp_exec.c: the hook h for f, as zp_dispatch calls it */
int64_t zp_call_hook_outer(const struct zp_hook *h, struct zp_block *b, struct zp_frame *f);
/* zp_newcode.c, for zp_sud.c: rescans [start, start+len) on the Go path */
int64_t zp_newcode_rescan(struct zp_block *b, uint64_t start, uint64_t len);

/* zp_start.c */
void zp_before_exit(const struct zp_hook *h, long status);
long zp_map_fixed(uint64_t addr, uint64_t len, int prot);
void zp_set_stats_text(const char *text, uint64_t len, int fd);
void zp_restore_signals(void);
void zp_restore_nofile(void); /* undoes the Go runtime's raise of RLIMIT_NOFILE */

/* A hook library loaded by zp_hook_load (zp_hookload.c). */
enum zp_load_result {
	ZP_LOAD_OK,
	ZP_LOAD_DLMOPEN,         /* detail: dlerror's text */
	ZP_LOAD_REFUSED_ATTACH,  /* code: what zpoline_hook_attach returned */
	ZP_LOAD_REFUSED_INIT,    /* code: what __hook_init returned */
	ZP_LOAD_NULL_INIT,       /* zpoline_hook_init returned NULL */
	ZP_LOAD_NO_SYMBOL,       /* none of the entry points */
};
enum zp_abi { ZP_ABI_RS = 1, ZP_ABI_ORIG = 2 };
struct zp_hook_loaded {
	int kind, abi; /* ZP_HOOK_*, ZP_ABI_* */
	uint32_t flags;
	void *fn, *flush;
	struct zpoline_hook_desc *desc;
	long code;
	const char *detail;
};
int zp_hook_load(const char *path, struct zp_hook_loaded *out);
/* zp_hook_load for the warm start: a failure is kept and reported by the next
   zp_hook_load of the same path instead of loading it again. */
int zp_hook_load_once(const char *path, struct zp_hook_loaded *out);
int zp_hook_install_loaded(const struct zp_hook_loaded *l);

/* The trampoline's code (zp_trampoline.c). */
#define ZP_TRAMPOLINE_DISPLACEMENTS 512 /* fast-chain rel32 values tried, in order */
struct zp_trampoline {
	uint8_t low[ZP_TRAMP_SIZE]; /* for address 0 */
	uint8_t far[0x1000];        /* for far_addr */
	uint64_t far_addr;          /* page-aligned, below 2 GiB */
	uint64_t fast, slow;        /* far-page addresses the two chains reach */
};
uint32_t zp_trampoline_displacement(unsigned i);
int zp_trampoline_build(uint32_t d1, uint64_t entry, struct zp_trampoline *t);
int zp_trampoline_map(int mem, int *page_zero_errno);

/* A site to rewrite (rewrite.Site in Go; zp_apply.c). */
#define ZP_SITE_PREFIX_MAX 15
#define ZP_INSN_SYSCALL 0  /* rewrite.InsnSyscall */
#define ZP_INSN_SYSENTER 1 /* rewrite.InsnSysenter */
#define ZP_SHAPE_JUMP 1    /* rewrite.ShapeJump; 0 is ShapeCall */
#define ZP_JUMP_LEN 7      /* rewrite.JumpLen: ff 24 25 abs32 */
struct zp_site {
	uint64_t addr;  /* the syscall/sysenter instruction */
	uint64_t start; /* the first byte rewritten: addr - plen */
	int64_t nr;     /* the number of a ShapeJump site's mov, else -1 */
	uint8_t insn, shape, plen, pad;
	uint8_t prefix[ZP_SITE_PREFIX_MAX + 1]; /* the displaced instruction (ShapeJump) */
};
struct zp_range {
	uint64_t start, end;
};
int zp_apply_sites(int mem, struct zp_site *s, uint64_t n, const struct zp_range *readable,
		   uint64_t nreadable, int add, uint8_t *written);
/* After mremap moved [old, old+len) to new_addr: its rewritten sites made to work there.
   Sites carried, or -1. */
int64_t zp_apply_moved(uint64_t old, uint64_t new_addr, uint64_t len);
/* Records that [start, end) holds rewritten sites, for zp_apply_moved (zp_apply.c). */
void zp_note_site_range(uint64_t start, uint64_t end);
/* May [start, end) hold rewritten sites? A few compares (zp_apply.c). */
int zp_sites_maybe_in(uint64_t start, uint64_t end);
int zp_go_signal_table_fix(void);
void zp_restore_stdio_flags(void);
int zp_stdio_was_nonblocking(void);
int zp_warm_start(void *newcode_fn);
void zp_warm_finish(int go_finishes);
void zp_go_init_done(void);
void zp_abort(void) __attribute__((noreturn));

#endif
