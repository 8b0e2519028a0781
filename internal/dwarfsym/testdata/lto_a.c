/* lto_a.c, lto_b.c, lto_c.c: see README.md (the views test of cross-unit references). */
struct point {
	int x, y;
};
int helper(struct point *p, int k);
int other(int v);

int main(int argc, char **argv)
{
	struct point p = {argc, argc * 2};
	(void)argv;
	return helper(&p, argc) + other(argc);
}
