struct point {
	int x, y;
};

static int scale(struct point *p, int k)
{
	return p->x * k + p->y; /* scale */
}

__attribute__((noinline)) int helper(struct point *p, int k)
{
	volatile int r = scale(p, k); /* call */
	return r;
}
