# pylocals.py: a crash with Python locals of many types in the innermost Python
# frame: probe() holds ints (small, negative, beyond 64 bits), a float, a bool,
# None, a str with non-ASCII and quotes, bytes, a list, a dict and a closure
# cell, then reads NULL+0x60 through ctypes.string_at. Works on CPython 3.8 to
# 3.13 (no faulthandler, so the kernel writes the core).
#
# Assert: SIGSEGV, SEGV_MAPERR, fault address 0x60; the main thread's Python
# stack is string_at <- probe "LINE: py_probe" <- <module>; probe's locals are
# what gdb's py-locals (python-gdb.py of the same build) prints for that frame.
import ctypes


def probe(count, name):
    small = 7
    negative = -12345
    huge = 2 ** 80 + 3
    ratio = 0.25
    whole = 3.0
    flag = True
    nothing = None
    text = "h\u00e9llo 'q'"
    raw = b"\x00ab\xff"
    items = [1, 2, 3]
    table = {"a": 1}

    def inner():
        return small + count

    inner()
    return ctypes.string_at(0x60)  # LINE: py_probe


probe(42, "world")
