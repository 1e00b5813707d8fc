"""Where the metrics of several processes meet, set up by the command that starts them (before any of them
imports ``prometheus_client``, which reads ``PROMETHEUS_MULTIPROC_DIR`` once, at import).

* ``outboundql serve``: its uvicorn processes write to one directory; ``GET /metrics`` on the API port, answered
  by any of them, sums all of them.
* ``outboundql worker``: its dramatiq processes write to another; the supervisor serves their sum on its own port
  (``--metrics-port``, 9191), one scrape target per worker host.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_PREFIX = "outboundql-metrics-"


def prepare_multiprocess_dir(purpose: str) -> Path:
    """Set ``PROMETHEUS_MULTIPROC_DIR`` for this process and its children: the operator's directory (emptied of
    the samples of an earlier run: counters start again from zero with the processes) or a new temporary one."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        return path
    path = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{purpose}-"))
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def remove_multiprocess_dir(path: Path) -> None:
    """Remove the directory `prepare_multiprocess_dir` made (an operator's own is kept)."""
    if path.name.startswith(_PREFIX) and path.parent == Path(tempfile.gettempdir()):
        shutil.rmtree(path, ignore_errors=True)


def serve_multiprocess(host: str, port: int) -> bool:
    """Serve the sum of the processes writing to ``PROMETHEUS_MULTIPROC_DIR`` at ``http://host:port/metrics``
    (a daemon thread of this process). A port that is taken (another ``outboundql worker`` on the host) is logged
    as an error and the jobs run anyway, without metrics: False."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped in the library
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        log.error("The job metrics cannot be served on %s:%d (%s); the workers run without them. Give each "
                  "`outboundql worker` of a host its own --metrics-port (0: none).", host, port, exc.strerror or exc)
        return False
    log.info("Serving the job metrics at http://%s:%d/metrics.", host, port)
    return True
