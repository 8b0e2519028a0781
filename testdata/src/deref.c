/*
 * deref.c: NULL pointer dereference of a struct field at offset 0x60 in the
 * main thread while three worker threads are blocked in distinct functions.
 *
 * Built by internal/testcore (e.g. gcc -O0 -g -pthread, PIE or -no-pie, or
 * aarch64-linux-gnu-gcc). What a test can assert on the core:
 *   - 4 threads (4 NT_PRSTATUS notes); the crashing thread is main.
 *   - signal SIGSEGV (11), si_code SEGV_MAPERR (1), fault address 0x60.
 *   - crashing frame: function "deref" at the line marked "LINE: deref",
 *     called from "main" at "LINE: main_calls_deref".
 *   - the faulting instruction loads from [reg+0x60] where reg == 0.
 *   - worker threads: "worker_sleep" (in nanosleep via sleep),
 *     "worker_wait" (in pthread_cond_wait), "worker_spin" (busy loop, the
 *     top frame is worker_spin itself), each at its "LINE:" marker.
 *   - stdout: "ready\n" is printed just before the crash.
 * Lines are found with testcore.Lines / Core.Line, never hard-coded.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

struct S {
	char pad[0x60];
	long field_at_0x60;
};
_Static_assert(offsetof(struct S, field_at_0x60) == 0x60, "field must be at 0x60");

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t started;
static volatile unsigned long spins;
static volatile int keep_spinning = 1;

/* Read through a volatile so the compiler cannot prove the pointer is NULL
 * and replace the load by a trap. */
static struct S *volatile target;

__attribute__((noinline, noclone)) void *worker_sleep(void *arg)
{
	pthread_barrier_wait(&started);
	for (;;)
		sleep(1000); /* LINE: worker_sleep */
	return arg;
}

__attribute__((noinline, noclone)) void *worker_wait(void *arg)
{
	pthread_mutex_lock(&mu);
	pthread_barrier_wait(&started);
	for (;;)
		pthread_cond_wait(&cv, &mu); /* LINE: worker_wait */
	return arg;
}

__attribute__((noinline, noclone)) void *worker_spin(void *arg)
{
	pthread_barrier_wait(&started);
	while (keep_spinning)
		spins++; /* LINE: worker_spin */
	return arg;
}

__attribute__((noinline, noclone)) long deref(struct S *p)
{
	return p->field_at_0x60; /* LINE: deref */
}

int main(void)
{
	pthread_t t[3];

	pthread_barrier_init(&started, NULL, 4);
	pthread_create(&t[0], NULL, worker_sleep, NULL);
	pthread_create(&t[1], NULL, worker_wait, NULL);
	pthread_create(&t[2], NULL, worker_spin, NULL);
	pthread_barrier_wait(&started);
	usleep(200 * 1000); /* let the workers reach their blocking calls */
	printf("ready\n");
	fflush(stdout);
	printf("%ld\n", deref(target)); /* LINE: main_calls_deref */
	return 0;
}
