/* int3.c: an int3 breakpoint left in "debug_hook": SIGTRAP (si_code SI_KERNEL), the pc
   just after the 0xcc byte. gcc -O0 -g. */
__attribute__((noinline)) void debug_hook(void) { __asm__ volatile("int3\n\tnop"); }
int main(void) { debug_hook(); return 0; }
