# threads6.py: six Python threads, each blocked (or spinning) in a different
# function, then the main thread crashes with a NULL+0x60 read through
# ctypes.string_at(0x60). Works on CPython 3.6 to 3.13 (no faulthandler, so
# the kernel writes the core).
#
# Assert on the core:
#   - 7 Python threads (7 NT_PRSTATUS notes for CPython builds that start no
#     helper threads); the crashing thread is the main thread, which holds
#     the GIL (string_at is a PYFUNCTYPE: the GIL is not released).
#   - SIGSEGV, SEGV_MAPERR, fault address 0x60, in libc strlen called by
#     ctypes' string_at (Modules/_ctypes/_ctypes.c, size -1) through libffi
#     ffi_call (native frames), under _PyEval_EvalFrameDefault.
#   - main thread Python stack (innermost first):
#       crash_now  "LINE: py_crash"  <- main "LINE: py_main_calls" <- <module>
#   - the six thread names and their innermost frame in this file:
#       "sleeper"  sleeper      "LINE: py_sleep"  (time.sleep)
#       "locker"   locker       "LINE: py_lock"   (Lock.acquire, held by main)
#       "spinner"  spinner      "LINE: py_spin"   (pure Python loop)
#       "eventer"  eventer      "LINE: py_event"  (Event.wait -> threading.py)
#       "queuer"   queuer       "LINE: py_queue"  (Queue.get -> queue.py)
#       "reader"   reader       "LINE: py_read"   (os.read on a pipe)
#   - stdout: "ready" just before the crash.
import ctypes
import os
import queue
import sys
import threading
import time

held = threading.Lock()
never = threading.Event()
q = queue.Queue()
started = []
started_lock = threading.Lock()
read_fd, write_fd = os.pipe()


def mark():
    with started_lock:
        started.append(threading.current_thread().name)


def sleeper():
    mark()
    while True:
        time.sleep(1000)  # LINE: py_sleep


def locker():
    mark()
    held.acquire()  # LINE: py_lock


def spinner():
    mark()
    n = 0
    while True:
        n += 1  # LINE: py_spin


def eventer():
    mark()
    never.wait()  # LINE: py_event


def queuer():
    mark()
    q.get()  # LINE: py_queue


def reader():
    mark()
    os.read(read_fd, 1)  # LINE: py_read


def crash_now():
    return ctypes.string_at(0x60)  # LINE: py_crash


def main():
    held.acquire()
    for fn in (sleeper, locker, spinner, eventer, queuer, reader):
        threading.Thread(target=fn, name=fn.__name__, daemon=True).start()
    while True:
        with started_lock:
            if len(started) == 6:
                break
        time.sleep(0.01)
    time.sleep(0.3)  # let every thread reach its blocking call
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    crash_now()  # LINE: py_main_calls


if __name__ == "__main__":
    main()
