# A process that reports its own Python stacks, then stays put for a live snapshot.
# Threads: the main thread and two workers sleep in distinct call chains; a reporter
# thread waits until every one of them is at its sleep, prints one JSON line
# {"ready": {native_tid: [[co_name, co_filename, f_lineno], ...innermost first]}} from
# sys._current_frames(), and ends, so the snapshot holds exactly the three sleepers.
import json
import sys
import threading
import time

SLEEP_LINES = set()


def mark():
    SLEEP_LINES.add(sys._getframe(1).f_lineno + 1)


def leaf_a():
    mark()
    time.sleep(1000)


def middle_a():
    leaf_a()


def worker_a():
    middle_a()


def leaf_b(n):
    if n:
        return leaf_b(n - 1)
    mark()
    time.sleep(1000)


def worker_b():
    leaf_b(3)


def main_idle():
    mark()
    time.sleep(1000)


def stack(f):
    out = []
    while f is not None:
        out.append([f.f_code.co_name, f.f_code.co_filename, f.f_lineno])
        f = f.f_back
    return out


def reporter(expect):
    while True:
        frames = sys._current_frames()
        natives = {t.ident: t.native_id for t in threading.enumerate()}
        me = threading.get_ident()
        got = {natives[i]: stack(f) for i, f in frames.items() if i != me and i in natives}
        if len(got) == expect and all(s[0][2] in SLEEP_LINES for s in got.values()):
            print("ready " + json.dumps(got), flush=True)
            return
        time.sleep(0.01)


for target in (worker_a, worker_b):
    threading.Thread(target=target, daemon=True).start()
threading.Thread(target=reporter, args=(3,)).start()
main_idle()
