/*
 * incident.c: the shape of the grpcio/dd-trace-py incident (see
 * /work/shared/incident/grpcio-sigsegv-investigation.md) as a shared library
 * that CPython loads with ctypes: PyOS_setsig here reads the handler slot of
 * signal 6 through a runtime-state pointer that is NULL, i.e. a read of
 * NULL + 0x60 with -O0 code "mov 0x60(%rax),%rax" and rax == 0.
 *
 * Built at test time by the incident tests of internal/diagnose and internal/analysis
 * (gcc -O0 -g -shared -fPIC) and loaded by incident.py.
 */
struct handler_slot {
	long tripped;
	void *func;
};

struct signal_state {
	struct handler_slot handlers[8];
};

struct signal_state *volatile runtime_signals; /* already freed: NULL */

__attribute__((noinline)) long PyOS_setsig(int sig)
{
	(void)sig;
	/* The SIGABRT slot, as in the incident: NULL + 6*16 = 0x60. */
	return runtime_signals->handlers[6].tripped;
}
