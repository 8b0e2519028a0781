/* Test input for internal/disasm: compiled at test time with gcc (x86_64) and
   aarch64-linux-gnu-gcc, disassembled by objdump, compared to Decode. */
#include <stddef.h>
#include <string.h>

struct obj { long pad[12]; long field; int arr[16]; };

__attribute__((noinline)) long deref(struct obj *p) { return p->field; }
__attribute__((noinline)) void store(struct obj *p, long v) { p->field = v; }
__attribute__((noinline)) int indexed(struct obj *p, long i) { return p->arr[i]; }
__attribute__((noinline)) int indexed32(struct obj *p, int i) { return p->arr[i]; }
__attribute__((noinline)) long divide(long a, long b) { return a / b; }
__attribute__((noinline)) unsigned udivide(unsigned a, unsigned b) { return a / b; }
__attribute__((noinline)) void trap(void) { __builtin_trap(); }
static long counter;
__attribute__((noinline)) long bump(void) { return ++counter; }
__attribute__((noinline)) long calls(struct obj *p) { return deref(p) + bump() + indexed(p, 3); }
__attribute__((noinline)) void copy(char *d, const char *s, size_t n) { memcpy(d, s, n); }
__attribute__((noinline)) double fp(double a, double b) { return a * b + 1.5; }
__attribute__((noinline)) long loop(const long *v, int n) {
	long s = 0;
	for (int i = 0; i < n; i++)
		s += v[i] * (i & 3 ? 2 : 5);
	return s;
}
__attribute__((noinline)) int sw(int x) {
	switch (x) {
	case 0: return 11; case 1: return 22; case 2: return 35; case 3: return 47;
	case 4: return 51; case 5: return 68; default: return -1;
	}
}
__thread long tls_var;
__attribute__((noinline)) long tls(void) { return ++tls_var; }
__attribute__((noinline)) long pairs(long *p) { long a = p[0], b = p[1]; p[2] = a + b; p[3] = a - b; return a * b; }
__attribute__((noinline)) long recurse(long n) { return n <= 0 ? 0 : 1 + recurse(n - 1); }

int main(int argc, char **argv) {
	struct obj o = {0};
	long v[4] = {1, 2, 3, 4};
	char buf[16];
	copy(buf, argv[0], 8);
	return (int)(calls(&o) + divide(argc, 1) + udivide(argc, 1) + fp(argc, 2) + loop(v, 4) +
		sw(argc) + tls() + pairs(v) + indexed32(&o, argc) + recurse(argc) + buf[0]);
}
