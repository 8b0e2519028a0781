# hang_many.py: the hang benchmark's process (internal/analysis BenchmarkHangs170): 170
# threads like bench/mkbigcore/bigcore.py's, but hung instead of crashed. Main holds a
# threading.RLock and reads from a pipe nobody writes to at "LINE: main_reads"; 50
# lockers wait for the RLock behind it, 60 sleepers sleep, 40 eventers wait on an Event
# and 19 queuers on an empty queue.Queue. Once every worker has started and main is
# blocked in read (/proc/self/task/TID/syscall), an announcer thread prints "ready" and
# exits. CPython 3.8-3.13.
#
# Assert: 170 threads (171 while the announcer exits); blocked, with the root blocker main in read() on the pipe and
# the 50 lockers (kind "python_lock") behind it.
import os
import queue
import sys
import threading
import time

held = threading.RLock()
never = threading.Event()
q = queue.Queue()
started = []


def sleeper():
    started.append(1)
    while True:
        time.sleep(1000)


def locker():
    started.append(1)
    with held:
        pass


def eventer():
    started.append(1)
    never.wait()


def queuer():
    started.append(1)
    q.get()


threading.stack_size(256 * 1024)
r, w = os.pipe()
held.acquire()
workers = [(sleeper, 60), (locker, 50), (eventer, 40), (queuer, 19)]
for fn, n in workers:
    for _ in range(n):
        threading.Thread(target=fn, daemon=True).start()
main_tid = threading.get_native_id()


def announce():
    while len(started) < 169:
        time.sleep(0.01)
    time.sleep(0.5)
    while True:
        with open("/proc/self/task/%d/syscall" % main_tid) as f:
            if f.read().split()[0] == "0":
                break
        time.sleep(0.001)
    print("ready")
    sys.stdout.flush()


announcer = threading.Thread(target=announce)
announcer.start()
os.read(r, 1)  # LINE: main_reads
