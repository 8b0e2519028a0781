/*
 * static.c: a NULL field read at offset 0x60 in a statically linked program
 * (build with -static; no PT_INTERP, no shared libraries, no NT_FILE entry
 * other than the executable itself).
 *
 * Assert: one thread; SIGSEGV, SEGV_MAPERR, fault address 0x60; crashing
 * frame "read_field" at "LINE: read_field" <- main at "LINE: main_calls".
 */
#include <stdio.h>

struct S {
	char pad[0x60];
	int field_at_0x60;
};

static struct S *volatile target;

__attribute__((noinline, noclone)) int read_field(struct S *p)
{
	return p->field_at_0x60; /* LINE: read_field */
}

int main(void)
{
	printf("%d\n", read_field(target)); /* LINE: main_calls */
	return 0;
}
