/*
 * sigreturn.c: "return_on" returns from a signal as glibc's restorer does (rt_sigreturn)
 * with the stack pointer on a stack it has just freed, as a green-thread switch onto a
 * freed stack would: the kernel cannot read the signal frame there and kills the thread
 * with SIGSEGV, si_code SI_KERNEL, no address. The registers are the ones the thread
 * called with: the pc just after the system call instruction (the syscall or int $0x80 lines),
 * orig_rax 15 (x86_64) or orig_eax 173 (i386), and the sp 64 bytes into the freed page.
 *
 * With no argument the page is unmapped (munmap); with "protnone" it stays mapped with
 * PROT_NONE (mprotect), as a guard page. gcc -O0 -g, x86_64 or -m32.
 */
#include <string.h>
#include <sys/mman.h>

__attribute__((noinline, noclone)) void return_on(char *sp)
{
#if defined(__x86_64__)
	__asm__ volatile("mov %0, %%rsp\n\t"
			 "mov $15, %%eax\n\t"
			 "syscall" /* LINE: syscall */
			 :
			 : "r"(sp)
			 : "rax", "memory");
#elif defined(__i386__)
	__asm__ volatile("mov %0, %%esp\n\t"
			 "mov $173, %%eax\n\t"
			 "int $0x80" /* LINE: int80 */
			 :
			 : "r"(sp)
			 : "eax", "memory");
#else
#error "x86 only"
#endif
}

int main(int argc, char **argv)
{
	char *stack = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED)
		return 2;
	if (argc > 1 && strcmp(argv[1], "protnone") == 0) {
		if (mprotect(stack, 4096, PROT_NONE) != 0)
			return 2;
	} else if (munmap(stack, 4096) != 0) {
		return 2;
	}
	return_on(stack + 64); /* LINE: main_calls */
	return 0;
}
