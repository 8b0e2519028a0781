/*
 * hang_abba.c: two threads take two pthread mutexes in opposite orders and deadlock
 * (ABBA). Thread A locks mutex_a, then waits for mutex_b at "LINE: a_waits"; thread B
 * locks mutex_b, then waits for mutex_a at "LINE: b_waits". Once both are blocked in
 * futex, main prints the facts and "ready" and joins A (testcore Spec.KillWith then
 * sends the watchdog's signal).
 *
 * Assert (stdout): "mutex_a 0x…", "mutex_b 0x…", "tid_main N", "tid_a N", "tid_b N".
 * The deadlock: A waits for mutex_b held by B, B waits for mutex_a held by A; both
 * mutexes are normal (PTHREAD_MUTEX_INITIALIZER); the cycle is
 * {tid_a -> tid_b, mutex_b, mutex}, {tid_b -> tid_a, mutex_a, mutex} (lowest tid first).
 * Built at -O0 and -O2. The argument "pi", "robust", "recursive" or "errorcheck" makes
 * both mutexes of that kind (priority-inheriting, robust, ...), the kind the report
 * names ("priority-inheriting normal", "robust normal", "recursive", "errorcheck").
 */
#include "hang.h"
#include <pthread.h>
#include <string.h>

static pthread_mutex_t mutex_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mutex_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both;
static volatile int tid_a, tid_b;

__attribute__((noinline)) static void *thread_a(void *arg)
{
	(void)arg;
	tid_a = hang_tid();
	pthread_mutex_lock(&mutex_a);
	pthread_barrier_wait(&both);
	pthread_mutex_lock(&mutex_b); /* LINE: a_waits */
	pthread_mutex_unlock(&mutex_b);
	pthread_mutex_unlock(&mutex_a);
	return NULL;
}

__attribute__((noinline)) static void *thread_b(void *arg)
{
	(void)arg;
	tid_b = hang_tid();
	pthread_mutex_lock(&mutex_b);
	pthread_barrier_wait(&both);
	pthread_mutex_lock(&mutex_a); /* LINE: b_waits */
	pthread_mutex_unlock(&mutex_a);
	pthread_mutex_unlock(&mutex_b);
	return NULL;
}

static void set_kind(const char *kind)
{
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	if (strcmp(kind, "pi") == 0)
		pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
	else if (strcmp(kind, "robust") == 0)
		pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	else if (strcmp(kind, "recursive") == 0)
		pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	else if (strcmp(kind, "errorcheck") == 0)
		pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&mutex_a, &attr);
	pthread_mutex_init(&mutex_b, &attr);
}

int main(int argc, char **argv)
{
	pthread_t a, b;
	if (argc > 1)
		set_kind(argv[1]);
	pthread_barrier_init(&both, NULL, 3);
	pthread_create(&a, NULL, thread_a, NULL);
	pthread_create(&b, NULL, thread_b, NULL);
	pthread_barrier_wait(&both);
	hang_wait_in(tid_a, SYS_futex);
	hang_wait_in(tid_b, SYS_futex);
	printf("mutex_a %p\nmutex_b %p\ntid_main %d\ntid_a %d\ntid_b %d\nready\n",
	       (void *)&mutex_a, (void *)&mutex_b, hang_tid(), tid_a, tid_b);
	fflush(stdout);
	pthread_join(a, NULL);
	return 0;
}
