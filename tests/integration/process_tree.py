"""The processes an ``outboundql worker`` runs, read from its output and ``/proc`` (Linux), for tests
that kill some of them. Not a test module.

``outboundql worker`` logs ``Started worker process <pid>`` for each dramatiq process it starts (in a
process group of its own), and dramatiq's worker process logs ``Worker process is ready for action.``
once it consumes: a structured line with its ``pid`` (``"pid": <pid>`` in JSON, ``pid=<pid>`` on a console),
or dramatiq's own ``[PID <pid>] …`` format.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from pathlib import Path

from tests.integration.conftest import Child

STARTED = re.compile(r"Started worker process (\d+)\.")
READY = re.compile(r"\[PID (\d+)\].*Worker process is ready for action"
                   r"|Worker process is ready for action.*(?:\"pid\": |pid=)(\d+)")


def started(worker: Child) -> list[int]:
    """Pids of the dramatiq processes the supervisor started, in order."""
    return [int(m.group(1)) for line in list(worker.lines) if (m := STARTED.search(line))]


def ready(worker: Child) -> list[int]:
    """Pids of the dramatiq worker processes that became ready, in order."""
    return [int(m.group(1) or m.group(2)) for line in list(worker.lines) if (m := READY.search(line))]


def wait_ready(worker: Child, count: int, deadline: float) -> list[int]:
    """Wait until ``count`` worker processes are ready; their pids."""
    end = time.monotonic() + deadline
    while len(ready(worker)) < count:
        assert worker.proc.poll() is None, f"the worker exited with {worker.proc.returncode}:\n{worker.output}"
        assert time.monotonic() < end, f"{count} worker processes were not ready within {deadline}s:\n{worker.output}"
        time.sleep(0.1)
    return ready(worker)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, only not reaped yet


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, children first."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(0), [])
        out += children
        todo += children
    return out


def kill_tree(worker: Child) -> None:
    """SIGKILL the supervisor and every process below it at once: no chance to clean up."""
    for pid in reversed([worker.proc.pid, *descendants(worker.proc.pid)]):  # the deepest first
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.proc.wait(timeout=30)
