# hang_lock.py: two threads take two threading.Locks (`with lock:`) in opposite orders and deadlock
# (ABBA). Thread A holds lock_a and waits for lock_b at "LINE: a_waits"; thread B
# holds lock_b and waits for lock_a at "LINE: b_waits". Once both are blocked in
# futex (read from /proc/self/task/TID/syscall) for 50 looks in a row, main prints
# the facts and "ready" and joins A. CPython 3.8-3.13 (threading.get_native_id is 3.8+).
#
# Assert (stdout): "lock_a 0x…", "lock_b 0x…" (id() of the Lock objects: their
# addresses), "tid_main N", "tid_a N", "tid_b N". The deadlock: A waits for lock_b
# (kind "python_lock") held by B, B waits for lock_a held by A (a Lock records no
# owner: the holders are inferred from the `with` blocks on the threads' value stacks);
# the cycle is
# {tid_a -> tid_b, lock_b, python_lock}, {tid_b -> tid_a, lock_a, python_lock}
# (lowest tid first).
import sys
import threading
import time

lock_a = threading.Lock()
lock_b = threading.Lock()
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
    with lock_a:
        barrier.wait()
        with lock_b:  # LINE: a_waits
            pass


def thread_b():
    tids["b"] = threading.get_native_id()
    with lock_b:
        barrier.wait()
        with lock_a:  # LINE: b_waits
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
print("lock_a %#x\nlock_b %#x\ntid_main %d\ntid_a %d\ntid_b %d\nready" % (
    id(lock_a), id(lock_b), threading.get_native_id(), tids["a"], tids["b"]))
sys.stdout.flush()
ta.join()
