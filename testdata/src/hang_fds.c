/*
 * hang_fds.c: one thread reads from a pipe nobody writes to ("LINE: pipe_read"), another
 * from a TCP connection on the loopback whose other end never writes ("LINE:
 * sock_read"), a third polls a unix socket pair's end ("LINE: poll"); main joins the
 * first. A snapshot coredig takes keeps what each descriptor is (the COREDIG files
 * note), and each thread's wait names it.
 *
 * Assert (stdout): "tid_pipe N", "tid_sock N", "tid_poll N", "pipe_fd N", "pipe_ino N"
 * (the pipe's inode, as /proc/PID/fd names it "pipe:[N]"), "sock_fd N", "sock_ino N",
 * "sock_port N" (its local port), "server_port N" (the listener's port, the peer),
 * "unix_fd N", "unix_ino N". The reader of the pipe: "fd <pipe_fd> is pipe:[<pipe_ino>]
 * (read end)"; of the socket: "fd <sock_fd> is socket:[<sock_ino>] TCP
 * 127.0.0.1:<sock_port> -> 127.0.0.1:<server_port> (ESTABLISHED)"; the poller: "fd
 * <unix_fd> is socket:[<unix_ino>] unix stream (unnamed)".
 */
#include "hang.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>

static int pipefd[2], sock, pair[2];
static volatile int tid_pipe, tid_sock, tid_poll;

static void *pipe_reader(void *arg)
{
	char c;
	(void)arg;
	tid_pipe = hang_tid();
	if (read(pipefd[0], &c, 1) < 0) /* LINE: pipe_read */
		perror("read");
	return NULL;
}

static void *sock_reader(void *arg)
{
	char c;
	(void)arg;
	tid_sock = hang_tid();
	if (read(sock, &c, 1) < 0) /* LINE: sock_read */
		perror("read");
	return NULL;
}

static void *poller(void *arg)
{
	struct pollfd p = {.fd = pair[0], .events = POLLIN};
	(void)arg;
	tid_poll = hang_tid();
	if (poll(&p, 1, -1) < 0) /* LINE: poll */
		perror("poll");
	return NULL;
}

static unsigned long ino(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		perror("fstat");
		exit(3);
	}
	return (unsigned long)st.st_ino;
}

static int port(int fd)
{
	struct sockaddr_in a;
	socklen_t n = sizeof a;
	if (getsockname(fd, (struct sockaddr *)&a, &n) < 0) {
		perror("getsockname");
		exit(3);
	}
	return ntohs(a.sin_port);
}

int main(void)
{
	pthread_t p, s, q;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof a;
	int listener = socket(AF_INET, SOCK_STREAM, 0);
	if (pipe(pipefd) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0 || listener < 0 ||
	    bind(listener, (struct sockaddr *)&a, sizeof a) < 0 || listen(listener, 1) < 0 ||
	    getsockname(listener, (struct sockaddr *)&a, &n) < 0) {
		perror("setup");
		return 3;
	}
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("connect");
		return 3;
	}
	int peer = accept(listener, NULL, NULL);
	if (peer < 0) {
		perror("accept");
		return 3;
	}
	pthread_create(&p, NULL, pipe_reader, NULL);
	pthread_create(&s, NULL, sock_reader, NULL);
	pthread_create(&q, NULL, poller, NULL);
	while (tid_pipe == 0 || tid_sock == 0 || tid_poll == 0)
		usleep(1000);
	hang_wait_in(tid_pipe, SYS_read);
	hang_wait_in(tid_sock, SYS_read);
	hang_wait_in(tid_poll, SYS_poll);
	printf("tid_pipe %d\ntid_sock %d\ntid_poll %d\npipe_fd %d\npipe_ino %lu\nsock_fd %d\nsock_ino %lu\n"
	       "sock_port %d\nserver_port %d\nunix_fd %d\nunix_ino %lu\nready\n",
	       tid_pipe, tid_sock, tid_poll, pipefd[0], ino(pipefd[0]), sock, ino(sock), port(sock),
	       ntohs(a.sin_port), pair[0], ino(pair[0]));
	fflush(stdout);
	pthread_join(p, NULL);
	return 0;
}
