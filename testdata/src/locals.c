/*
 * locals.c: a crash with variables of many C types in scope, for the frame-locals view:
 * fill() writes through a NULL pointer in "LINE: null_store" with its parameters and
 * locals live, called from main, whose own locals differ.
 *
 * Assert: one thread; SIGSEGV (11), SEGV_MAPERR, fault address 0x0 in fill, called
 * from main. gdb's "info args" and "info locals" in each frame agree with coredig's
 * values. Build: gcc -O0 -g -o locals locals.c
 */
#include <stdbool.h>
#include <stddef.h>

enum color { RED, GREEN = 5, BLUE };

struct point {
	int x, y;
};

static int counter = 41;

static int twice(int v)
{
	return 2 * v;
}

__attribute__((noinline)) int fill(int *out, const char *label, unsigned long n, enum color c)
{
	char ch = 'Q';
	short neg = -7;
	float ratio = 0.5f;
	double big = 1e10;
	bool ok = true;
	struct point pt = {3, 4};
	int (*fn)(int) = twice;
	static long calls = 12;
	calls++;
	counter++;
	*out = fn(ch) + neg + (int)ratio + (int)big + ok + pt.x + (int)n + (int)c + (int)calls; /* LINE: null_store */
	return *out;
}

int main(int argc, char **argv)
{
	int *volatile sink = NULL;
	long depth = 3;
	(void)argv;
	return fill(sink, "hello", 99UL + (unsigned long)argc + (unsigned long)depth, BLUE);
}
