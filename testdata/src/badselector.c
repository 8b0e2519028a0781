/* badselector.c: "load_selector" loads %ds with selector 0x1234, beyond the GDT and LDT:
   x86 #GP, so SIGSEGV with si_code SI_KERNEL and no fault address, at the mov
   ("LINE: mov_ds"), which accesses no memory. gcc -O0 -g, x86_64 or -m32. */
__attribute__((noinline, noclone)) void load_selector(unsigned short sel)
{
	__asm__ volatile("mov %0, %%ds" : : "r"(sel)); /* LINE: mov_ds */
}

int main(void)
{
	load_selector(0x1234);
	return 0;
}
