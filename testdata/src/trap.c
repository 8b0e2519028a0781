/*
 * trap.c: __builtin_trap() in "do_trap".
 *
 * Assert on x86_64: one thread; SIGILL (4), si_code ILL_ILLOPN (2), the fault
 * address equals the PC, and the instruction there is "ud2" (0f 0b).
 * On aarch64 GCC emits "brk #0x3e8" and the signal is SIGTRAP (5) instead.
 * Frame "do_trap" at "LINE: trap".
 */
#include <stdio.h>

static volatile int enabled = 1;

__attribute__((noinline, noclone)) void do_trap(void)
{
	if (enabled)
		__builtin_trap(); /* LINE: trap */
	puts("not reached");
}

int main(void)
{
	do_trap(); /* LINE: main_calls */
	return 0;
}
