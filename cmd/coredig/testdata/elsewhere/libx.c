/*
 * libx.c: a shared library whose function x_store writes through the NULL
 * pointer it is given. Built by cmd/coredig/elsewhere_test.go as libx.so
 * (gcc -O0 -g -fPIC -shared), its debug info split off with
 * objcopy --only-keep-debug and removed with strip --strip-debug (no
 * .gnu_debuglink), so that only a debuginfod server can give file:line.
 *
 * Assert: frame 0 of the crashing thread is x_store in libx.so, at the line
 * marked "LINE: x_store" (found by the test, never hard-coded).
 */
#include "libx.h"

static int *volatile sink;

void x_store(int *p, int v)
{
	sink = p;
	*sink = v; /* LINE: x_store */
}
