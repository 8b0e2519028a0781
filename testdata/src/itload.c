/* itload.c: reads a field through a NULL pointer under a condition, which gcc -O2 for
   32-bit ARM's Thumb-2 compiles into an IT block ("ite gt; ldrgt r0, [r0, #96]; ..."):
   SIGSEGV, SEGV_MAPERR, fault address 0x60 in "pick". */
struct S { char pad[0x60]; int field_at_0x60; };
static struct S *volatile target;
static volatile int flag = 6;
__attribute__((noinline)) int pick(struct S *p, int c) {
	return c > 5 ? p->field_at_0x60 : 7; /* LINE: pick */
}
int main(void) { return pick(target, flag); }
