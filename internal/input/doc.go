// Package input opens a core file for random access, whatever form it
// arrives in: a plain file (read in place with ReadAt, never whole), a
// compressed file, or standard input.
//
// Compression is detected by content, never by name: zstd (RFC 8878,
// including leading skippable frames), LZ4 frame and legacy formats (LZ4
// Frame Format 1.6.x), xz (.xz File Format 1.2.0) and gzip (RFC 1952),
// decoded with klauspost/compress, pierrec/lz4 and ulikunitz/xz. A
// compressed core is decompressed once into a cache file ($XDG_CACHE_HOME/
// coredig, keyed by a hash of its first MiB, size and mtime, written under
// a temporary name and renamed), so later runs reuse it; all-zero 64 KiB
// blocks become holes, so untouched pages cost no disk. Standard input is
// copied or decompressed into a temporary file removed by Close.
//
// Limits: the decompressed size is bounded by Options.MaxSize (64 GiB by
// default) and by the free space of the cache directory less 512 MiB. A
// corrupt or cut stream fails with a *CorruptError naming the format and
// the offsets, or, with Options.KeepPartial, yields the readable prefix.
// The cache is kept within a bound (internal/diskcache: COREDIG_CACHE_MAX, 8 GiB
// by default): writing a new core removes the least recently used cores and
// section sets past it, and reusing one marks it used. Decoder memory: zstd windows are capped
// at 512 MiB (klauspost's default MaxWindowSize), LZ4 blocks at 4 MiB by
// the format; an xz block header may ask for a dictionary of up to 4 GiB,
// which ulikunitz/xz allocates but only touches as output is produced, so
// resident memory stays below the decompressed size.
//
// Also read here: the extended attributes systemd-coredump stores on a
// core (user.coredump.*, systemd src/coredump/coredump.c), Linux only.
package input
