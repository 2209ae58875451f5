"""Where the processes' metric files live: PROMETHEUS_MULTIPROC_DIR, set before prometheus_client is imported.

prometheus_client decides at import time whether a process keeps its values in memory or in files of that
directory, so the command line calls `configure` before it imports the app. This module must not import
prometheus_client itself."""
from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable

ENV = "PROMETHEUS_MULTIPROC_DIR"
log = logging.getLogger("vigil.metrics")
_FILE = re.compile(r"_(\d+)\.db$")  # counter_1234.db, histogram_1234.db, gauge_livesum_1234.db


def configure(metrics_dir: Path | None, workers: int, wipe_stale: bool = False) -> Callable[[], None]:
    """Choose the directory for this process and its children; returns what to call once they have all exited.

    VIGIL_METRICS_DIR (settings.metrics_dir) wins, then a PROMETHEUS_MULTIPROC_DIR already set by the operator;
    with neither, several server processes get a private temporary directory and one process keeps its
    values in memory. `wipe_stale` (the server's start) removes files left by processes that have exited."""
    private = None
    if metrics_dir is not None:
        path = Path(metrics_dir)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    elif os.environ.get(ENV):
        path = Path(os.environ[ENV])
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    elif workers > 1:
        path = private = Path(tempfile.mkdtemp(prefix="vigil-metrics-"))  # mode 0700
    else:
        return lambda: None
    if "prometheus_client" in sys.modules:  # a bug in the caller: this process would keep its values in memory
        log.warning("prometheus_client was imported before the metrics directory was set")
    if wipe_stale:
        remove_stale_files(path)
    os.environ[ENV] = str(path)
    return (lambda: shutil.rmtree(private, ignore_errors=True)) if private else (lambda: None)


def remove_stale_files(path: Path) -> int:
    """Remove the files of processes no longer running (a previous run's); returns how many.

    Files of running processes (a `vigil worker` sharing the directory) stay, so their counts go on."""
    removed = 0
    for file in Path(path).glob("*.db"):
        match = _FILE.search(file.name)
        if match and not _alive(int(match.group(1))):
            file.unlink(missing_ok=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def directory() -> Path | None:
    """The multi-process directory of this process, if there is one."""
    value = os.environ.get(ENV)
    return Path(value) if value else None
