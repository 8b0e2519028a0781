/*
 * gotnull.c: the incident's access (incident.c) in a program of its own. Built with
 * -fPIC, the code reaches the global runtime_signals through its GOT slot (which the
 * linker may relax to a pc-relative address), and PyOS_setsig reads
 * handlers[6].tripped through it while it is NULL: NULL + 0x60.
 *
 * Assert: one thread; SIGSEGV (11), SEGV_MAPERR, fault address 0x60 (x86_64; qemu
 * aarch64 cores carry no siginfo) in PyOS_setsig, called from main.
 * Build: gcc -O0 -g -fPIC -o gotnull gotnull.c
 */
#include "incident.c"

int main(void)
{
	return (int)PyOS_setsig(6);
}
