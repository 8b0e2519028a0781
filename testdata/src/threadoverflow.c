/* threadoverflow.c: unbounded recursion of "descend" in a thread with a 256 KiB stack
   runs into the thread's PROT_NONE guard page: SIGSEGV (SEGV_ACCERR), fault address in
   the guard mapping just below the thread's stack. gcc -O0 -g -pthread. */
#include <pthread.h>
#include <string.h>
__attribute__((noinline)) unsigned long descend(unsigned long d)
{
	volatile char pad[512];
	memset((char *)pad, (int)d, sizeof pad);
	return descend(d + 1) + pad[d % sizeof pad];
}
static void *run(void *arg) { return (void *)descend((unsigned long)arg); }
int main(void)
{
	pthread_attr_t a;
	pthread_t t;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 256 * 1024);
	pthread_create(&t, &a, run, 0);
	pthread_join(t, 0);
	return 0;
}
