/*
 * heapcorrupt.c: double free of a small (tcache-sized) block.
 *
 * Assert (glibc >= 2.29 with tcache, e.g. Debian 12 glibc 2.36): one thread;
 * SIGABRT (6), SI_TKILL; stderr is exactly
 *   "free(): double free detected in tcache 2\n"
 * and glibc keeps the same text in memory (__abort_msg). Stack: abort <-
 * __libc_message <- malloc_printerr <- _int_free <- free <- "release" at
 * "LINE: second_free" <- main.
 */
#include <stdlib.h>
#include <string.h>

static void *volatile keep;

__attribute__((noinline, noclone)) void release(void *p)
{
	free(p); /* LINE: second_free */
}

int main(void)
{
	char *p = malloc(32);

	memset(p, 'x', 32);
	keep = p;
	free(keep); /* LINE: first_free */
	release(keep);
	return 0;
}
