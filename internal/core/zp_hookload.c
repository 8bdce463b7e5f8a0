/*
 * zp_hookload.c — loading one hook library into a link-map namespace of its own
 * (dlmopen(LM_ID_NEWLM)) and reading its entry points: zpoline_hook_attach (optional),
 * then zpoline_hook_init, zpoline_hook_function or __hook_init — the ABI is chosen by
 * what the library exports, in that order.
 *
 * Why C: the warm start (zp_warm.c) loads the hook before the Go runtime is ready;
 * internal/hooklib (the fallback stages, their messages, the typed errors) loads through
 * the same function (core.LoadHookLibrary).
 *
 * Context: start-up, on the main thread: libc may be called. What the namespace maps
 * meanwhile is excluded from rewriting for good (zp_newcode_hookload_tid).
 *
 * A library that failed to load in the warm start is not loaded a second time when the
 * Go start-up then runs the fallback stages: its constructors would run twice. The
 * first attempt's result is reported again (zp_hook_load_once).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "zp_core.h"

static int zp_hook_load_now(const char *path, struct zp_hook_loaded *out);

static struct {
	char path[4096];
	char detail[512];
	int result; /* ZP_LOAD_*, 0 = no failed attempt kept */
	struct zp_hook_loaded l;
} zp_hook_failed;

int zp_hook_load(const char *path, struct zp_hook_loaded *out)
{
	if (zp_hook_failed.result && strcmp(path, zp_hook_failed.path) == 0) {
		int r = zp_hook_failed.result;
		*out = zp_hook_failed.l;
		zp_hook_failed.result = 0; /* reported once */
		return r;
	}
	return zp_hook_load_now(path, out);
}

int zp_hook_load_once(const char *path, struct zp_hook_loaded *out)
{
	int r = zp_hook_load_now(path, out);
	size_t n = strlen(path);
	if (r == ZP_LOAD_OK || n >= sizeof zp_hook_failed.path)
		return r;
	memcpy(zp_hook_failed.path, path, n + 1);
	zp_hook_failed.l = *out;
	if (out->detail) { /* dlerror's buffer does not last */
		strncpy(zp_hook_failed.detail, out->detail, sizeof zp_hook_failed.detail - 1);
		zp_hook_failed.l.detail = zp_hook_failed.detail;
	}
	zp_hook_failed.result = r;
	return r;
}

static int zp_hook_load_call(const char *path, struct zp_hook_loaded *out)
{
	memset(out, 0, sizeof *out);
	zp_newcode_hookload_tid = (uint64_t)syscall(SYS_gettid);
	void *h = dlmopen(LM_ID_NEWLM, path, RTLD_NOW | RTLD_LOCAL);
	zp_newcode_hookload_tid = 0;
	if (!h) {
		const char *e = dlerror();
		out->detail = e ? e : "unknown error";
		return ZP_LOAD_DLMOPEN;
	}
	/* The descriptor outlives this call: the installed hook copies it. */
	struct zpoline_hook_desc *desc = calloc(1, sizeof *desc);
	if (!desc) {
		out->detail = "out of memory";
		return ZP_LOAD_DLMOPEN;
	}
	desc->size = sizeof *desc;
	out->desc = desc;
	void *attach = dlsym(h, "zpoline_hook_attach");
	if (attach) {
		out->code = ((zpoline_hook_attach_fn)attach)(&zp_api, desc);
		if (out->code != 0)
			return ZP_LOAD_REFUSED_ATTACH;
	}
	out->flags = desc->flags;
	out->flush = dlsym(h, "fflush");
	void *init = dlsym(h, "zpoline_hook_init"), *fn = dlsym(h, "zpoline_hook_function");
	void *orig = dlsym(h, "__hook_init");
	if (init) {
		out->kind = ZP_HOOK_REGS, out->abi = ZP_ABI_RS;
		out->fn = (void *)((zpoline_hook_fn(*)(void))init)();
		return out->fn ? ZP_LOAD_OK : ZP_LOAD_NULL_INIT;
	}
	if (fn) {
		out->kind = ZP_HOOK_REGS, out->abi = ZP_ABI_RS, out->fn = fn;
		return ZP_LOAD_OK;
	}
	if (orig) {
		out->kind = ZP_HOOK_ORIG, out->abi = ZP_ABI_ORIG;
		out->code = ((int (*)(long, void *))orig)(0, &zp_orig_hook_slot);
		return out->code == 0 ? ZP_LOAD_OK : ZP_LOAD_REFUSED_INIT;
	}
	return ZP_LOAD_NO_SYMBOL;
}

/* A hook library with a Go runtime of its own raises RLIMIT_NOFILE as the loader's did;
   its exported functions return only once that runtime has started. */
static int zp_hook_load_now(const char *path, struct zp_hook_loaded *out)
{
	int r = zp_hook_load_call(path, out);
	zp_restore_nofile();
	return r;
}

int zp_hook_install_loaded(const struct zp_hook_loaded *l)
{
	struct zp_hook *zh = calloc(1, sizeof *zh);
	if (!zh)
		return -1;
	zh->kind = l->kind;
	zh->flags = l->flags;
	zh->fn = (zpoline_hook_fn)l->fn;
	zh->flush = (void (*)(void *))l->flush;
	if (l->desc)
		zh->desc = *l->desc;
	zp_hook_install_base(zh);
	return 0;
}
