/*
 * divzero.c: integer division by zero (x86_64 only: aarch64 sdiv returns 0
 * and does not trap).
 *
 * Assert: one thread; SIGFPE (8), si_code FPE_INTDIV (1), the fault address
 * (si_addr) equals the PC of the idiv instruction in "divide" at
 * "LINE: divide".
 */
#include <stdio.h>

static volatile int zero;

__attribute__((noinline, noclone)) int divide(int a, int b)
{
	return a / b; /* LINE: divide */
}

int main(void)
{
	printf("%d\n", divide(42, zero)); /* LINE: main_calls */
	return 0;
}
