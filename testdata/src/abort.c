/*
 * abort.c: calls abort() from a non-inlined function.
 *
 * Assert: one thread; signal SIGABRT (6), si_code SI_TKILL (-6) with
 * sender_pid == the process's own pid; the stack contains "abort" (libc),
 * "do_abort" at "LINE: do_abort", and "main" at "LINE: main_calls_do_abort".
 */
#include <stdlib.h>

__attribute__((noinline, noclone)) void do_abort(int why)
{
	if (why != 0)
		abort(); /* LINE: do_abort */
}

int main(int argc, char **argv)
{
	(void)argv;
	do_abort(argc); /* LINE: main_calls_do_abort */
	return 0;
}
