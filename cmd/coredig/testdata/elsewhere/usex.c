/*
 * usex.c: calls x_store from libx.so with a NULL pointer (SIGSEGV,
 * SEGV_MAPERR at address 0x0). Built by cmd/coredig/elsewhere_test.go with
 * -L. -lx and an $ORIGIN rpath.
 *
 * Assert: frame 0 is x_store (libx.so), frame 1 is main in this program.
 */
#include <stdio.h>

#include "libx.h"

int main(void)
{
	puts("ready");
	fflush(stdout);
	x_store(NULL, 42);
	return 0;
}
