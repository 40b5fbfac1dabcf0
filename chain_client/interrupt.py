"""Ctrl-C in the commands (`scf`, `make demo`, the lender demo): one line and exit status 130, never a traceback.

Each command's `main()` catches KeyboardInterrupt around its work and says `<command>: interrupted`. What is left
is the moment after `main()` has returned, while the interpreter tears down: a Ctrl-C there lands in some object's
finaliser (py-evm's, pycryptodome's) and Python prints "Exception ignored in ... KeyboardInterrupt" with a
traceback, although the work is done and the exit status already decided. `exit_with` closes that gap.
"""

from __future__ import annotations

import signal
import sys
from typing import NoReturn

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


def exit_with(code: int) -> NoReturn:
    """Leave the process with CODE, ignoring Ctrl-C from here on: there is nothing left for it to stop.

    Only for a process's last step (`if __name__ == "__main__"`, the `scf` entry point), never inside `main()`:
    a test or a caller that runs `main()` in its own process keeps its Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
