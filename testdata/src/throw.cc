/*
 * throw.cc: an uncaught std::runtime_error thrown from an inlined call chain.
 *
 * Build with g++ -O2 -g so that "level3" and "level2" (always_inline) are
 * inlined into "level1" (noinline): DWARF has DW_TAG_inlined_subroutine
 * entries for level2 and level3 inside level1.
 *
 * Assert: one thread; SIGABRT (6), SI_TKILL. stderr:
 *   "terminate called after throwing an instance of 'std::runtime_error'\n"
 *   "  what():  boom from level3\n"
 * Stack: abort <- __gnu_cxx::__verbose_terminate_handler /
 * std::terminate (libstdc++) <- __cxa_throw <- level3 (inlined, at
 * "LINE: throw") <- level2 (inlined, "LINE: level2_calls") <- level1
 * ("LINE: level1_calls") <- main ("LINE: main_calls"). Mangled name of
 * level1 is "_ZN7crasher6level1Ei" (demangled "crasher::level1(int)").
 */
#include <cstdio>
#include <stdexcept>

namespace crasher {

static inline __attribute__((always_inline)) void level3(int x)
{
	if (x > 0)
		throw std::runtime_error("boom from level3"); /* LINE: throw */
}

static inline __attribute__((always_inline)) void level2(int x)
{
	level3(x + 1); /* LINE: level2_calls */
}

__attribute__((noinline, noclone)) void level1(int x)
{
	level2(x * 2); /* LINE: level1_calls */
	std::puts("not reached");
}

} // namespace crasher

int main(int argc, char **)
{
	crasher::level1(argc); /* LINE: main_calls */
	return 0;
}
