/*
 * zp_entry_amd64.S — the entry of every rewritten system call, and the clone child's
 * first instructions.
 *
 * Why assembly: these instructions run with the application's exact register and stack
 * state: nothing may be written below the application's stack pointer (the red zone can
 * hold live data at a `mov $nr,%eax; syscall` site), the arithmetic flags must be saved
 * before any compare, and a clone child starts here with a stack it does not own yet.
 *
 * Context: any application thread, signal handlers, fork and vfork children, threads whose
 * %gs base is still 0. No Go runs here; the C called from here (zp_dispatch.c) follows the
 * hook-path rules (raw system calls only, no libc, no locks).
 *
 * Register contract, as for the kernel's `syscall`:
 *   in:  rax = number; rdi, rsi, rdx, r10, r8, r9 = arguments
 *   out: rax = result; rcx = return address; r11 = the application's rflags;
 *        every other register and the flags keep their values.
 * Arrival:
 *   zp_entry_call  from the trampoline (callq *%rax): [rsp] = return address, so the
 *                  callq itself wrote -8(%rsp) of the application;
 *   zp_entry_jump  from a ShapeJump stub: rcx = return address; nothing was written to
 *                  the application's stack, and nothing is written below its rsp here.
 *
 * Per-thread state is the block at %gs base + ZP_BLK_BASE (zp_layout.h). Claiming it
 * (IDLE: 1 -> 0) is a plain load and store, not an atomic exchange: only a signal
 * handler on the same thread can interleave, and a handler that runs between the load
 * and the store uses and releases the whole hook stack before this code writes to it.
 * A handler that arrives after the store finds IDLE == 0 and takes the busy path.
 * There, a call is nested if it runs on the hook stack, on the alternate signal stack,
 * inside a Go hook, or below CLAIM_RSP (a handler that interrupted us before we left
 * the application's stack runs below it); otherwise the busy call was left for good
 * (a handler longjmp'ed out of it) and the block is freed again (zp_dispatch.c).
 */
#include <asm/unistd.h>

#include "zp_layout.h"

	.text

/* PROLOGUE via: r11 = return address; claim the block or go to the busy path. */
.macro PROLOGUE via, busy
	mov	%gs:ZP_BLK_IDLE, %rcx	/* 0 in the null block (no block) and while busy */
	jrcxz	\busy			/* jrcxz: the only test that leaves the flags alone */
	mov	%rsp, %gs:ZP_BLK_CLAIM_RSP	/* tells a handler interrupting us that it is nested */
	mov	%fs:0x10, %rcx		/* and which thread claims the block (glibc's TCB) */
	mov	%rcx, %gs:ZP_BLK_CLAIM_FS
	movq	$0, %gs:ZP_BLK_IDLE
	mov	%gs:ZP_BLK_FRAME, %rcx	/* the frame at the top of this thread's hook stack */
	mov	%rsp, ZP_F_RSP(%rcx)
	mov	%rcx, %rsp
	movq	$\via, ZP_F_VIA(%rsp)
	jmp	zp_entry_main
.endm

/* BUSY via: a nested call (signal handler inside a hook) or a thread without a block. */
.macro BUSY via
	lea	-128(%rsp), %rsp	/* step over the red zone before writing anything */
	pushfq
	push	%r11
	push	$\via
	jmp	zp_entry_busy
.endm

	.globl	zp_entry_call
	.hidden	zp_entry_call
	.type	zp_entry_call, @function
	.p2align 4
zp_entry_call:
	pop	%r11			/* return address pushed by callq *%rax */
	PROLOGUE ZP_VIA_CALL, .Lbusy_call
.Lbusy_call:
	BUSY ZP_VIA_CALL
	.size	zp_entry_call, . - zp_entry_call

	.globl	zp_entry_jump
	.hidden	zp_entry_jump
	.type	zp_entry_jump, @function
	.p2align 4
zp_entry_jump:
	mov	%rcx, %r11		/* the stub put the return address in rcx */
	PROLOGUE ZP_VIA_JUMP, .Lbusy_jump
.Lbusy_jump:
	BUSY ZP_VIA_JUMP
	.size	zp_entry_jump, . - zp_entry_jump

/* zp_entry_sud: a call trapped by Syscall User Dispatch; zp_sud.c's SIGSYS handler
   resumes the thread here with rcx = return address, as a jump stub would. */
	.globl	zp_entry_sud
	.hidden	zp_entry_sud
	.type	zp_entry_sud, @function
	.p2align 4
zp_entry_sud:
	mov	%rcx, %r11
	PROLOGUE ZP_VIA_SUD, .Lbusy_sud
.Lbusy_sud:
	BUSY ZP_VIA_SUD
	.size	zp_entry_sud, . - zp_entry_sud

/*
 * On the hook stack: rsp = frame (16-byte aligned), r11 = return address, the
 * application's registers and flags untouched.
 */
	.type	zp_entry_main, @function
	.p2align 4
zp_entry_main:
	mov	%r11, ZP_F_RET(%rsp)
	pushfq
	popq	%r11
	mov	%r11, ZP_F_RFLAGS(%rsp)
	mov	%rax, ZP_F_RAX(%rsp)
	mov	%rdi, ZP_F_RDI(%rsp)
	mov	%rsi, ZP_F_RSI(%rsp)
	mov	%rdx, ZP_F_RDX(%rsp)
	mov	%r10, ZP_F_R10(%rsp)
	mov	%r8, ZP_F_R8(%rsp)
	mov	%r9, ZP_F_R9(%rsp)
	mov	%rbx, ZP_F_RBX(%rsp)
	mov	%rbp, ZP_F_RBP(%rsp)
	mov	%r12, ZP_F_R12(%rsp)
	mov	%r13, ZP_F_R13(%rsp)
	mov	%r14, ZP_F_R14(%rsp)
	mov	%r15, ZP_F_R15(%rsp)
	movq	$0, ZP_F_FLAGS(%rsp)
	movq	$0, ZP_F_ACTION(%rsp)
	mov	%rsp, %rdi
	cld
	call	zp_dispatch		/* rax = result; callee-saved registers preserved */
	mov	ZP_F_ACTION(%rsp), %rcx
	test	%rcx, %rcx
	jnz	.Laction
.Lreload:
	mov	ZP_F_RDI(%rsp), %rdi
	mov	ZP_F_RSI(%rsp), %rsi
	mov	ZP_F_RDX(%rsp), %rdx
	mov	ZP_F_R10(%rsp), %r10
	mov	ZP_F_R8(%rsp), %r8
	mov	ZP_F_R9(%rsp), %r9
	/* The block was another thread's: the thread now has its own; enter again. */
	cmpq	$ZP_ACT_RETRY, ZP_F_ACTION(%rsp)
	je	.Lretry
.Lleave:
	movzbl	%gs:ZP_BLK_SUD_ON, %r11d	/* SUD selector: BLOCK if armed (zp_sud.c) */
	movb	%r11b, %gs:ZP_BLK_SUD_SEL
	mov	ZP_F_RFLAGS(%rsp), %r11
	pushq	%r11
	popfq
	mov	ZP_F_RET(%rsp), %rcx
	mov	ZP_F_RSP(%rsp), %rsp	/* leave the hook stack first ... */
	movq	$1, %gs:ZP_BLK_IDLE	/* ... then release it (see the file comment) */
	jmp	*%rcx

/*
 * What zp_dispatch left to do here, so that no `ret` runs between the kernel's return
 * and the application (zp_call_hook_last in zp_dispatch.c says why).
 */
.Laction:
	cmp	$ZP_ACT_SYSCALL, %rcx
	jne	1f
	mov	ZP_F_RAX(%rsp), %rax
	mov	ZP_F_RDI(%rsp), %rdi
	mov	ZP_F_RSI(%rsp), %rsi
	mov	ZP_F_RDX(%rsp), %rdx
	mov	ZP_F_R10(%rsp), %r10
	mov	ZP_F_R8(%rsp), %r8
	mov	ZP_F_R9(%rsp), %r9
	syscall				/* keeps rdi..r9: they hold the application's values */
	jmp	.Lleave
1:	cmp	$ZP_ACT_HOOK, %rcx
	jne	.Lreload		/* ZP_ACT_RETRY */
	lea	ZP_F_HOOK_REGS(%rsp), %rdi
	call	*ZP_F_HOOK_FN(%rsp)	/* rsp is the 16-byte aligned frame, as for zp_dispatch */
	movq	$ZP_ACT_RETURN, ZP_F_ACTION(%rsp)
	jmp	.Lreload
	.size	zp_entry_main, . - zp_entry_main

/*
 * int64_t zpoline_syscall(struct zpoline_regs *r) — the hook API's system call
 * (include/zpoline.h). The clone family goes to zp_syscall_clone (same numbers as
 * zp_is_clone in zp_dispatch.c). It returns with `pop; jmp *`, not `ret`: a `ret` right
 * after the kernel's return is mispredicted (see .Laction), an indirect jump to the
 * same caller is not.
 */
	.globl	zpoline_syscall
	.type	zpoline_syscall, @function
	.p2align 4
zpoline_syscall:
	mov	ZP_F_RAX(%rdi), %rax
	cmp	$__NR_clone, %eax	/* the kernel reads the number as an int */
	je	1f
	cmp	$__NR_fork, %eax
	je	1f
	cmp	$__NR_vfork, %eax
	je	1f
	cmp	$__NR_clone3, %eax
	je	1f
	mov	ZP_F_RSI(%rdi), %rsi
	mov	ZP_F_RDX(%rdi), %rdx
	mov	ZP_F_R10(%rdi), %r10
	mov	ZP_F_R8(%rdi), %r8
	mov	ZP_F_R9(%rdi), %r9
	mov	ZP_F_RDI(%rdi), %rdi
	syscall
	pop	%rcx
	jmp	*%rcx
1:	jmp	zp_syscall_clone
	.size	zpoline_syscall, . - zpoline_syscall

/*
 * long zp_orig_next(long nr, long a1, ..., long a6) — the original ABI's next_sys_call
 * and the API's syscall6: zpoline_syscall with the arguments in registers (a6 on the
 * stack). The clone family goes to zp_orig_next_clone.
 */
	.globl	zp_orig_next
	.hidden	zp_orig_next
	.type	zp_orig_next, @function
	.p2align 4
zp_orig_next:
	cmp	$__NR_clone, %edi
	je	1f
	cmp	$__NR_fork, %edi
	je	1f
	cmp	$__NR_vfork, %edi
	je	1f
	cmp	$__NR_clone3, %edi
	je	1f
	mov	%rdi, %rax
	mov	%rsi, %rdi
	mov	%rdx, %rsi
	mov	%rcx, %rdx
	mov	%r8, %r10
	mov	%r9, %r8
	mov	8(%rsp), %r9
	syscall
	pop	%rcx
	jmp	*%rcx
1:	jmp	zp_orig_next_clone
	.size	zp_orig_next, . - zp_orig_next

/*
 * Busy path, on the current stack 128 bytes below the application's rsp:
 * [rsp] = via, [rsp+8] = return address, [rsp+16] = rflags; application rsp = rsp+152.
 */
	.type	zp_entry_busy, @function
	.p2align 4
zp_entry_busy:
	mov	%rsp, %r11
	and	$-16, %rsp
	sub	$ZP_FRAME_SIZE, %rsp
	mov	%rax, ZP_F_RAX(%rsp)
	mov	%rdi, ZP_F_RDI(%rsp)
	mov	%rsi, ZP_F_RSI(%rsp)
	mov	%rdx, ZP_F_RDX(%rsp)
	mov	%r10, ZP_F_R10(%rsp)
	mov	%r8, ZP_F_R8(%rsp)
	mov	%r9, ZP_F_R9(%rsp)
	mov	%rbx, ZP_F_RBX(%rsp)
	mov	%rbp, ZP_F_RBP(%rsp)
	mov	%r12, ZP_F_R12(%rsp)
	mov	%r13, ZP_F_R13(%rsp)
	mov	%r14, ZP_F_R14(%rsp)
	mov	%r15, ZP_F_R15(%rsp)
	mov	(%r11), %rcx
	mov	%rcx, ZP_F_VIA(%rsp)
	mov	8(%r11), %rcx
	mov	%rcx, ZP_F_RET(%rsp)
	mov	16(%r11), %rcx
	mov	%rcx, ZP_F_RFLAGS(%rsp)
	lea	152(%r11), %rcx
	mov	%rcx, ZP_F_RSP(%rsp)
	movq	$0, ZP_F_FLAGS(%rsp)
	movq	$0, ZP_F_ACTION(%rsp)
	mov	%rsp, %rdi
	cld
	call	zp_dispatch_busy
	mov	ZP_F_RDI(%rsp), %rdi
	mov	ZP_F_RSI(%rsp), %rsi
	mov	ZP_F_RDX(%rsp), %rdx
	mov	ZP_F_R10(%rsp), %r10
	mov	ZP_F_R8(%rsp), %r8
	mov	ZP_F_R9(%rsp), %r9
	cmpq	$ZP_ACT_RETRY, ZP_F_ACTION(%rsp)
	je	.Lretry
	mov	ZP_F_RFLAGS(%rsp), %r11
	pushq	%r11
	popfq
	mov	ZP_F_RET(%rsp), %rcx
	mov	ZP_F_RSP(%rsp), %rsp
	jmp	*%rcx
.Lretry:
	/* A block was installed: enter again as the call first arrived. */
	cmpq	$ZP_VIA_CALL, ZP_F_VIA(%rsp)
	mov	ZP_F_RAX(%rsp), %rax
	mov	ZP_F_RFLAGS(%rsp), %r11
	mov	ZP_F_RET(%rsp), %rcx
	je	1f
	pushq	%r11
	popfq
	mov	ZP_F_RSP(%rsp), %rsp
	jmp	zp_entry_jump
1:	pushq	%r11
	popfq
	mov	ZP_F_RSP(%rsp), %rsp
	push	%rcx			/* rewrites the same value the callq wrote */
	jmp	zp_entry_call
	.size	zp_entry_busy, . - zp_entry_busy

/*
 * void zp_sigreturn_exit(struct zp_frame *f, long release) — noreturn.
 * rt_sigreturn must run with the stack pointer the signal frame expects.
 */
	.globl	zp_sigreturn_exit
	.hidden	zp_sigreturn_exit
	.type	zp_sigreturn_exit, @function
zp_sigreturn_exit:
	mov	ZP_F_RSP(%rdi), %rsp
	test	%rsi, %rsi
	jz	1f
	movzbl	%gs:ZP_BLK_SUD_ON, %eax	/* SUD selector: BLOCK if armed (zp_sud.c) */
	movb	%al, %gs:ZP_BLK_SUD_SEL
	movq	$1, %gs:ZP_BLK_IDLE
1:	mov	$15, %eax
	syscall
	ud2
	.size	zp_sigreturn_exit, . - zp_sigreturn_exit

/*
 * long zp_clone_raw(const struct zpoline_regs *r, struct zp_block *child)
 *
 * Performs a clone-family call whose child must not return through C: a thread (new
 * stack) or a vfork-like child (shares this stack). The parent returns the result like
 * a C function. The child:
 *   1. records the stack pointer the kernel gave it, installs its own block as %gs base
 *      (wrgsbase, or arch_prctl(ARCH_SET_GS) without FSGSBASE);
 *   2. runs zp_child_start(child) on its own hook stack;
 *   3. restores the application's registers from child->birth and resumes the
 *      application at the return address with rax = 0, on the kernel-given stack for a
 *      new-stack clone, else on the application's stack pointer.
 * Clobbers (parent): rax, rcx, r11 and the argument registers, as a C call may.
 */
	.globl	zp_clone_raw
	.hidden	zp_clone_raw
	.type	zp_clone_raw, @function
zp_clone_raw:
	push	%rbx
	push	%r12
	mov	%rdi, %rbx
	mov	%rsi, %r12
	mov	ZP_F_RAX(%rbx), %rax
	mov	ZP_F_RDI(%rbx), %rdi
	mov	ZP_F_RSI(%rbx), %rsi
	mov	ZP_F_RDX(%rbx), %rdx
	mov	ZP_F_R10(%rbx), %r10
	mov	ZP_F_R8(%rbx), %r8
	mov	ZP_F_R9(%rbx), %r9
	syscall
	test	%rax, %rax
	jz	.Lchild
	pop	%r12
	pop	%rbx
	ret
.Lchild:
	mov	%rsp, ZP_BLKOFF_CHILD_RSP(%r12)
	lea	-ZP_BLK_BASE(%r12), %rsi
	cmpb	$0, zp_have_fsgsbase(%rip)
	je	1f
	wrgsbase %rsi
	jmp	2f
1:	mov	$158, %eax		/* arch_prctl(ARCH_SET_GS, base) */
	mov	$0x1001, %edi
	syscall
2:	mov	%gs:ZP_BLK_FRAME, %rsp	/* our own hook stack */
	mov	%r12, %rdi
	call	zp_child_start
	lea	ZP_BLKOFF_BIRTH(%r12), %rcx
	cmpq	$0, ZP_BLKOFF_NEW_STACK(%r12)
	je	3f
	mov	ZP_BLKOFF_CHILD_RSP(%r12), %rsp
	jmp	4f
3:	mov	ZP_F_RSP(%rcx), %rsp
4:	mov	ZP_F_RDI(%rcx), %rdi
	mov	ZP_F_RSI(%rcx), %rsi
	mov	ZP_F_RDX(%rcx), %rdx
	mov	ZP_F_R10(%rcx), %r10
	mov	ZP_F_R8(%rcx), %r8
	mov	ZP_F_R9(%rcx), %r9
	mov	ZP_F_RBX(%rcx), %rbx
	mov	ZP_F_RBP(%rcx), %rbp
	mov	ZP_F_R12(%rcx), %r12
	mov	ZP_F_R13(%rcx), %r13
	mov	ZP_F_R14(%rcx), %r14
	mov	ZP_F_R15(%rcx), %r15
	mov	ZP_F_RFLAGS(%rcx), %r11
	pushq	%r11			/* below the child's rsp: the child owns that memory */
	popfq
	movq	$1, %gs:ZP_BLK_IDLE
	mov	$0, %eax
	mov	ZP_F_RET(%rcx), %rcx
	jmp	*%rcx
	.size	zp_clone_raw, . - zp_clone_raw

/* The restorer of zp_segv: rt_sigreturn on the signal frame (SA_RESTORER). */
	.globl	zp_sigreturn_trampoline
	.hidden	zp_sigreturn_trampoline
	.type	zp_sigreturn_trampoline, @function
zp_sigreturn_trampoline:
	mov	$15, %eax
	syscall
	ud2
	.size	zp_sigreturn_trampoline, . - zp_sigreturn_trampoline

	.section .note.GNU-stack, "", @progbits
