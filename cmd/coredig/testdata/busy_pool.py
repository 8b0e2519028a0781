# A healthy, busy CPython thread pool, for TestNoFalseAlarms: eight workers of a
# concurrent.futures.ThreadPoolExecutor run CPU work (a Python loop, then json.dumps of a
# table, which runs in the _json extension with the GIL held), sleeps, queue.Queue
# hand-offs and threading.Lock-protected counters, continuously, until the process is
# killed. It prints "ready" once the workers have run 64 steps.
import concurrent.futures
import hashlib
import json
import queue
import threading
import time

lock = threading.Lock()
counts = {"cpu": 0, "sleep": 0, "queue": 0}
table = {str(i): [i, str(i), {"square": i * i}] for i in range(2000)}
handoff = queue.Queue(maxsize=4)


def bump(key):
    with lock:
        counts[key] += 1


def cpu(n):
    s = 0
    for i in range(n):
        s += i * i
    hashlib.sha256(json.dumps([s, table]).encode()).hexdigest()
    bump("cpu")


def nap():
    time.sleep(0.002)
    bump("sleep")


def produce():
    handoff.put(time.monotonic())
    bump("queue")


def consume():
    handoff.get()
    bump("queue")


def worker(i):
    step = (cpu, nap, produce, consume)
    k = 0
    while True:
        f = step[(i + k) % 4]
        if f is cpu:
            f(20000)
        else:
            f()
        k += 1


pool = concurrent.futures.ThreadPoolExecutor(8)
for i in range(8):
    pool.submit(worker, i)
while sum(counts.values()) < 64:
    time.sleep(0.01)
print("ready", flush=True)
while True:
    time.sleep(1)
