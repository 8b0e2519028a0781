/* noncanon.c: reads field 0x10 through the non-canonical pointer 0xdead000000000000 in
   "poisoned": x86 #GP, so SIGSEGV with si_code SI_KERNEL and no fault address.
   gcc -O0 -g. */
struct node { long a, b, c; };
static struct node *volatile freed = (struct node *)0xdead000000000000UL;
__attribute__((noinline)) long poisoned(struct node *n) { return n->c; }
int main(void) { return (int)poisoned(freed); }
