# atexit_crash.py: a NULL+0x60 read (ctypes.string_at(0x60)) from an atexit
# handler, i.e. while the interpreter is shutting down in Py_FinalizeEx.
#
# CPython runs atexit callbacks before it sets _PyRuntime's finalizing
# field (Py_FinalizeEx: wait_for_thread_shutdown, _PyAtExit_Call, then
# _PyRuntimeState_SetFinalizing), so at the crash the runtime is in
# Py_FinalizeEx but its "finalizing" thread state is still NULL; the native
# stack of the main thread contains Py_FinalizeEx (or Py_Finalize) below the
# atexit call. (finalize_crash.py crashes later, with finalizing set.)
#
# Assert: one thread; SIGSEGV, SEGV_MAPERR, fault address 0x60; Python
# stack: on_exit "LINE: py_crash" (called from atexit, no Python caller);
# native stack contains "Py_FinalizeEx".
import atexit
import ctypes


def on_exit():
    ctypes.string_at(0x60)  # LINE: py_crash


atexit.register(on_exit)
print("ready", flush=True)
