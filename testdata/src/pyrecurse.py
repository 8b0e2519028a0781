# pyrecurse.py: unbounded Python recursion that exhausts the C stack.
#
# Run by internal/analysis tests under pyenv CPython 3.10, where every Python call
# recurses in C (_PyEval_EvalFrameDefault -> ... -> _PyEval_Vector): with the recursion
# limit raised out of the way, the main thread's 8 MiB stack overflows and the kernel
# delivers SIGSEGV at the guard page. What a test can assert:
#   - kind stack_overflow, the rule python-recursion-stack-overflow;
#   - the crashing thread's Python stack is "descend" at "LINE: py_recurse", repeated.
import sys

sys.setrecursionlimit(10**7)


def descend(n):
    return descend(n + 1)  # LINE: py_recurse


descend(0)
