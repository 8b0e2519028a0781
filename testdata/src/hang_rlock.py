# hang_rlock.py: two threads take two threading.RLocks in opposite orders and deadlock
# (ABBA). Thread A holds rlock_a and waits for rlock_b at "LINE: a_waits"; thread B
# holds rlock_b and waits for rlock_a at "LINE: b_waits". Once both are blocked in
# futex (read from /proc/self/task/TID/syscall) for 50 looks in a row, main prints
# the facts and "ready" and joins A. CPython 3.8-3.13 (threading.get_native_id is 3.8+).
#
# Assert (stdout): "rlock_a 0x…", "rlock_b 0x…" (id() of the RLock objects: their
# addresses), "tid_main N", "tid_a N", "tid_b N". The deadlock: A waits for rlock_b
# (kind "python_lock") owned by B, B waits for rlock_a owned by A; the cycle is
# {tid_a -> tid_b, rlock_b, python_lock}, {tid_b -> tid_a, rlock_a, python_lock}
# (lowest tid first).
import sys
import threading
import time

rlock_a = threading.RLock()
rlock_b = threading.RLock()
barrier = threading.Barrier(2)
tids = {}


def blocked_in_futex(tid):
    try:
        with open("/proc/self/task/%d/syscall" % tid) as f:
            return f.read().split()[0] == "202"
    except (OSError, IndexError):
        return False


def thread_a():
    tids["a"] = threading.get_native_id()
    with rlock_a:
        barrier.wait()
        with rlock_b:  # LINE: a_waits
            pass


def thread_b():
    tids["b"] = threading.get_native_id()
    with rlock_b:
        barrier.wait()
        with rlock_a:  # LINE: b_waits
            pass


ta = threading.Thread(target=thread_a)
tb = threading.Thread(target=thread_b)
ta.start()
tb.start()
# A thread waiting for the GIL also sleeps in futex: both must stay there for 50
# consecutive looks (main sleeps between them, so the GIL is free) to be waiting for
# the locks, not for the GIL on their way to them.
steady = 0
for _ in range(20000):
    if len(tids) == 2 and blocked_in_futex(tids["a"]) and blocked_in_futex(tids["b"]):
        steady += 1
        if steady == 50:
            break
    else:
        steady = 0
    time.sleep(0.001)
print("rlock_a %#x\nrlock_b %#x\ntid_main %d\ntid_a %d\ntid_b %d\nready" % (
    id(rlock_a), id(rlock_b), threading.get_native_id(), tids["a"], tids["b"]))
sys.stdout.flush()
ta.join()
