/*
 * hang.h: helpers for the hang crashers (hang_*.c, hang_*.cc): a thread's tid, and a
 * wait until a thread is blocked in a given system call, read from
 * /proc/self/task/TID/syscall (proc(5): the call's number and arguments while it
 * blocks, "running" otherwise), so that "ready" is printed only once every thread
 * is where the test expects it.
 */
#ifndef HANG_H
#define HANG_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

static inline int hang_tid(void) { return (int)syscall(SYS_gettid); }

/* hang_wait_file waits (up to 20 s) until the /proc syscall file at path shows call nr. */
static inline void hang_wait_file(const char *path, int tid, long nr)
{
	char buf[128];
	for (int i = 0; i < 20000; i++) {
		FILE *f = fopen(path, "r");
		if (f != NULL) {
			long got = -1;
			if (fgets(buf, sizeof buf, f) != NULL && sscanf(buf, "%ld", &got) == 1 && got == nr) {
				fclose(f);
				return;
			}
			fclose(f);
		}
		usleep(1000);
	}
	fprintf(stderr, "thread %d never blocked in system call %ld\n", tid, nr);
	exit(3);
}

/* hang_wait_in waits (up to 20 s) until thread tid is blocked in system call nr. */
static inline void hang_wait_in(int tid, long nr)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
	hang_wait_file(path, tid, nr);
}

/* hang_wait_proc waits (up to 20 s) until process pid's main thread is blocked in nr. */
static inline void hang_wait_proc(int pid, long nr)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/syscall", pid);
	hang_wait_file(path, pid, nr);
}
#endif
