/*
 * zp_vector_amd64.S — saving and restoring the application's vector state around a hook
 * that may clobber it (every hook that does not declare ZPOLINE_HOOK_VECTOR_FREE, and
 * Go hooks).
 *
 * Why assembly: the registers themselves are the data; C compiled for the hook path has
 * no vector registers (general-regs-only) and could not name them.
 *
 * Why not xsave: on this machine class xsaveopt+xrstor of the AVX-512 state costs about
 * 150 ns (even SSE+AVX alone ~130 ns), while storing and loading the registers costs
 * ~40 ns for zmm0-31 and k0-7, ~7 ns for ymm0-15. What is saved is exactly what a
 * hook may change under the SysV ABI: every vector register and opmask register
 * (caller-saved), the MXCSR status flags, and (restored only if changed, because
 * ldmxcsr/fldcw are slow) the MXCSR and x87 control words. The x87 data registers are
 * not saved: a hook, like any function, returns with the x87 stack as it found it.
 *
 * Context: the hook path (any thread, signal handlers, fork and vfork children). Each
 * function takes the area in rdi (64-byte aligned, zp_vec_area_size bytes, layout
 * below) and clobbers only rax and the flags.
 */
#define VEC_MXCSR 0   /* MXCSR at the save */
#define VEC_FCW 4     /* x87 control word at the save */
#define VEC_SCRATCH 8 /* what they are at the restore */
#define VEC_K 64      /* k0-7, 8 bytes each */
#define VEC_REGS 128  /* the vector registers, at 64-byte stride */

	.text

/* Reloads MXCSR and the x87 control word where they differ from the saved ones. */
	.type	zp_vec_restore_control, @function
	.p2align 4
zp_vec_restore_control:
	stmxcsr	VEC_SCRATCH(%rdi)
	mov	VEC_SCRATCH(%rdi), %eax
	cmp	VEC_MXCSR(%rdi), %eax
	je	1f
	ldmxcsr	VEC_MXCSR(%rdi)
1:	fnstcw	VEC_SCRATCH(%rdi)
	mov	VEC_SCRATCH(%rdi), %ax
	cmp	VEC_FCW(%rdi), %ax
	je	2f
	fldcw	VEC_FCW(%rdi)
2:	ret
	.size	zp_vec_restore_control, . - zp_vec_restore_control

.macro VEC_FN name
	.globl	\name
	.hidden	\name
	.type	\name, @function
	.p2align 4
\name:
.endm

/* AVX-512 (with AVX512BW for 64-bit opmask moves): zmm0-31, k0-7. */
VEC_FN zp_vec_save_avx512
	.irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vmovdqu64 %zmm\r, VEC_REGS+64*\r(%rdi)
	.endr
	.irp k,0,1,2,3,4,5,6,7
	kmovq	%k\k, VEC_K+8*\k(%rdi)
	.endr
	stmxcsr	VEC_MXCSR(%rdi)
	fnstcw	VEC_FCW(%rdi)
	ret
	.size	zp_vec_save_avx512, . - zp_vec_save_avx512

VEC_FN zp_vec_restore_avx512
	.irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vmovdqu64 VEC_REGS+64*\r(%rdi), %zmm\r
	.endr
	.irp k,0,1,2,3,4,5,6,7
	kmovq	VEC_K+8*\k(%rdi), %k\k
	.endr
	jmp	zp_vec_restore_control
	.size	zp_vec_restore_avx512, . - zp_vec_restore_avx512

/* AVX: ymm0-15 (VEX loads also put back the zero upper state of an AVX-only CPU). */
VEC_FN zp_vec_save_avx
	.irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu	%ymm\r, VEC_REGS+64*\r(%rdi)
	.endr
	stmxcsr	VEC_MXCSR(%rdi)
	fnstcw	VEC_FCW(%rdi)
	ret
	.size	zp_vec_save_avx, . - zp_vec_save_avx

VEC_FN zp_vec_restore_avx
	.irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu	VEC_REGS+64*\r(%rdi), %ymm\r
	.endr
	jmp	zp_vec_restore_control
	.size	zp_vec_restore_avx, . - zp_vec_restore_avx

/* SSE: xmm0-15. */
VEC_FN zp_vec_save_sse
	.irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu	%xmm\r, VEC_REGS+64*\r(%rdi)
	.endr
	stmxcsr	VEC_MXCSR(%rdi)
	fnstcw	VEC_FCW(%rdi)
	ret
	.size	zp_vec_save_sse, . - zp_vec_save_sse

VEC_FN zp_vec_restore_sse
	.irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu	VEC_REGS+64*\r(%rdi), %xmm\r
	.endr
	jmp	zp_vec_restore_control
	.size	zp_vec_restore_sse, . - zp_vec_restore_sse

	.section .note.GNU-stack, "", @progbits
