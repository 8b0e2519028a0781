/* reraise.c: a crash handler that re-raises, on an alternate signal stack that lies ABOVE
 * the interrupted frames (a buffer in main's frame), so the CFA decreases across the
 * signal frame.
 *
 * Built by internal/unwind tests: gcc -O0 -g reraise.c -o reraise (and -O2
 * -fomit-frame-pointer); run with RLIMIT_CORE raised.
 * Expected stack of the core (gdb agrees): raise internals <- on_segv <- <signal handler
 * called> <- fault_here <- call_fault <- main. The siginfo the kernel saved in the
 * rt_sigframe is the original fault: SIGSEGV (11), SEGV_MAPERR (1), address 0x60; the
 * core's own NT_SIGINFO is the re-raise (SI_TKILL).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

struct S {
	char pad[0x60];
	long field;
};

static struct S *volatile nowhere;

__attribute__((noinline)) void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	raise(sig); /* SA_NODEFER | SA_RESETHAND: the default action, now */
}

__attribute__((noinline)) long fault_here(void)
{
	return nowhere->field;
}

__attribute__((noinline)) long call_fault(void)
{
	return fault_here() + 1;
}

int main(void)
{
	static char spare[1];
	char altstack[256 * 1024];
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
	struct sigaction sa;

	if (sigaltstack(&ss, NULL) != 0)
		return 2;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) != 0)
		return 3;
	spare[0] = (char)call_fault();
	puts(spare);
	return 0;
}
