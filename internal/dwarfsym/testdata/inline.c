#include <stdio.h>

static int counter;

static inline int helper(int x)
{
	counter += x * 3; /* HELPER_BODY */
	return counter ^ x;
}

__attribute__((noinline)) int outer(int n)
{
	int s = 0;
	for (int i = 0; i < n; i++)
		s += helper(i); /* CALL_SITE */
	return s;
}

static __attribute__((noinline)) int quiet(int v)
{
	return v * 7 + counter; /* QUIET_BODY */
}

int main(int argc, char **argv)
{ /* MAIN_OPEN */
	(void)argv;
	printf("%d\n", outer(argc * 10) + quiet(argc));
	return 0;
}
