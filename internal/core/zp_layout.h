/*
 * zp_layout.h — the one description of memory shared by the assembly entry, the C
 * dispatcher and the Go mirror (core/layout.go, checked by layout_test.go).
 *
 * Included from .S files too: only #defines outside the __ASSEMBLER__ block.
 *
 * Low memory (below 2 GiB, so a 32-bit absolute address reaches it):
 *
 *   0x0000-0x0fff  trampoline page: `callq *%rax` lands at offset rax. Offsets 0..0x1ff
 *                  hold a chain of 2-byte jumps (see zp_trampoline.c) that reaches
 *                  offset 0x200 in a few hops; 0x200 holds `jmp rel32` to the far page.
 *                  0x205..0xffa hold a second chain for numbers the kernel does not know,
 *                  ending in a second `jmp rel32`. Read+exec.
 *   0x1000-0x1fff  page 1: a third `jmp rel32` at 0x1000, then zeros. Its zeros are the
 *                  "null block": a thread whose %gs base is 0 reads its per-thread
 *                  fields from here and finds IDLE == 0 and SELF == 0 (no block).
 *   far page       one page about 1 GiB up, the target of the three jumps (chosen at run
 *                  time so that every displacement byte is a harmless prefix): it loads
 *                  the address of zp_entry_call and jumps there.
 *   stub pages     for ShapeJump sites: per-site records [slot: 8 bytes][code], reached by
 *                  `jmp *slot` (ff 24 25 abs32) from the rewritten site.
 */
#ifndef ZP_LAYOUT_H
#define ZP_LAYOUT_H

#define ZP_TRAMP_ADDR 0x0
#define ZP_TRAMP_SIZE 0x2000
#define ZP_FAST_END 0x200   /* offset of the jmp that ends the fast chain (numbers < 512) */
#define ZP_SLOW_END 0xffb   /* offset of the jmp that ends the slow chain */
#define ZP_PAGE1_JMP 0x1000 /* offset of the jmp at the start of page 1 */

/*
 * Per-thread block, addressed through %gs. The %gs base of a thread is
 * (block address - ZP_BLK_BASE), so a thread whose %gs base is 0 reads the null block
 * in page 1 of the trampoline instead.
 */
#define ZP_BLK_BASE 0x1800
#define ZP_BLK_IDLE (ZP_BLK_BASE + 0x00)  /* 1: the hook stack is free; 0: busy or no block */
#define ZP_BLK_FRAME (ZP_BLK_BASE + 0x08) /* the frame at the top of the hook stack */
#define ZP_BLK_SELF (ZP_BLK_BASE + 0x10)  /* the block's own address; 0 in the null block */
#define ZP_BLK_CLAIM_RSP (ZP_BLK_BASE + 0x18) /* application rsp of the call that claimed it */
#define ZP_BLK_CLAIM_FS (ZP_BLK_BASE + 0x20)  /* thread pointer (%fs:0x10) of that call */

/*
 * The frame: every register of the application at the system call. Its first ten
 * fields are struct zpoline_regs (include/zpoline.h).
 */
#define ZP_F_RAX 0x00
#define ZP_F_RDI 0x08
#define ZP_F_RSI 0x10
#define ZP_F_RDX 0x18
#define ZP_F_R10 0x20
#define ZP_F_R8 0x28
#define ZP_F_R9 0x30
#define ZP_F_RET 0x38    /* return address: end of the rewritten site */
#define ZP_F_RSP 0x40    /* application stack pointer at the system call */
#define ZP_F_FLAGS 0x48  /* zpoline_regs.flags */
#define ZP_F_RBX 0x50
#define ZP_F_RBP 0x58
#define ZP_F_R12 0x60
#define ZP_F_R13 0x68
#define ZP_F_R14 0x70
#define ZP_F_R15 0x78
#define ZP_F_RFLAGS 0x80 /* application rflags at the system call */
#define ZP_F_VIA 0x88    /* ZP_VIA_*: how the call arrived */
#define ZP_F_ACTION 0x90 /* set by the C side: ZP_ACT_* */
#define ZP_F_HOOK_FN 0x98    /* ZP_ACT_HOOK: the hook function the entry calls */
#define ZP_F_HOOK_REGS 0xa0  /* ZP_ACT_HOOK: its argument, a struct zpoline_regs copy */
#define ZP_FRAME_SIZE 0xf0

#define ZP_VIA_CALL 1 /* callq *%rax through the trampoline */
#define ZP_VIA_JUMP 2 /* jmp *slot from a ShapeJump site */
#define ZP_VIA_SUD 3  /* a system call trapped by Syscall User Dispatch (zp_sud.c) */

#define ZP_ACT_RETURN 0  /* return rax to the application */
#define ZP_ACT_RETRY 1   /* a block was just installed: enter again from the top */
#define ZP_ACT_SYSCALL 2 /* perform the system call in the frame, then return */
#define ZP_ACT_HOOK 3    /* call hook_fn(&hook_regs), then return what it returns */

/* Offsets inside struct zp_block used by the assembly (checked by _Static_assert). */
#define ZP_BLKOFF_BIRTH 0x40
#define ZP_BLKOFF_NEW_STACK (ZP_BLKOFF_BIRTH + ZP_FRAME_SIZE)
#define ZP_BLKOFF_CHILD_RSP (ZP_BLKOFF_NEW_STACK + 0x08)

/* Syscall User Dispatch (zp_sud.c): the selector byte the kernel reads at every system
   call of an armed thread (0 ALLOW, 1 BLOCK), and 1 while the thread is armed. The entry
   copies SUD_ON into SUD_SEL on its way back to the application; zp_dispatch sets ALLOW. */
#define ZP_BLKOFF_SUD_SEL 0x1f8
#define ZP_BLK_SUD_SEL (ZP_BLK_BASE + ZP_BLKOFF_SUD_SEL)
#define ZP_BLK_SUD_ON (ZP_BLK_BASE + ZP_BLKOFF_SUD_SEL + 1)

/* Size of a hook stack (plus one guard page below it). */
#define ZP_HOOK_STACK_SIZE (256 * 1024)

#ifndef __ASSEMBLER__
#include <stdint.h>

/* The application's registers at a system call; see the ZP_F_* offsets. */
struct zp_frame {
	int64_t rax, rdi, rsi, rdx, r10, r8, r9;
	uint64_t ret, rsp, flags;
	uint64_t rbx, rbp, r12, r13, r14, r15;
	uint64_t rflags, via, action;
	int64_t (*hook_fn)(void *regs);
	uint64_t hook_regs[10];
};

/* Why a call did not reach the hook. */
enum zp_bypass {
	ZP_BYPASS_NESTED,    /* a handler interrupted a nested hook call, or the hook is Go */
	ZP_BYPASS_NOBLOCK,   /* no per-thread block could be made */
	ZP_BYPASS_CLONE,     /* a clone-family call the hook cannot perform safely */
	ZP_BYPASS_SIGRETURN, /* rt_sigreturn through a callq site */
	ZP_BYPASS_GO_FORK,    /* Go hook: fork child (the Go runtime's threads are gone) */
	ZP_BYPASS_GO_VFORK,   /* Go hook: vfork child (shares the parent's memory) */
	ZP_BYPASS_GO_RUNTIME, /* Go hook: a thread of the Go runtime itself */
	ZP_BYPASS_GO_SHARED_TLS, /* Go hook: a clone(CLONE_VM) child without CLONE_SETTLS */
	ZP_BYPASS_GO_EARLY,   /* Go hook: before start-up finished */
	ZP_BYPASS_GO_HANDLER, /* Go hook: inside a signal handler of the program */
	ZP_BYPASS_MAX,
};

/* zp_block.state */
enum {
	ZP_BLOCK_USED,    /* a thread's, or being given to a new thread */
	ZP_BLOCK_FREE,    /* reusable now */
	ZP_BLOCK_EXITING, /* its thread called exit: reusable once tgkill(tid, 0) says ESRCH */
};

/* The per-thread block; lives at %gs base + ZP_BLK_BASE. */
struct zp_block {
	uint64_t idle;            /* ZP_BLK_IDLE */
	struct zp_frame *frame;   /* ZP_BLK_FRAME */
	struct zp_block *self;    /* ZP_BLK_SELF */
	uint64_t claim_rsp;       /* ZP_BLK_CLAIM_RSP */
	uint64_t claim_fs;        /* ZP_BLK_CLAIM_FS */
	uint64_t map_base;        /* the mapping holding guard page, hook stack and block */
	uint64_t map_len;
	uint64_t vfork_child;     /* 1 in the child of a vfork-like clone */
	struct zp_frame birth;    /* a new thread's registers, copied before the clone */
	uint64_t birth_new_stack; /* the clone gave the child a new stack */
	uint64_t child_rsp;       /* the stack pointer the kernel gave the child */
	uint64_t bypass[ZP_BYPASS_MAX];
	uint64_t calls; /* calls that reached the hook on this thread */
	uint64_t state; /* ZP_BLOCK_*: who may reuse it */
	struct zp_frame *cur; /* the frame of the call in progress (the hook's clone source) */
	uint64_t nested;      /* 1 while a nested call runs a hook (uses xsave area 2) */
	uint64_t stale;       /* busy flags reset because the call that set them was left */
	uint64_t no_go;       /* ZP_BYPASS_GO_*: why Go hooks never run on this thread, or 0 */
	uint64_t making_go_thread; /* inside the wrapped pthread_create of the Go runtime */
	uint64_t in_go;       /* a Go hook runs on this thread (on a goroutine stack) */
	uint64_t fork_child;  /* the child of a clone without CLONE_VM, on a new stack */
	uint64_t owner;       /* tid of the thread whose %gs base points here */
	uint64_t owner_fs;    /* that thread's thread pointer (%fs:0x10, glibc's TCB) */
	uint64_t in_handler;  /* depth of the program's signal handlers running (Go hooks) */
	uint64_t tid;   /* ZP_BLOCK_EXITING: the thread that called exit */
	uint8_t sud_sel;      /* ZP_BLK_SUD_SEL: the SUD selector of this thread */
	uint8_t sud_on;       /* ZP_BLK_SUD_ON: SUD is armed on this thread */
	uint8_t sud_app_sys;  /* the program believes SIGSYS is blocked on this thread */
	uint8_t sud_pending;  /* a SIGSYS for the program waits until it unblocks SIGSYS */
	uint8_t sud_pad[4];
	uint64_t sud_gen;     /* zp_sud_gen when this thread last looked at the policy */
	uint64_t sud_info[16]; /* the siginfo of that pending SIGSYS */
	void *hook_keys[8];    /* thread-specific data of hook code (zp_keys.c), per key */
	/* two xsave areas (64-byte aligned, zp_xsave_size each) follow at xsave_off */
	uint64_t xsave_off;
};
#endif

#endif
