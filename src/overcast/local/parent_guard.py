"""Child processes that end with the local cloud, even when it is killed.

``overcast up`` stops the apps it starts (origin apps behind a distribution) at
shutdown; a ``kill -9`` gives it no shutdown, and the apps would live on, orphaned,
holding their ports. :func:`guarded` wraps such a command in this module, which asks
Linux to send it SIGTERM when its parent dies (``prctl(PR_SET_PDEATHSIG)``, kept
across ``execve``) and then becomes the command (``os.execvp``: same pid, so the
cloud's own stop still signals it). If the cloud died before the request was made,
the command is not run at all. Elsewhere than Linux, the command runs as is.

Linux sends the signal when the *thread* that started the child ends, so commands
are to be started from a thread that lives as long as the cloud (the event loop's).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Sequence

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def guarded(command: Sequence[str]) -> list[str]:
    """``command``, to be run so that it gets SIGTERM when this process dies."""
    if not sys.platform.startswith("linux"):
        return list(command)
    return [sys.executable, "-m", __name__, str(os.getpid()), "--", *command]


def main(argv: Sequence[str]) -> int:
    """``PARENT_PID -- COMMAND...``: arrange for SIGTERM on the parent's death, then exec."""
    if len(argv) < 3 or argv[1] != "--" or not argv[0].isdigit():
        print(
            "usage: python -m overcast.local.parent_guard PARENT_PID -- COMMAND...", file=sys.stderr
        )
        return 2
    parent, command = int(argv[0]), list(argv[2:])
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        print(f"prctl failed: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
        return 1
    if os.getppid() != parent:
        return 1  # the parent died before the request: the command must not outlive it
    os.execvp(command[0], command)
    return 1  # not reached: execvp replaces this process or raises


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
