# numpy_crash.py: a read of unmapped memory (address 0x60 on) inside numpy's C
# code: numpy.frombuffer wraps a ctypes array placed at address 0x60 (no
# memory is touched until then) and the ufunc numpy.add.reduce, C code
# called straight from total(), reads it in numpy's add loop, in
# _multiarray_umath*.so. Run with an interpreter whose numpy is installed
# (Debian's /usr/bin/python3.11 with python3-numpy).
#
# Assert: SIGSEGV, SEGV_MAPERR, fault address 0x60 or a little
# above; frame 0 (or the first frame outside libc) is in numpy's
# _multiarray_umath extension; innermost Python frame: total "LINE: py_sum".
import ctypes

import numpy

values = numpy.frombuffer((ctypes.c_char * 4096).from_address(0x60), dtype=numpy.int64)


def total():
    return numpy.add.reduce(values)  # LINE: py_sum


print("ready", flush=True)
total()
