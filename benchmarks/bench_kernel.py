"""The kernel side: comm traffic during a bulk delete, memory of a big table, import times."""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from typing import Any

from common import Figure, RemoteEmulator, measure

from modelarts_widgets.sdk import Session


def traffic(emu: RemoteEmulator, n: int, latency: float, runs: int) -> list[Figure]:
    """Comm messages and bytes from kernel to page while the widget deletes ``n`` configs."""
    from modelarts_widgets import JobConfigTable

    counts, sizes, gaps, first = [], [], [], []
    for _ in range(runs):
        emu.reset(n, latency)
        table = JobConfigTable(session=Session(environ=emu.env))
        table.wait_loaded(120)
        sent: list[tuple[float, int, bool]] = []
        table.comm.publish_msg = _recorder(table.comm.publish_msg, sent)
        table.selected = [r["name"] for r in table.rows]
        sent.clear()  # count the delete run only, from the Confirm on
        started = time.perf_counter()
        table._handle_custom_msg({"type": "delete", "names": table.selected, "token": str(started)}, [])
        while table.running or not table.results:
            time.sleep(0.01)
        assert all(r["is_success"] for r in table.results.values())
        counts.append(len(sent))
        sizes.append(sum(s for _, s, _ in sent) / 1e6)
        stamps = [started] + [t for t, _, status in sent if status]
        gaps.append(max(b - a for a, b in zip(stamps, stamps[1:])) * 1000)
        first.append((stamps[1] - started) * 1000)
        table.close()
    return [
        Figure(
            f"comm messages, kernel to page, {n:,}-name delete",
            "msgs",
            [float(c) for c in counts],
            target="≤ 100",
            at_most=100,
        ),
        Figure(f"comm bytes, kernel to page, {n:,}-name delete", "MB", sizes, target="≤ 0.5 MB", at_most=0.5),
        Figure(
            "longest gap between status updates during the run", "ms", gaps, target="≤ 200 ms", at_most=200
        ),
        Figure(f"kernel: Confirm received to first status message sent, {n:,} names", "ms", first),
    ]


def _recorder(publish: Any, sent: list[tuple[float, int, bool]]) -> Any:
    """Wrap a comm's publish_msg to note each message's time, size and whether it is a status."""

    def recording(
        msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **keys: Any
    ) -> None:
        size = len(json.dumps(data, default=str)) + sum(len(b) for b in buffers or [])
        is_status = isinstance(data, dict) and data.get("method") == "custom"
        sent.append((time.perf_counter(), size, is_status))
        publish(msg_type, data, metadata, buffers, **keys)

    return recording


def memory(emu: RemoteEmulator, n: int, runs: int) -> list[Figure]:
    """Python memory a JobConfigTable holding ``n`` configs keeps (tracemalloc, after GC)."""
    from modelarts_widgets import JobConfigTable

    emu.reset(n, 0.0)
    session = Session(environ=emu.env)
    JobConfigTable(session=session).wait_loaded(120)  # warm-up: imports, first comm
    samples = []
    for _ in range(runs):
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        table = JobConfigTable(session=session)
        table.wait_loaded(120)
        assert len(table.rows) == n
        gc.collect()
        samples.append((tracemalloc.get_traced_memory()[0] - before) / 2**20)
        tracemalloc.stop()
        table.close()
        del table
    return [
        Figure(
            f"kernel memory kept by a table of {n:,} configs",
            "MiB",
            samples,
            target="≤ 40 MB",
            at_most=40e6 / 2**20,
        )
    ]


_IMPORT = """
import time
import requests, urllib3, traitlets, ipywidgets, anywidget, IPython
started = time.perf_counter()
{statement}
print(time.perf_counter() - started)
"""


def startup(runs: int) -> list[Figure]:
    """Import times in fresh interpreters, with the package's bytecode cached as after ``pip install``.

    The dependencies' bytecode is always there (pip writes it); ours is kept in a scratch folder
    so that a ``PYTHONDONTWRITEBYTECODE`` in the environment does not make the package alone pay
    for compiling its source at every import. That cost is reported too, beside.
    """
    cache = tempfile.mkdtemp(prefix="bench-pycache-")
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = cache
    uncached = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": cache + "-none"}

    def timed(statement: str, env: dict[str, str] = cached) -> float:
        code = _IMPORT.replace("{statement}", statement)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        )
        return float(out.stdout.strip()) * 1000

    load_ext = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "started = time.perf_counter()\n"
        "shell.run_line_magic('load_ext', 'modelarts_widgets')"
    )
    try:
        imports = measure(lambda: timed("import modelarts_widgets"), runs)
        widget = measure(lambda: timed("from modelarts_widgets import JobConfigTable"), runs)
        compiling = measure(lambda: timed("from modelarts_widgets import JobConfigTable", uncached), runs)
        ext = measure(lambda: timed(load_ext), runs)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    # `import modelarts_widgets` alone loads nothing but its __init__ (the package's names are
    # imported when first asked for), so the target applies to the import a user's cell does.
    return [
        Figure(
            "`import modelarts_widgets` after its dependencies (lazy: loads only __init__)", "ms", imports
        ),
        Figure(
            "`from modelarts_widgets import JobConfigTable` after its dependencies",
            "ms",
            widget,
            target="≤ 30 ms",
            at_most=30,
        ),
        Figure(
            "`from modelarts_widgets import JobConfigTable`, compiling its source (no bytecode cache)",
            "ms",
            compiling,
        ),
        Figure("`%load_ext modelarts_widgets`", "ms", ext),
    ]
