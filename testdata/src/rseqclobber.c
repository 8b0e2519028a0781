/*
 * rseqclobber.c: overwrites the thread's restartable-sequence area, the struct rseq glibc
 * (2.35 and later) registered with the kernel inside the thread control block at the
 * thread pointer plus __rseq_offset, then sleeps. On the way back from the sleep the
 * kernel's rseq check reads the garbage rseq_cs pointer and kills the thread with
 * SIGSEGV, si_code SI_KERNEL, no address, at an instruction that did not fault.
 * "scribble" writes each word's own address, the pattern of redis's crash memory test,
 * which is how a real redis-server died this way (see internal/analysis/rseq_test.go).
 *
 * With no argument: main scribbles, then "nap" calls usleep. With the argument
 * "handler": a SIGSEGV handler installed as redis installs its own (SA_SIGINFO,
 * SA_NODEFER, SA_RESETHAND) does the scribbling and the nap, and main first writes to a
 * read-only page ("LINE: readonly_write"), so the kernel's SIGSEGV arrives inside the
 * handler of an earlier SEGV_ACCERR.
 *
 * Assert: one thread; SIGSEGV (11), SI_KERNEL (128). stdout is "area 0x... offset N\n"
 * (the area's address and __rseq_offset, printed before the scribbling). The crashing
 * stack holds nap at "LINE: nap" (and, with "handler", on_segv at "LINE: handler_nap",
 * the kernel signal frame, then main at "LINE: readonly_write").
 * Exits 3 when glibc registered no area (__rseq_size 0: a kernel before 4.18, or
 * GLIBC_TUNABLES=glibc.pthread.rseq=0).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <unistd.h>

static struct rseq *area;

__attribute__((noinline, noclone)) void scribble(uint64_t *p, size_t words)
{
	for (size_t i = 0; i < words; i++)
		p[i] = (uint64_t)(uintptr_t)&p[i]; /* LINE: scribble */
}

__attribute__((noinline, noclone)) void nap(void)
{
	usleep(1000); /* LINE: nap */
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	scribble((uint64_t *)area, sizeof *area / 8);
	nap(); /* LINE: handler_nap */
}

int main(int argc, char **argv)
{
	if (__rseq_size == 0) {
		fputs("rseqclobber: glibc registered no rseq area\n", stderr);
		return 3;
	}
	area = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	printf("area %p offset %ld\n", (void *)area, (long)__rseq_offset);
	fflush(stdout);
	if (argc > 1 && strcmp(argv[1], "handler") == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESETHAND;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSEGV, &sa, NULL) != 0)
			return 2;
		volatile char *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED)
			return 2;
		page[0] = 1; /* LINE: readonly_write */
		return 2;
	}
	scribble((uint64_t *)area, sizeof *area / 8);
	nap();
	puts("not reached");
	return 0;
}
