/* hlt.c: "halt" executes hlt, a privileged instruction: x86 #GP, so SIGSEGV with si_code
   SI_KERNEL and no fault address, at the hlt in halt ("LINE: hlt"), called from main.
   gcc -O0 -g, x86_64. */
__attribute__((noinline, noclone)) void halt(void)
{
	__asm__ volatile("hlt"); /* LINE: hlt */
}

int main(void)
{
	halt();
	return 0;
}
