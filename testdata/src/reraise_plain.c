/*
 * reraise_plain.c: a crash handler shaped like Python's faulthandler. It is installed
 * with a plain sa_handler (no SA_SIGINFO), so the kernel does not write the siginfo into
 * the signal frame; on SIGSEGV it restores the default action and re-raises, so the core
 * says SIGSEGV sent by the process itself (SI_TKILL). The original fault is a read of
 * NULL + 0x60 in "deref" at "LINE: deref", called from main.
 *
 * Built with -DNODEFER the handler runs with SA_NODEFER, as faulthandler does: raise()
 * delivers the signal inside the handler, so the core's pc is in raise and the kernel's
 * signal frame on the stack holds the original context. Without it the re-raised signal
 * stays blocked until the handler returns and is delivered at the faulting instruction
 * again, so the core's own registers are the original context.
 *
 * Built with -DKILL the process sends itself SIGSEGV with kill() instead of faulting: the
 * handler's signal frame then holds no fault, and its machine context only a stale trap
 * number, which must not be taken for one.
 *
 * What a test can assert: core signal SIGSEGV / SI_TKILL from the process itself (x86_64;
 * qemu writes no siginfo); the original fault is SIGSEGV at 0x60 in deref.
 * Built by internal/analysis tests for x86_64 and aarch64 (qemu).
 */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct S {
	char pad[0x60];
	long field_at_0x60;
};

static struct S *volatile target;

static void on_fatal(int sig)
{
	signal(sig, SIG_DFL);
	raise(sig);
}

__attribute__((noinline)) long deref(struct S *p)
{
	return p->field_at_0x60; /* LINE: deref */
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fatal;
#ifdef NODEFER
	sa.sa_flags = SA_NODEFER;
#endif
	sigaction(SIGSEGV, &sa, NULL);
#ifdef KILL
	kill(getpid(), SIGSEGV);
#endif
	printf("%ld\n", deref(target));
	return 0;
}
