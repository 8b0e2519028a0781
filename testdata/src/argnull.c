/*
 * argnull.c: a NULL pointer passed down to a function without debug information, which
 * faults on it: lookup(s) hands s to read_at_0x60, written in assembly (with CFI, no
 * DWARF variables), which reads s->name at offset 0x60.
 *
 * Assert: one thread; SIGSEGV (11), SEGV_MAPERR, fault address 0x60 (x86_64; qemu
 * aarch64, ppc64le and s390x cores carry no siginfo) in read_at_0x60, called from lookup at "LINE: call",
 * called from main. Build: gcc -O0 -g -o argnull argnull.c
 */
struct S {
	char pad[0x60];
	const char *name;
};

long read_at_0x60(const struct S *p);

#if defined(__x86_64__)
__asm__(".text\n.globl read_at_0x60\n.type read_at_0x60, @function\nread_at_0x60:\n"
	".cfi_startproc\n\tmovq 0x60(%rdi), %rax\n\tret\n.cfi_endproc\n.size read_at_0x60, .-read_at_0x60\n");
#elif defined(__aarch64__)
__asm__(".text\n.globl read_at_0x60\n.type read_at_0x60, %function\nread_at_0x60:\n"
	".cfi_startproc\n\tldr x0, [x0, #0x60]\n\tret\n.cfi_endproc\n.size read_at_0x60, .-read_at_0x60\n");
#elif defined(__powerpc64__)
__asm__(".text\n.globl read_at_0x60\n.type read_at_0x60, @function\nread_at_0x60:\n"
	".cfi_startproc\n\tld 3, 0x60(3)\n\tblr\n.cfi_endproc\n.size read_at_0x60, .-read_at_0x60\n");
#elif defined(__s390x__)
__asm__(".text\n.globl read_at_0x60\n.type read_at_0x60, @function\nread_at_0x60:\n"
	".cfi_startproc\n\tlg %r2, 0x60(%r2)\n\tbr %r14\n.cfi_endproc\n.size read_at_0x60, .-read_at_0x60\n");
#endif

static struct S *volatile current; /* never set: NULL */

__attribute__((noinline)) long lookup(struct S *s)
{
	return read_at_0x60(s); /* LINE: call */
}

int main(void)
{
	return (int)lookup(current);
}
