/*
 * sighandler.c: a SIGUSR1 handler ("on_usr1"; -DHANDLER_FLAGS=SA_SIGINFO installs it
 * with SA_SIGINFO) writes through a NULL pointer; "send_usr1" raises SIGUSR1.
 * Assert: one thread; SIGSEGV (11), SEGV_MAPERR, fault address 0x0 (a write). Stack:
 * on_usr1 at "LINE: null_write" <- the kernel signal frame (__restore_rt on x86_64,
 * found_by "signal_frame") <- raise/pthread_kill (libc) <- send_usr1 at "LINE: raise" <- main.
 * -DVIA_ALARM installs it for SIGALRM instead (with SA_SIGINFO, its siginfo is on the stack), and main waits in pause() for alarm(1). */
#ifndef HANDLER_FLAGS
#define HANDLER_FLAGS 0
#endif
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int *volatile nowhere;

__attribute__((noinline, noclone)) void on_usr1(int sig)
{
	*nowhere = sig; /* LINE: null_write */
}

__attribute__((noinline, noclone)) void send_usr1(void)
{
	raise(SIGUSR1); /* LINE: raise */
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1; /* sa_sigaction with SA_SIGINFO: the same union, one argument used */
	sa.sa_flags = HANDLER_FLAGS;
	sigemptyset(&sa.sa_mask);
#ifdef VIA_ALARM
	/* The kernel sends SIGALRM with si_code SI_KERNEL, a positive code like a fault's. */
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		return 2;
	alarm(1);
	pause();
#else
	if (sigaction(SIGUSR1, &sa, NULL) != 0)
		return 2;
	send_usr1(); /* LINE: main_calls_send */
#endif
	puts("not reached");
	return 0;
}
