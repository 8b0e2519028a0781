/* frames.c: functions whose call frame information exercises many CFA rules when
 * compiled by the tests of internal/dwarf/cfi (gcc -O2 -fomit-frame-pointer, -O0, and
 * with -fno-asynchronous-unwind-tables -g for .debug_frame; also aarch64-linux-gnu-gcc).
 * Not run: only its CFI is compared with readelf --debug-dump=frames-interp. */
#include <alloca.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) long many_saved(long a, long b, long c, long d, long e, long f)
{
	long x = a * b, y = c * d, z = e * f;
	for (long i = 0; i < a; i++) {
		x += y ^ i;
		y += z * i;
		z += x + printf("%ld %ld %ld\n", x, y, z);
	}
	return x + y + z;
}

__attribute__((noinline)) long dynamic_stack(long n)
{
	char *p = alloca(n + 1);
	memset(p, 'a', n);
	p[n] = 0;
	return (long)strlen(p) + puts(p);
}

__attribute__((noinline)) long varargs(int n, ...)
{
	va_list ap;
	long s = 0;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		s += va_arg(ap, long);
	va_end(ap);
	return s;
}

__attribute__((noinline)) long recurse(long n)
{
	char buf[300];
	snprintf(buf, sizeof buf, "%ld", n);
	if (n <= 0)
		return buf[0];
	return recurse(n - 1) + buf[0];
}

int main(int argc, char **argv)
{
	(void)argv;
	return (int)(many_saved(argc, 2, 3, 4, 5, 6) + dynamic_stack(argc) +
		     varargs(3, 1L, 2L, 3L) + recurse(argc));
}
