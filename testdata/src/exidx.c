/*
 * exidx.c: a recursion that dies in one of three ways, for 32-bit ARM EHABI unwinding.
 * internal/analysis/exidx_test.go builds it with arm-linux-gnueabihf-gcc -funwind-tables
 * (gcc then emits .ARM.exidx and .ARM.extab, and no .eh_frame) and removes .debug_frame,
 * so that EHABI tables are the only unwind information of the program and of libc.
 *
 * main calls recurse(3) at "LINE: main_calls"; recurse(n) calls recurse(n-1) at
 * "LINE: recurse_self" (volatile reads after each call keep every frame at -O2); then:
 *   - no argument: recurse(0) calls leaf at "LINE: call_leaf", which writes through NULL
 *     at "LINE: leaf_write": SIGSEGV, SEGV_MAPERR, fault address 0;
 *   - "abort": recurse(0) calls abort() at "LINE: call_abort": SIGABRT, with libc's
 *     pthread_kill implementation, raise and abort on top of the stack;
 *   - "qsort": recurse(0) calls qsort at "LINE: call_qsort", whose comparator "compare"
 *     writes through NULL at "LINE: compare_write": SIGSEGV at 0, with libc's qsort
 *     frames between compare and recurse.
 * One thread.
 */
#include <stdlib.h>
#include <string.h>

static int *volatile nowhere;
static const char *mode = "";

__attribute__((noinline, noclone)) int leaf(int v)
{
	*nowhere = v; /* LINE: leaf_write */
	return v + 1;
}

static int compare(const void *a, const void *b)
{
	*nowhere = *(const int *)a; /* LINE: compare_write */
	return *(const int *)a - *(const int *)b;
}

__attribute__((noinline, noclone)) int recurse(int n)
{
	volatile int depth = n;

	if (n == 0) {
		if (strcmp(mode, "abort") == 0)
			abort(); /* LINE: call_abort */
		if (strcmp(mode, "qsort") == 0) {
			int v[4] = {3, 1, 2, 0};
			qsort(v, 4, sizeof v[0], compare); /* LINE: call_qsort */
			return v[0] + depth;
		}
		return leaf(n) + depth; /* LINE: call_leaf */
	}
	return recurse(n - 1) + depth; /* LINE: recurse_self */
}

int main(int argc, char **argv)
{
	if (argc > 1)
		mode = argv[1];
	return recurse(3) == 42; /* LINE: main_calls */
}
