# hang_gil.py: the main thread calls libc's sleep(600) through ctypes.PyDLL, which keeps
# the GIL across the call, at "LINE: holder_sleeps"; two worker threads wake from
# time.sleep(1.0) and wait for the GIL forever. Main prints the facts and "ready" just
# before the call, once both workers sleep (read from /proc/self/task/TID/syscall);
# the test kills it a while later (testcore Spec.KillAfter), when the workers wait in
# take_gil. CPython 3.8-3.13.
#
# Assert (stdout): "tid_holder N" (main), "tid_worker1 N", "tid_worker2 N". gil_held:
# the holder is tid_holder, in clock_nanosleep called from libc's sleep, from the Python
# frame <module> at hang_gil.py:"holder_sleeps"; both workers wait (kind "gil") for it.
import ctypes
import sys
import threading
import time

libc = ctypes.PyDLL(None)
tids = []


def worker():
    tids.append(threading.get_native_id())
    time.sleep(1.0)
    n = 0
    while True:
        n += 1


def sleeping(tid):
    try:
        with open("/proc/self/task/%d/syscall" % tid) as f:
            # nanosleep, clock_nanosleep; select before CPython 3.11
            return f.read().split()[0] in ("35", "230", "23", "270")
    except (OSError, IndexError):
        return False


for _ in range(2):
    threading.Thread(target=worker, daemon=True).start()
deadline = time.time() + 10
while (len(tids) < 2 or not all(sleeping(t) for t in tids)) and time.time() < deadline:
    time.sleep(0.001)
print("tid_holder %d\ntid_worker1 %d\ntid_worker2 %d\nready" % (threading.get_native_id(), tids[0], tids[1]))
sys.stdout.flush()
libc.sleep(600)  # LINE: holder_sleeps
