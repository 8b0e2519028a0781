/*
 * rodata.c: writes to a string literal in .rodata from "shout".
 *
 * Assert: one thread; SIGSEGV (11), si_code SEGV_ACCERR (2), fault address ==
 * the address of the literal "hello, read-only world" (inside a read-only
 * PT_LOAD mapping of the executable, a mapping with r-- permissions).
 * Frame "shout" at "LINE: write" <- main.
 */
#include <stdio.h>

static char *volatile msg = (char *)"hello, read-only world";

__attribute__((noinline, noclone)) void shout(char *s)
{
	s[0] = 'H'; /* LINE: write */
}

int main(void)
{
	shout(msg); /* LINE: main_calls */
	puts(msg);
	return 0;
}
