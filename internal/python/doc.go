// Package python reads the state of a CPython interpreter out of the memory
// of a process (normally an ELF core): the exact version, whether the runtime
// is finalizing and which thread does it, which thread holds the GIL, whether
// a garbage collection is running, and every thread state's Python stack
// (function, qualified name, file, current line, first line).
//
// Scope: CPython 3.8 to 3.13 on 64-bit little-endian Linux (x86_64,
// aarch64, ppc64le), default (GIL) builds; 3.14 from its published
// _Py_DebugOffsets only; CPython 3.11 on i386, 32-bit ARM and big-endian s390x.
// Anything else is reported as unsupported with an *UnsupportedError.
//
// Words (pointers, Py_ssize_t, size_t, unsigned long) are read at the process's
// pointer size, in its byte order (ByteOrderer; little-endian when the Process does
// not say); Py_ssize_t values are sign-extended. Layouts are chosen by version,
// pointer size, machine (Machiner) and byte order: a machine's own generated entry
// first, else for little-endian 64-bit processes the entries of x86_64 builds. 32-bit
// ABIs align 8-byte members differently, and a big-endian build allocates bit fields
// from the most significant bit, so neither borrows another machine's entry. The few object
// headers read for locals follow Include/object.h: PyObject_HEAD is two words,
// PyObject_VAR_HEAD three.
//
// Sources, in the order they are preferred:
//
//   - _Py_DebugOffsets, the offset table CPython 3.13+ stores at the start of
//     _PyRuntime (cookie "xdebugpy"); layout from CPython
//     Include/internal/pycore_runtime.h (3.13) and
//     Include/internal/pycore_debug_offsets.h (3.14).
//   - generatedLayouts (offsets_gen.go), written by ./internal/gen from the
//     DWARF of the pyenv builds named in each entry, and of Debian's i386,
//     ppc64el, s390x and armhf libpython3.11 (DWARF from their debug files in
//     python3.11-dbg:ARCH); keyed by minor version, pointer size, machine and
//     byte order.
//     Patch releases of one minor version share a layout (CPython keeps
//     internal struct layouts stable within a minor release, except for
//     fields appended at the end such as 3.12's _finalizing_id).
//   - Line tables: the 3.8/3.9 co_lnotab, the 3.10 co_linetable and the 3.11+
//     location table, decoded as Objects/codeobject.c of each version does
//     (PyCode_Addr2Line), see linetable.go.
//
// Limits: every list walk is bounded (MaxInterpreters, MaxThreads, MaxFrames)
// and has cycle detection, strings are capped at MaxStringLen characters and
// line tables at MaxLineTable bytes. Errors are kept beside the data they
// spoiled (Frame.Err, Thread.Err, Interp.Err); Analyze only fails when
// nothing at all can be said. Matching a thread state to an OS thread uses
// native_thread_id (3.11+) or pthread_t == fs_base (x86_64 glibc); on
// aarch64 without native_thread_id the match is a guess and says so.
package python
