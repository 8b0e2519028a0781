/* misaligned.c: turns on x86 alignment checking (EFLAGS.AC) and reads 8 bytes at an
   odd address in "load_odd": SIGBUS, BUS_ADRALN. Built by internal/diagnose tests:
   gcc -O0 -g. */
#include <stdio.h>
static char buf[32] __attribute__((aligned(16)));
__attribute__((noinline)) long load_odd(char *p) { return *(volatile long *)(p + 3); }
int main(void)
{
	__asm__ volatile("pushf\n\torl $0x40000, (%rsp)\n\tpopf");
	return (int)load_odd(buf);
}
