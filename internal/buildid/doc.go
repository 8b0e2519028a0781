// Package buildid finds the executables and separate debug files of a
// core's modules, and says for every candidate why it was used or not.
//
// Scope: reading an ELF file's identity (the NT_GNU_BUILD_ID note, the
// .gnu_debuglink name and CRC, whether it carries DWARF or MiniDebugInfo);
// indexing directories by build-id; resolving paths inside a sysroot the
// way the target system would (symbolic links stay inside it); and the
// standard debug-file lookups of GDB and elfutils: DEBUGDIR/.build-id/xx/
// yyyy.debug, and the debuglink name next to the binary, in its .debug
// subdirectory and under DEBUGDIR/<its directory>.
//
// Limits: every size read from a file is bounded (section tables of at
// most 4 MiB and 65536 entries, note regions of 64 KiB, build-ids of at
// most 64 bytes, .gnu_debuglink of 4 KiB); the index walk is bounded in
// depth and file count (Limits). Section and note layouts are decoded by
// hand here, not with debug/elf, so that only these few structures are
// read from files that may be large or hostile.
//
// Sources: System V gABI (ELF header, section and program headers, note
// entries padded to 4 or 8 bytes), glibc <elf.h> (NT_GNU_BUILD_ID = 3,
// owner "GNU"), GDB manual "Separate Debug Files" (lookup order, CRC32 of
// .gnu_debuglink, which is zlib's IEEE polynomial).
package buildid
