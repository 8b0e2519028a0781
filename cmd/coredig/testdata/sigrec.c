/* sigrec: records the signals it receives, for the signal tests of `coredig run`
 * (cmd/coredig/run_signal_test.go builds it with `gcc -O0 -o sigrec sigrec.c`).
 *
 *   sigrec [SIG...]
 *
 * It catches each signal number given on the command line; every other signal keeps its
 * default action. Once its handlers are installed it prints "ready PID\n"; then, for
 * each signal caught, "got N\n" as the handler runs. 300 ms after the first caught
 * signal other than SIGCONT it exits with status 40+N (N that signal), so a second
 * delivery of the same signal shows as a second line. SIGCONT is recorded and never
 * ends it. It waits in sigsuspend(), so between signals it sleeps (state S).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t first;

static void handler(int sig)
{
	char buf[16];
	int n = 0;
	char digits[4];
	int k = 0;
	int v = sig;
	memcpy(buf, "got ", 4);
	n = 4;
	do {
		digits[k++] = '0' + v % 10;
		v /= 10;
	} while (v > 0);
	while (k > 0)
		buf[n++] = digits[--k];
	buf[n++] = '\n';
	write(1, buf, n);
	if (sig != SIGCONT && first == 0)
		first = sig;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t caught, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&caught);
	for (int i = 1; i < argc; i++) {
		sigaction(atoi(argv[i]), &sa, NULL);
		sigaddset(&caught, atoi(argv[i]));
	}
	/* The caught signals are blocked but in sigsuspend, so none is lost between the
	 * test of first and the wait. */
	sigprocmask(SIG_BLOCK, &caught, &old);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (first == 0)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* Give a duplicate delivery time to show. */
	struct timespec ts = {0, 300 * 1000 * 1000};
	while (nanosleep(&ts, &ts) != 0)
		;
	return 40 + first;
}
