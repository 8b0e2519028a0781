/* wild.c: reads through the unmapped, canonical pointer 0x123456789000 in "chase":
   SIGSEGV, SEGV_MAPERR, fault address 0x123456789008. gcc -O0 -g. */
struct node { long v; struct node *next; };
static struct node *volatile stale = (struct node *)0x123456789000UL;
__attribute__((noinline)) struct node *chase(struct node *n) { return n->next; }
int main(void) { return chase(stale) != 0; }
