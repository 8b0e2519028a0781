/*
 * recurse.c: unbounded recursion in "recurse" until the 8 MiB main stack
 * (RLIMIT_STACK) overflows.
 *
 * Assert: one thread; SIGSEGV (11), SEGV_MAPERR or SEGV_ACCERR (the kernel
 * reports the guard gap; x86_64 Debian 12 kernels give SEGV_MAPERR), the
 * fault address lies just below the lowest mapped stack page and within a
 * page of the stack pointer. The stack has tens of thousands of "recurse"
 * frames at "LINE: recurse_call": an unwinder must cap it. Each frame is at
 * least 256 bytes (the local buffer), so depth < 8 MiB / 256 = 32768.
 */
#include <stdio.h>
#include <string.h>

__attribute__((noinline, noclone)) unsigned long recurse(unsigned long depth)
{ /* LINE: recurse_entry */
	volatile char buf[256];

	memset((char *)buf, (int)depth, sizeof buf);
	return recurse(depth + 1) + buf[depth % sizeof buf]; /* LINE: recurse_call */
}

int main(void)
{
	printf("%lu\n", recurse(0)); /* LINE: main_calls_recurse */
	return 0;
}
