# abort.py: os.abort() from a Python function, single thread.
#
# Assert: SIGABRT (6), SI_TKILL; one thread; Python stack (innermost first):
#   do_abort "LINE: py_abort" <- main "LINE: py_main_calls" <- <module>.
# The interpreter is not finalizing.
import os


def do_abort():
    os.abort()  # LINE: py_abort


def main():
    do_abort()  # LINE: py_main_calls


if __name__ == "__main__":
    main()
