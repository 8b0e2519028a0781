/*
 * hang_cxx.cc: C++ std::mutex ABBA (std::mutex sits on pthread_mutex_t: std::mutex::lock
 * -> __gthread_mutex_lock -> pthread_mutex_lock), and a third thread waiting for a
 * std::shared_mutex (a pthread rwlock) that thread A holds exclusively. Thread A locks
 * ma and the shared_mutex sm, then waits for mb at "LINE: a_waits"; thread B locks mb,
 * then waits for ma at "LINE: b_waits"; thread R waits to read sm at "LINE: r_waits".
 *
 * Assert (stdout): "ma 0x…", "mb 0x…", "sm 0x…" (the objects' addresses, which are the
 * pthread objects'), "tid_a N", "tid_b N", "tid_r N", "tid_main N". The deadlock:
 * {tid_a -> tid_b, mb, mutex}, {tid_b -> tid_a, ma, mutex}; R waits (kind "rwlock") for
 * sm written by tid_a.
 */
#include "hang.h"
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <atomic>

static std::mutex ma, mb;
static std::shared_mutex sm;
static std::atomic<int> tid_a, tid_b, tid_r, ready_count;

__attribute__((noinline)) static void thread_a()
{
	tid_a = hang_tid();
	std::lock_guard<std::mutex> ga(ma);
	std::unique_lock<std::shared_mutex> gs(sm);
	ready_count++;
	while (ready_count < 2)
		usleep(1000);
	std::lock_guard<std::mutex> gb(mb); /* LINE: a_waits */
}

__attribute__((noinline)) static void thread_b()
{
	tid_b = hang_tid();
	std::lock_guard<std::mutex> gb(mb);
	ready_count++;
	while (ready_count < 2)
		usleep(1000);
	std::lock_guard<std::mutex> ga(ma); /* LINE: b_waits */
}

__attribute__((noinline)) static void thread_r()
{
	tid_r = hang_tid();
	std::shared_lock<std::shared_mutex> gs(sm); /* LINE: r_waits */
}

int main()
{
	std::thread a(thread_a), b(thread_b);
	while (ready_count < 2 || !tid_a || !tid_b)
		usleep(1000);
	std::thread r(thread_r);
	while (!tid_r)
		usleep(1000);
	hang_wait_in(tid_a, SYS_futex);
	hang_wait_in(tid_b, SYS_futex);
	hang_wait_in(tid_r, SYS_futex);
	printf("ma %p\nmb %p\nsm %p\ntid_a %d\ntid_b %d\ntid_r %d\ntid_main %d\nready\n", (void *)&ma, (void *)&mb,
	       (void *)&sm, tid_a.load(), tid_b.load(), tid_r.load(), hang_tid());
	fflush(stdout);
	a.join();
	return 0;
}
