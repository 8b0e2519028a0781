#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
static volatile int started;
static void *spin(void *a) { __sync_fetch_and_add(&started, 1); for (;;) { volatile int x = 0; for (int i = 0; i < 1000000; i++) x += i; } return 0; }
static void *sleeper(void *a) { __sync_fetch_and_add(&started, 1); for (;;) sleep(100); return 0; }
static void waiter(void) { pause(); }
int main(void) {
  pthread_t t1, t2, t3;
  pthread_create(&t1, 0, spin, 0);
  pthread_create(&t2, 0, sleeper, 0);
  pthread_create(&t3, 0, sleeper, 0);
  while (started < 3) usleep(1000);
  usleep(100000); /* let the sleepers get into sleep */
  printf("ready\n"); fflush(stdout);
  waiter();
  return 0;
}
