# incident.py: the shape of the grpcio incident (shared/incident). Run under CPython 3.12
# with -X faulthandler and COREDIG_INCIDENT_LIB naming incident.c built as a shared
# library: a __del__ that runs while Py_FinalizeEx clears __main__ calls the library's
# PyOS_setsig, which reads NULL+0x60; faulthandler catches the SIGSEGV and re-raises it.
#
# What a test can assert: core signal SIGSEGV / SI_TKILL from the process itself; the
# original fault SIGSEGV SEGV_MAPERR at 0x60 in PyOS_setsig with rax = 0; the interpreter
# is finalizing; the Python stack is Boom.__del__.
import ctypes
import os

lib = ctypes.CDLL(os.environ["COREDIG_INCIDENT_LIB"])


class Boom:
    def __del__(self, f=lib.PyOS_setsig):
        f(6)


boom = Boom()
