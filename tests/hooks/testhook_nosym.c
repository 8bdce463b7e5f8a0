/*
 * testhook_nosym.c — a shared library that is NOT a hook library
 * (build/tests/testhook_nosym.so): it loads fine with dlmopen but exports none of
 * zpoline_hook_init, zpoline_hook_function, __hook_init.
 *
 * tests/hookload_test.go names it in ZPOLINE_HOOK and checks that the loader prints one
 * line saying "symbol not found" and falls back to the default hook library.
 */
__attribute__((visibility("default"))) int zptest_not_a_hook(int x)
{
	return x + 1;
}
