# bigcore.py: the benchmark crasher behind bench/make-big-core.sh. A CPython
# process shaped like the grpcio incident (shared/incident): 170 threads and
# about 1 GB of touched heap, crashing with a NULL+0x60 read
# (ctypes.string_at(0x60)) in the main thread.
#
# Threads (169 workers + main), by function and marker line:
#   60 x sleeper  "LINE: big_sleep"  time.sleep
#   50 x locker   "LINE: big_lock"   Lock.acquire on a lock main holds
#   40 x eventer  "LINE: big_event"  Event.wait (innermost frame in threading.py)
#   19 x queuer   "LINE: big_queue"  Queue.get (innermost frame in threading.py)
#   main: crash_now "LINE: big_crash" <- main "LINE: big_main_calls" <- <module>
# Environment knobs: BIG_CORE_HEAP_MB (default 900: one bytearray filled
# with a non-zero pattern, so its pages are really in the core) and
# BIG_CORE_STACK_KB (default 512: each worker's stack size, so that the
# apparent core size stays near 1 GB; glibc's default would be 8 MiB).
import ctypes
import os
import queue
import sys
import threading
import time

COUNTS = (("sleeper", 60), ("locker", 50), ("eventer", 40), ("queuer", 19))

held = threading.Lock()
never = threading.Event()
q = queue.Queue()
started = [0]
started_lock = threading.Lock()


def mark():
    with started_lock:
        started[0] += 1


def sleeper():
    mark()
    while True:
        time.sleep(1000)  # LINE: big_sleep


def locker():
    mark()
    held.acquire()  # LINE: big_lock


def eventer():
    mark()
    never.wait()  # LINE: big_event


def queuer():
    mark()
    q.get()  # LINE: big_queue


def crash_now():
    return ctypes.string_at(0x60)  # LINE: big_crash


def main():
    heap_mb = int(os.environ.get("BIG_CORE_HEAP_MB", "900"))
    stack_kb = int(os.environ.get("BIG_CORE_STACK_KB", "512"))
    threading.stack_size(stack_kb * 1024)
    held.acquire()
    fns = {"sleeper": sleeper, "locker": locker, "eventer": eventer, "queuer": queuer}
    total = 0
    for name, count in COUNTS:
        for i in range(count):
            threading.Thread(target=fns[name], name="%s-%d" % (name, i), daemon=True).start()
            total += 1
    # Touch the heap: a repeated 8-byte pattern, so no page is the zero page.
    heap = bytearray(b"coredig!") * (heap_mb * 1024 * 1024 // 8)
    while True:
        with started_lock:
            if started[0] == total:
                break
        time.sleep(0.01)
    time.sleep(0.5)  # let every worker reach its blocking call
    sys.stdout.write("ready pid=%d threads=%d heap=%d\n" % (os.getpid(), total + 1, len(heap)))
    sys.stdout.flush()
    crash_now()  # LINE: big_main_calls


if __name__ == "__main__":
    main()
