/*
 * threads20.c: 20 worker threads blocked in three distinct functions, then a
 * NULL pointer dereference in the main thread.
 *
 * Assert: 21 threads (21 NT_PRSTATUS notes); the crashing thread is main.
 *   - 8 threads in "block_sleep" (sleep/nanosleep) at "LINE: block_sleep"
 *   - 7 threads in "block_cond"  (pthread_cond_wait) at "LINE: block_cond"
 *   - 5 threads in "block_read"  (read on a pipe)     at "LINE: block_read"
 *   so grouping by identical stack gives groups of 8, 7 and 5 plus main.
 *   - main crashes in "crash_main" at "LINE: crash_main": SIGSEGV,
 *     SEGV_MAPERR, fault address 0x0 (a NULL int read).
 *   - stdout: "ready\n" just before the crash.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define NSLEEP 8
#define NCOND 7
#define NREAD 5

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t started;
static int pipefd[2];
static int *volatile nowhere;

__attribute__((noinline, noclone)) void *block_sleep(void *arg)
{
	pthread_barrier_wait(&started);
	for (;;)
		sleep(1000); /* LINE: block_sleep */
	return arg;
}

__attribute__((noinline, noclone)) void *block_cond(void *arg)
{
	pthread_barrier_wait(&started);
	pthread_mutex_lock(&mu);
	for (;;)
		pthread_cond_wait(&cv, &mu); /* LINE: block_cond */
	return arg;
}

__attribute__((noinline, noclone)) void *block_read(void *arg)
{
	char c;

	pthread_barrier_wait(&started);
	for (;;)
		if (read(pipefd[0], &c, 1) <= 0) /* LINE: block_read */
			sleep(1);
	return arg;
}

__attribute__((noinline, noclone)) int crash_main(int *p)
{
	return *p; /* LINE: crash_main */
}

int main(void)
{
	pthread_t t;
	int i;

	if (pipe(pipefd) != 0)
		return 2;
	pthread_barrier_init(&started, NULL, NSLEEP + NCOND + NREAD + 1);
	for (i = 0; i < NSLEEP; i++)
		pthread_create(&t, NULL, block_sleep, NULL);
	for (i = 0; i < NCOND; i++)
		pthread_create(&t, NULL, block_cond, NULL);
	for (i = 0; i < NREAD; i++)
		pthread_create(&t, NULL, block_read, NULL);
	pthread_barrier_wait(&started);
	usleep(300 * 1000);
	printf("ready\n");
	fflush(stdout);
	printf("%d\n", crash_main(nowhere)); /* LINE: main_calls_crash */
	return 0;
}
