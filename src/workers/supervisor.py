"""``outboundql worker``: N dramatiq worker processes, each started again if it dies.

``dramatiq --processes N`` stops every worker process when one of them dies (a ``kill -9``, the OOM
killer), and has no option to start it again. The supervisor runs N ``dramatiq … --processes 1``
children instead and replaces any that exits while it is not stopping; more than ``max_restarts``
exits within ``window`` seconds (a crash loop: a broken plugin, an unreachable broker) stop them all
with an error. SIGTERM or SIGINT is forwarded to every child as SIGTERM (each child is in a process
group of its own, so a terminal's Ctrl-C reaches it only through the supervisor): the first stops it
after its in-flight jobs, a second at once, as with dramatiq itself. The supervisor returns when they
have all stopped.
"""

from __future__ import annotations

import ctypes
import logging
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)


class Child(Protocol):
    pid: int

    def poll(self) -> int | None: ...
    def send_signal(self, sig: int) -> None: ...


def _die_with_parent() -> None:
    # In the child before exec (Linux): a supervisor killed with SIGKILL still stops its children.
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawner(command: Sequence[str]) -> Callable[[], Child]:
    """Start ``command`` as a child in a process group of its own."""
    return lambda: subprocess.Popen(command, process_group=0, preexec_fn=_die_with_parent)


def supervise(spawn: Callable[[], Child], processes: int, *, max_restarts: int = 5, window: float = 60.0,
              clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> int:
    """Keep ``processes`` children of ``spawn`` running until SIGTERM/SIGINT. Returns 0 once they all
    stopped after a signal, 1 when a crash loop stopped them."""
    children: list[Child] = []
    exits: deque[float] = deque()  # when children exited unexpectedly, within the last `window`
    stopping, code = False, 0

    def start() -> None:
        child = spawn()
        children.append(child)
        log.info("Started worker process %d.", child.pid)
        if stopping:  # a signal arrived while it was being started
            child.send_signal(signal.SIGTERM)

    def stop(signum: int, frame: object = None) -> None:
        nonlocal stopping
        log.info("%s %d worker processes (%s)...", "Killing" if stopping else "Stopping", len(children),
                 signal.Signals(signum).name)
        stopping = True
        for child in children:  # dramatiq stops after its in-flight jobs, or at once on a second signal
            child.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for _ in range(processes):
            start()
        while children:
            sleep(0.2)
            for child in [c for c in children if c.poll() is not None]:
                children.remove(child)
                if stopping:
                    continue
                now = clock()
                exits.append(now)
                while exits[0] <= now - window:
                    exits.popleft()
                if len(exits) > max_restarts:
                    log.error("Worker processes keep exiting (%d exits within %g s, the last with code %s): "
                              "giving up; see the errors above.", len(exits), window, child.poll())
                    code = 1
                    stop(signal.SIGTERM)
                else:
                    log.warning("Worker process %d exited unexpectedly (code %s); starting another.",
                                child.pid, child.poll())
                    start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for child in children:  # only if the supervisor itself failed
            child.send_signal(signal.SIGTERM)
    return code
