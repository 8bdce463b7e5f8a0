//! rust-hook — an example hook library in Rust for the zpoline-rs ABI (include/zpoline.h),
//! without crates and without the standard library.
//!
//! What it does: counts every system call by number, makes `getppid` return 27182 without
//! entering the kernel, performs every other call unchanged with the loader's clone-safe
//! `api->syscall`, and at `exit_group` writes one line to stderr:
//!
//! ```text
//! rust-hook: 93 calls; most frequent: nr 257 x24, nr 3 x17, nr 0 x12
//! ```
//!
//! Build (what `make` does) and run:
//!
//! ```text
//! rustc --edition 2021 --crate-type cdylib -O -C panic=abort \
//!     -C no-vectorize-loops -C no-vectorize-slp -C link-arg=-nostartfiles \
//!     -C link-arg=-Wl,-z,defs -o build/examples/libzpoline_rust_hook.so examples/rust-hook/lib.rs
//! ZPOLINE_HOOK=$PWD/build/examples/libzpoline_rust_hook.so \
//!     LD_PRELOAD=$PWD/build/libzpoline.so python3 -c 'import os; print(os.getppid())'
//! 27182
//! rust-hook: ... calls; ...
//! ```
//!
//! The context it runs in: this is hook code. It runs on the loader's per-thread hook
//! stack, in every thread at once, in signal handlers (one level nested), in fork children
//! (only the forking thread exists there) and in vfork children (which share the parent's
//! memory). Hence `#![no_std]`: no allocator, no stdio, no locks, no libc at all (the
//! library has no NEEDED entry and no undefined symbol); the counters are atomics and the
//! summary is formatted into an uninitialised stack buffer and written with one raw
//! `write(2)` through `api->syscall6`. Nothing on the hook path can panic (indexing uses
//! `get`), and the panic handler is a trap.
//!
//! Vector state: it declares `ZPOLINE_HOOK_VECTOR_FREE`. rustc cannot be told to build
//! x86_64-unknown-linux-gnu code without SSE (`-C target-feature=-sse,-sse2` is refused
//! as an ABI violation, a warning today and a hard error in a future release), so the
//! claim is made true by construction and checked on the binary instead: the code is
//! integer-only, buffers are never zero-initialised or copied as a whole (rustc would use
//! SSE stores or call memset for that), vectorisation is off, and no code from `core` that
//! could use SSE is linked in (no formatting, no panics). tests/examples_test.go
//! disassembles the whole library and fails if any x87, MMX, SSE, AVX or AVX-512
//! instruction appears, so a compiler that starts emitting one breaks the test, not the
//! programs it hooks. It declares `ZPOLINE_HOOK_CLONE_SAFE` because it performs every
//! call, the clone family included, with `api->syscall`.
#![no_std]

use core::mem::MaybeUninit;
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering::Relaxed};

/// What getppid returns under this hook.
const MARKER_PPID: i64 = 27182;
/// System call numbers counted one by one; the rest share the last slot.
const NUMBERS: usize = 512;
/// Numbers named in the summary.
const TOP: usize = 3;

const SYS_WRITE: i64 = 1;
const SYS_GETPPID: i64 = 110;
const EINVAL: i32 = 22;

const ZPOLINE_HOOK_VECTOR_FREE: u32 = 0x1;
const ZPOLINE_HOOK_CLONE_SAFE: u32 = 0x2;

/// struct zpoline_regs.
#[repr(C)]
pub struct ZpolineRegs {
    rax: i64,
    rdi: i64,
    rsi: i64,
    rdx: i64,
    r10: i64,
    r8: i64,
    r9: i64,
    ret: u64,
    rsp: u64,
    flags: u64,
}

/// struct zpoline_api.
#[repr(C)]
pub struct ZpolineApi {
    abi_version: u32,
    size: u32,
    syscall: unsafe extern "C" fn(*mut ZpolineRegs) -> i64,
    syscall6: unsafe extern "C" fn(i64, i64, i64, i64, i64, i64, i64) -> i64,
}

/// struct zpoline_hook_desc.
#[repr(C)]
pub struct ZpolineHookDesc {
    size: u32,
    flags: u32,
    on_thread_start: Option<extern "C" fn()>,
    on_fork_child: Option<extern "C" fn()>,
    on_exit: Option<extern "C" fn(i32)>,
}

type HookFn = extern "C" fn(*mut ZpolineRegs) -> i64;

static API: AtomicPtr<ZpolineApi> = AtomicPtr::new(ptr::null_mut());
static COUNTS: [AtomicU64; NUMBERS + 1] = [const { AtomicU64::new(0) }; NUMBERS + 1];

/// The hook: count, emulate getppid, perform everything else.
extern "C" fn rust_hook(r: *mut ZpolineRegs) -> i64 {
    // SAFETY: the loader passes its own valid copy of the registers.
    let nr = unsafe { (*r).rax };
    let slot = if (nr as u64) < NUMBERS as u64 { nr as usize } else { NUMBERS };
    if let Some(c) = COUNTS.get(slot) {
        c.fetch_add(1, Relaxed);
    }
    if nr == SYS_GETPPID {
        return MARKER_PPID; // emulated: the kernel never sees the call
    }
    // SAFETY: API was set in zpoline_hook_attach, which the loader calls before it
    // installs the hook; syscall is the loader's clone-safe real call.
    unsafe { ((*API.load(Relaxed)).syscall)(r) }
}

/// A line formatted on the stack, never initialised as a whole.
struct Line {
    b: [MaybeUninit<u8>; 160],
    n: usize,
}

impl Line {
    fn put(&mut self, s: &[u8]) {
        for &c in s {
            if let Some(x) = self.b.get_mut(self.n) {
                x.write(c);
                self.n += 1;
            }
        }
    }

    fn put_u(&mut self, mut v: u64) {
        let mut tmp: [MaybeUninit<u8>; 20] = [const { MaybeUninit::uninit() }; 20];
        let mut k = 0;
        loop {
            if let Some(x) = tmp.get_mut(k) {
                x.write(b'0' + (v % 10) as u8);
                k += 1;
            }
            v /= 10;
            if v == 0 {
                break;
            }
        }
        while k > 0 {
            k -= 1;
            if let Some(x) = tmp.get(k) {
                // SAFETY: tmp[0..k] were written above.
                self.put(&[unsafe { x.assume_init() }]);
            }
        }
    }
}

/// At exit_group, in the exiting process (possibly a fork or vfork child): the summary.
extern "C" fn rust_hook_exit(_status: i32) {
    let mut total: u64 = 0;
    for c in COUNTS.iter() {
        total = total.wrapping_add(c.load(Relaxed));
    }
    let mut line = Line { b: [const { MaybeUninit::uninit() }; 160], n: 0 };
    line.put(b"rust-hook: ");
    line.put_u(total);
    line.put(b" calls; most frequent:");
    // The TOP largest counts, without a copy of the table: each pass picks the largest
    // count below the previous one (ties go to the lower number).
    let mut prev: Option<(u64, usize)> = None;
    for k in 0..TOP {
        let mut best: Option<(u64, usize)> = None;
        for (i, c) in COUNTS.iter().enumerate().take(NUMBERS) {
            let v = c.load(Relaxed);
            let below_prev = match prev {
                None => true,
                Some((pv, pi)) => v < pv || (v == pv && i > pi),
            };
            let better = match best {
                None => true,
                Some((bv, _)) => v > bv,
            };
            if v > 0 && below_prev && better {
                best = Some((v, i));
            }
        }
        let Some((v, i)) = best else { break };
        line.put(if k == 0 { b" nr " } else { b", nr " });
        line.put_u(i as u64);
        line.put(b" x");
        line.put_u(v);
        prev = best;
    }
    line.put(b"\n");
    let api = API.load(Relaxed);
    // SAFETY: set in zpoline_hook_attach; b[0..n] were written by put.
    unsafe {
        ((*api).syscall6)(SYS_WRITE, 2, line.b.as_ptr() as i64, line.n as i64, 0, 0, 0);
    }
}

/// Declares the hook (vector-free, clone-safe) and asks for the exit notification.
///
/// # Safety
/// Called by the loader with valid pointers.
#[no_mangle]
pub unsafe extern "C" fn zpoline_hook_attach(api: *const ZpolineApi, desc: *mut ZpolineHookDesc) -> i32 {
    let a = &*api;
    let d = &mut *desc;
    if a.abi_version < 1
        || (a.size as usize) < core::mem::size_of::<ZpolineApi>()
        || (d.size as usize) < core::mem::size_of::<ZpolineHookDesc>()
    {
        return -EINVAL; // refuse: the loader falls back to its next stage
    }
    API.store(api as *mut ZpolineApi, Relaxed);
    d.flags = ZPOLINE_HOOK_VECTOR_FREE | ZPOLINE_HOOK_CLONE_SAFE;
    d.on_exit = Some(rust_hook_exit);
    0
}

/// Returns the hook function.
#[no_mangle]
pub extern "C" fn zpoline_hook_init() -> Option<HookFn> {
    Some(rust_hook)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // Unreachable: nothing above can panic. Trap rather than spin.
    // SAFETY: ud2 raises SIGILL and does not return.
    unsafe { core::arch::asm!("ud2", options(noreturn)) }
}
