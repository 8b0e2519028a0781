/* mmapbus.c: maps two pages of the file named by argv[1], truncates the file to zero
   and reads the first page in "read_mapped": SIGBUS, BUS_ADRERR, the address is the
   mapping's start and NT_FILE names the file. gcc -O0 -g. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
__attribute__((noinline)) int read_mapped(volatile char *p) { return p[16]; }
int main(int argc, char **argv)
{
	int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	char page[8192];
	memset(page, 'x', sizeof page);
	if (fd < 0 || write(fd, page, sizeof page) != sizeof page)
		return 2;
	char *p = mmap(0, sizeof page, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || ftruncate(fd, 0) != 0)
		return 3;
	return read_mapped(p);
}
