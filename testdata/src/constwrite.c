/*
 * constwrite.c: a write into a const global table, which the linker put in read-only
 * memory: at -O2 the store addresses the table relative to the pc.
 *
 * Assert: one thread; SIGSEGV (11), SEGV_ACCERR in poke at "LINE: store", writing
 * limits[2].hi. Build: gcc -O2 -g -o constwrite constwrite.c
 */
struct limit {
	int lo, hi;
};

const struct limit limits[4] = {{0, 1}, {2, 3}, {4, 5}, {6, 7}};

__attribute__((noipa)) void poke(int v)
{
	((struct limit *)limits)[2].hi = v; /* LINE: store */
}

int main(int argc, char **argv)
{
	(void)argv;
	poke(argc + 41);
	return 0;
}
