/*
 * hang_exited.c: a thread locks a pthread mutex and exits without unlocking it; main
 * then waits for the mutex forever at "LINE: main_waits" (an orphaned lock: the owner
 * tid recorded in the mutex is no thread of the process any more).
 *
 * Assert (stdout): "mutex 0x…", "tid_main N", "tid_owner N" (the exited thread).
 * orphaned_lock: tid_main waits for mutex (kind "mutex") whose owner_tid is tid_owner,
 * owner_outside.
 */
#include "hang.h"
#include <pthread.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static int tid_owner;

static void *owner(void *arg)
{
	(void)arg;
	tid_owner = hang_tid();
	pthread_mutex_lock(&mutex);
	return NULL; /* exits holding the mutex */
}

__attribute__((noinline)) static void take(void)
{
	pthread_mutex_lock(&mutex); /* LINE: main_waits */
}

static void *announce(void *arg)
{
	int main_tid = (int)(long)arg;
	hang_wait_in(main_tid, SYS_futex);
	printf("mutex %p\ntid_main %d\ntid_owner %d\nready\n", (void *)&mutex, main_tid, tid_owner);
	fflush(stdout);
	return NULL;
}

int main(void)
{
	pthread_t t, n;
	pthread_create(&t, NULL, owner, NULL);
	pthread_join(t, NULL);
	pthread_create(&n, NULL, announce, (void *)(long)hang_tid());
	pthread_detach(n);
	take();
	return 0;
}
