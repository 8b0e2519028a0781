# linetables.py: prints line table test vectors for linetable_test.go.
# Run: for v in 3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0; do
#   /root/.pyenv/versions/$v/bin/python3 linetables.py; done > linetables.txt
# Each line: minor firstlineno tablehex addr:line,addr:line,...
# (addr = bytecode byte offset; line -1 = no line), the lines as CPython
# itself reports them (dis.findlinestarts before 3.10, co_lines() after).
import dis, sys

def sample(a, b):
    x = a + b
    if x > 10:
        for i in range(3):
            x += i
    else:
        x = [
            a,
            b,
        ]
    try:
        y = 1 / 0
    except ZeroDivisionError:
        y = 2
    return x, y

def gen():
    yield 1
    yield 2

class K:
    def m(self):
        return lambda q: q + 1

def codes():
    out = [sample, gen, K.m]
    return [f.__code__ for f in out]

minor = sys.version_info[1]
for co in codes():
    if minor < 10:
        tab = co.co_lnotab
        starts = list(dis.findlinestarts(co))
        pairs = []
        for off in range(0, len(co.co_code), 2):
            line = co.co_firstlineno
            for s, l in starts:
                if s <= off:
                    line = l
            pairs.append("%d:%d" % (off, line))
    else:
        tab = co.co_linetable
        pairs = []
        for start, end, line in co.co_lines():
            for off in range(start, end, 2):
                pairs.append("%d:%d" % (off, -1 if line is None else line))
    print(minor, co.co_firstlineno, tab.hex(), ",".join(pairs))
