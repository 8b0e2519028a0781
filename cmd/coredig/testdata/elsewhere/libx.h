/* libx.h: the one function of libx.so (see libx.c). */
void x_store(int *p, int v);
