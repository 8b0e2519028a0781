/* types.c: DWARF test input for internal/dwarfvar, compiled by its tests at -O0 and -O2,
 * as DWARF 5 and DWARF 4. */
struct inner {
	int a;
	char b[6];
};

typedef struct outer {
	long x;
	struct inner in[3];
	void *volatile vp;
	unsigned flag : 3;
} outer_t;

outer_t *volatile gp;

extern int sink(long v);

__attribute__((noinline)) int use(outer_t *p)
{
	int r = sink(p->x);
	return r + p->in[2].b[4];
}
