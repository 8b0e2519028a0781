/*
 * assert.c: a failing assert() in function check_value.
 *
 * Assert: one thread; SIGABRT (6), si_code SI_TKILL; stderr is exactly
 *   "<exe>: <source path>:<LINE: assert>: check_value: Assertion `x == 42' failed.\n"
 * (glibc __assert_fail format; the message is also kept in memory by glibc
 * in __abort_msg). Stack: abort <- __assert_fail <- check_value at
 * "LINE: assert" <- main.
 */
#include <assert.h>
#include <stdio.h>

static volatile int value = 41;

__attribute__((noinline, noclone)) void check_value(int x)
{
	assert(x == 42); /* LINE: assert */
	printf("%d\n", x);
}

int main(void)
{
	check_value(value); /* LINE: main_calls_check_value */
	return 0;
}
