/*
 * killme.c: prints "ready <pid>" and waits forever in wait_for_signal
 * (pause()), so that another process can kill it (testcore Spec.KillWith).
 *
 * Assert: one thread; the signal is the one sent (e.g. SIGQUIT 3 or
 * SIGSEGV 11), si_code SI_USER (0), sender_pid == the test process pid
 * (Core.SenderPID), sender_uid == the test's uid; no fault address. The
 * stack is pause <- wait_for_signal at "LINE: pause" <- main.
 */
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline, noclone)) void wait_for_signal(void)
{
	for (;;)
		pause(); /* LINE: pause */
}

int main(void)
{
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	wait_for_signal(); /* LINE: main_calls_wait */
	return 0;
}
