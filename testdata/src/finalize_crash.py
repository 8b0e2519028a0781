# finalize_crash.py: a NULL+0x60 read (ctypes.string_at(0x60)) from a
# __del__ method that runs when the interpreter tears modules down, after
# Py_FinalizeEx has set the runtime's finalizing thread state.
#
# Assert: one thread; SIGSEGV, SEGV_MAPERR, fault address 0x60; the runtime
# is finalizing and finalizing_tid == the main thread's tid; Python stack:
# Boom.__del__ "LINE: py_crash"; native stack contains "Py_FinalizeEx".
import ctypes
import sys


class Boom:
    # Module globals (even ctypes.string_at's own) may already be None when
    # this runs, so the low-level function object is bound at definition.
    def __del__(self, string_at=ctypes._string_at):
        string_at(0x60, -1)  # LINE: py_crash


# Referenced only from __main__'s dict: freed when finalization clears it.
boom = Boom()
sys.stdout.write("ready\n")
sys.stdout.flush()
