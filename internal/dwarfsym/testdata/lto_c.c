__attribute__((noinline)) int other(int v)
{
	volatile int w = v * 3;
	return w;
}
