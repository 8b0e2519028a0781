/* bigcore: fill about MIB mebibytes (argv[1], default 1024) of anonymous memory
 * with a mix that resembles a large service's heap, then abort() so the kernel
 * writes a core. Used by BenchmarkDecompress to get a realistic ~1 GB core.
 * Mix: 19% copies of the files named in argv[2..] (code and data of real
 * libraries), 3% pseudo-random bytes (already-compressed payloads), 31%
 * 64-byte "objects" (pointers, small integers, short strings), and the rest
 * touched zero pages (freed arenas, reserved buffers). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv) {
	size_t mib = argc > 1 ? strtoul(argv[1], 0, 10) : 1024;
	size_t total = mib << 20;
	unsigned char *m = mmap(0, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) { perror("mmap"); return 1; }
	size_t filesz = total / 100 * 19, randsz = total / 100 * 3, objsz = total / 100 * 31;
	size_t off = 0;
	/* 1: library bytes */
	while (off < filesz && argc > 2) {
		for (int i = 2; i < argc && off < filesz; i++) {
			int fd = open(argv[i], O_RDONLY);
			if (fd < 0) continue;
			ssize_t n;
			while (off < filesz && (n = read(fd, m + off, filesz - off > (1 << 20) ? (1 << 20) : filesz - off)) > 0)
				off += (size_t)n;
			close(fd);
		}
	}
	/* 2: random */
	uint64_t x = 88172645463325252ULL;
	for (size_t end = off + randsz; off + 8 <= end; off += 8) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		memcpy(m + off, &x, 8);
	}
	/* 3: objects */
	static const char *words[] = {"request", "grpc", "span", "user_id", "deadline", "metadata", "ok", "UNAVAILABLE"};
	uint64_t base = (uint64_t)(uintptr_t)m;
	for (size_t end = off + objsz, k = 0; off + 64 <= end; off += 64, k++) {
		uint64_t rec[8];
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		rec[0] = base + (x % total & ~63ULL); /* next pointer */
		rec[1] = base + ((x >> 17) % total & ~15ULL);
		rec[2] = k & 0xffff;
		rec[3] = (x >> 40) & 0xff;
		memset(&rec[4], 0, 32);
		strncpy((char *)&rec[4], words[x % 8], 31);
		memcpy(m + off, rec, 64);
	}
	/* 4: touched zero pages */
	for (; off < total; off += 4096) m[off] = 0;
	fprintf(stderr, "bigcore: filled %zu MiB at %p, aborting\n", mib, (void *)m);
	abort();
}
