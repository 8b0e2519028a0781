# pyself.py: prints its own Python stacks, then aborts, so that a test can compare
# what coredig reads from the core with what the process said about itself. Works on
# CPython 3.8 and later, on any architecture (testcore runs it under Debian's i386
# libpython3.11 as PySelfI386); no faulthandler, so the kernel writes the core.
#
# Assert on the core:
#   - 2 Python threads: the main thread and "napper", asleep in time.sleep in
#     nap "LINE: py_nap" <- worker <- threading.py's Thread.run, _bootstrap_inner,
#     _bootstrap.
#   - SIGABRT from os.abort() in the main thread, which holds the GIL (os.abort does
#     not release it); main thread Python stack (innermost first):
#       crash_now "LINE: py_abort" <- middle "LINE: py_middle" <- main "LINE: py_main"
#       <- <module>
#   - stdout: one line "stacks JSON", printed by the main thread just before
#     os.abort() (on the same line, so its own frame's line is the abort's):
#       {"version": "3.X.Y", "gil": native thread id of the main thread,
#        "threads": {native thread id: [[co_name, co_qualname or "", co_filename,
#                    f_lineno], ... innermost first]}}
#     from sys._current_frames(), after the napper was seen at its sleep; and
#       "locals": {name: [type name, repr, len or -1, id]} of middle's frame, whose
#     locals are one of each kind coredig shows (int, a negative multi-digit int, float,
#     str with non-ASCII, bytes, None, bool, list, dict, a function, and a cell).
import json
import os
import sys
import threading
import time


def nap():
    time.sleep(1000)  # LINE: py_nap


def worker():
    nap()


def stack(f):
    out = []
    while f is not None:
        c = f.f_code
        out.append([c.co_name, getattr(c, "co_qualname", ""), c.co_filename, f.f_lineno])
        f = f.f_back
    return out


def dump(own):
    frames = sys._current_frames()
    natives = {t.ident: t.native_id for t in threading.enumerate()}
    me = threading.get_ident()
    got = {natives[i]: stack(own if i == me else f) for i, f in frames.items()}
    doc = {"version": "%d.%d.%d" % sys.version_info[:3], "gil": threading.get_native_id(), "threads": got}
    mid = own.f_back
    doc["locals"] = {k: [type(v).__name__, repr(v), len(v) if isinstance(v, (list, tuple, dict, set)) else -1, id(v)]
                     for k, v in mid.f_locals.items()}
    print("stacks " + json.dumps(doc), flush=True)


def crash_now():
    dump(sys._getframe()); os.abort()  # LINE: py_abort


def middle():
    small = 7
    neg = -123456789012345678901234567890
    pi = 3.25
    word = "h\u00e9llo \u03bb"
    raw = b"\x00ab\xff"
    nothing = None
    yes = True
    items = [1, 2, 3]
    table = {"a": 1, "b": 2}

    def inner():
        return small  # makes small a cell of middle

    crash_now()  # LINE: py_middle


def main():
    t = threading.Thread(target=worker, name="napper", daemon=True)
    t.start()
    sleep_line = nap.__code__.co_firstlineno + 1
    while True:
        f = sys._current_frames().get(t.ident)
        if f is not None and f.f_code is nap.__code__ and f.f_lineno == sleep_line:
            break
        time.sleep(0.01)
    middle()  # LINE: py_main


if __name__ == "__main__":
    main()
