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
 *
 * With the argument "handler", main first installs a SIGSEGV handler without an
 * alternate stack (no sigaltstack), as many crash handlers are: the kernel cannot write
 * its signal frame on the exhausted stack and kills the thread with SIGSEGV, si_code
 * SI_KERNEL, no address. The handler never runs (it would print "handler ran").
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_segv(int sig)
{
	(void)sig;
	write(2, "handler ran\n", 12);
	_exit(3);
}

__attribute__((noinline, noclone)) unsigned long recurse(unsigned long depth)
{ /* LINE: recurse_entry */
	volatile char buf[256];

	memset((char *)buf, (int)depth, sizeof buf);
	return recurse(depth + 1) + buf[depth % sizeof buf]; /* LINE: recurse_call */
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "handler") == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_segv;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSEGV, &sa, NULL) != 0)
			return 2;
	}
	printf("%lu\n", recurse(0)); /* LINE: main_calls_recurse */
	return 0;
}
