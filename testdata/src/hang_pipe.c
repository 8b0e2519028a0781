/*
 * hang_pipe.c: a reader thread locks a pthread mutex, then reads from a pipe nobody
 * writes to at "LINE: read"; two worker threads wait for the mutex behind it at
 * "LINE: worker_waits". The root blocker is the reader's read() on the pipe.
 *
 * Assert (stdout): "mutex 0x…", "fd N" (the pipe's read end), "tid_reader N",
 * "tid_worker1 N", "tid_worker2 N", "tid_main N". blocked: root blocker tid_reader,
 * read(fd, …); both workers wait for mutex (kind "mutex") held by tid_reader; main
 * waits in pthread_join for worker1 (kind "thread_join").
 */
#include "hang.h"
#include <pthread.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static int fds[2];
static volatile int tid_reader, tid_worker1, tid_worker2, locked;

static void *reader(void *arg)
{
	char c;
	(void)arg;
	tid_reader = hang_tid();
	pthread_mutex_lock(&mutex);
	locked = 1;
	if (read(fds[0], &c, 1) < 0) /* LINE: read */
		perror("read");
	pthread_mutex_unlock(&mutex);
	return NULL;
}

static void *worker(void *arg)
{
	*(volatile int *)arg = hang_tid();
	pthread_mutex_lock(&mutex); /* LINE: worker_waits */
	pthread_mutex_unlock(&mutex);
	return NULL;
}

int main(void)
{
	pthread_t r, w1, w2;
	if (pipe(fds) != 0)
		return 2;
	pthread_create(&r, NULL, reader, NULL);
	while (!locked)
		usleep(1000);
	pthread_create(&w1, NULL, worker, (void *)&tid_worker1);
	pthread_create(&w2, NULL, worker, (void *)&tid_worker2);
	while (!tid_worker1 || !tid_worker2)
		usleep(1000);
	hang_wait_in(tid_reader, SYS_read);
	hang_wait_in(tid_worker1, SYS_futex);
	hang_wait_in(tid_worker2, SYS_futex);
	printf("mutex %p\nfd %d\ntid_reader %d\ntid_worker1 %d\ntid_worker2 %d\ntid_main %d\nready\n",
	       (void *)&mutex, fds[0], tid_reader, tid_worker1, tid_worker2, hang_tid());
	fflush(stdout);
	pthread_join(w1, NULL);
	return 0;
}
