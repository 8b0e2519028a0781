/*
 * wildcall.c: a call through a NULL function pointer from "call_it".
 *
 * Assert on x86_64: one thread; SIGSEGV, SEGV_MAPERR, fault address 0x0 and
 * PC == 0x0: the frame at PC 0 has no module; the return address at [rsp]
 * points into "call_it" just after the call at "LINE: call". An unwinder
 * should recover call_it <- main from the return address on the stack.
 * (aarch64: PC == 0 and the return address is in x30/LR.)
 */
#include <stdio.h>

typedef void (*fn_t)(void);
static volatile fn_t callback;

__attribute__((noinline, noclone)) void call_it(void)
{
	callback(); /* LINE: call */
	puts("not reached");
}

int main(void)
{
	call_it(); /* LINE: main_calls */
	return 0;
}
