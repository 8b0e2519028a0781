/*
 * sse_misaligned.c: x86 instructions that need an aligned operand raise a general
 * protection fault at a misaligned address, not an alignment check: SIGSEGV, si_code
 * SI_KERNEL, no fault address. Built gcc -O0 -g for x86_64.
 *
 * With no argument: "store_vec" stores an SSE vector with movaps (_mm_store_ps) to an
 * address 8 bytes past a 16-byte boundary; stdout is "target 0x...\n", that address.
 * Frame 0 is _mm_store_ps inlined in store_vec at "LINE: movaps", called from main.
 *
 * With "stack": "call_misaligned" calls printf("%f") with the stack pointer 8 bytes off
 * the 16-byte alignment the ABI requires at a call, as hand-written assembly does when it
 * forgets; glibc's printf saves the vector argument registers with movaps to its frame
 * and faults. Frame 0 is in libc's printf, frame 1 call_misaligned at "LINE: stack_call".
 *
 * Assert: one thread; SIGSEGV (11), SI_KERNEL (128); the instruction is movaps.
 */
#include <stdio.h>
#include <string.h>
#include <xmmintrin.h>

static char buf[64] __attribute__((aligned(16)));
static const char fmt[] = "%f\n";

__attribute__((noinline, noclone)) void store_vec(float *p, __m128 v)
{
	_mm_store_ps(p, v); /* LINE: movaps */
}

__attribute__((noinline, noclone)) void call_misaligned(void)
{
	/* Align the stack, then take 8 bytes off, at any -O level. */
	__asm__ volatile("mov %%rsp, %%rbx\n\t" /* LINE: stack_call */
			 "and $-16, %%rsp\n\t"
			 "sub $8, %%rsp\n\t"
			 "lea %0, %%rdi\n\t"
			 "mov $1, %%eax\n\t"
			 "call printf@PLT\n\t"
			 "mov %%rbx, %%rsp"
			 :
			 : "m"(fmt)
			 : "rax", "rbx", "rdi", "rsi", "rdx", "rcx", "r8", "r9", "r10", "r11", "xmm0", "memory");
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "stack") == 0) {
		call_misaligned();
		return 2;
	}
	float *p = (float *)(buf + 8);
	printf("target %p\n", (void *)p);
	fflush(stdout);
	store_vec(p, _mm_set1_ps(1.0f));
	return 0;
}
