# subinterp.py: a CPython 3.12 process with a subinterpreter. A thread runs code in the
# subinterpreter (sub_sleeper, sleeping at line 4 of its "<string>" source); the main
# thread then crashes via ctypes.string_at(0x60) at "LINE: py_crash".
#
# What a test can assert: 2 interpreters; interpreter 1 has a thread state running
# sub_sleeper at <string>:4 under <module> at <string>:5; the main thread runs <module>
# at the py_crash marker. In 3.12 the subinterpreter's thread state is the one
# interpreters.create() made in the main thread, so its native_thread_id is the main
# thread's although another thread runs it.
import ctypes
import threading
import time

import _xxsubinterpreters as interpreters

interp = interpreters.create()
code = """
import time
def sub_sleeper():
    time.sleep(1000)
sub_sleeper()
"""
t = threading.Thread(target=interpreters.run_string, args=(interp, code), daemon=True)
t.start()
time.sleep(0.5)
ctypes.string_at(0x60)  # LINE: py_crash
