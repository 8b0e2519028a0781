/*
 * hang_fork.c: a thread locks a pthread mutex and keeps it; meanwhile main fork()s. The
 * child has only the forking thread, and a copy of the mutex still locked by the
 * holder's tid, which is no thread of the child: the child hangs locking it at
 * "LINE: child_waits" (the logging-after-fork hang). With the argument "robust" the
 * mutex is a robust one (PTHREAD_MUTEX_ROBUST; the owner's tid is in its futex word).
 * The parent waits until the child is blocked in futex, prints the facts and
 * "ready CHILD_PID" (testcore Spec.KillChild), then reaps the child and exits 0.
 *
 * Assert (stdout): "mutex 0x…", "tid_holder N" (the parent's thread holding it),
 * "pid_parent N", "pid_child N". The child's core: orphaned_lock; pid_child waits for
 * mutex (kind "mutex") with owner_tid tid_holder, owner_outside; the mutex kind is
 * "normal", or "robust normal" with "robust".
 */
#include "hang.h"
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static volatile int tid_holder, held;

static void *holder(void *arg)
{
	(void)arg;
	tid_holder = hang_tid();
	pthread_mutex_lock(&mutex);
	held = 1;
	for (;;)
		pause();
	return NULL;
}

__attribute__((noinline)) static void child_main(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pthread_mutex_lock(&mutex); /* LINE: child_waits */
	_exit(0);
}

int main(int argc, char **argv)
{
	pthread_t h;
	if (argc > 1 && strcmp(argv[1], "robust") == 0) {
		pthread_mutexattr_t attr;
		pthread_mutexattr_init(&attr);
		pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
		pthread_mutex_init(&mutex, &attr);
	}
	pthread_create(&h, NULL, holder, NULL);
	while (!held)
		usleep(1000);
	fflush(stdout);
	pid_t child = fork();
	if (child == 0)
		child_main();
	if (child < 0)
		return 2;
	hang_wait_proc(child, SYS_futex);
	printf("mutex %p\ntid_holder %d\npid_parent %d\npid_child %d\nready %d\n",
	       (void *)&mutex, tid_holder, (int)getpid(), (int)child, (int)child);
	fflush(stdout);
	int status;
	while (waitpid(child, &status, 0) < 0)
		;
	return 0;
}
