"""The front end in Chromium: render, filter and select at scale, page memory, and the same
configs as an ipywidgets table (a Checkbox and Labels per row) in a real JupyterLab."""

from __future__ import annotations

import json
import queue
import shutil
import statistics
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from common import Figure

from tests.e2e.conftest import CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def harness(sizes: list[int], runs: int, first_status: tuple[int, list[float]] | None = None) -> list[Figure]:
    """Render, filter, select and page memory; with ``first_status`` = (names, kernel-side
    milliseconds from the Confirm message to the first status message, one per run), the
    time from clicking Confirm to the first status painted, those kernel times included."""
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp())
    for name in ("widget.js", "widget.css"):
        shutil.copy(ROOT / "js" / name, folder / name)
    shutil.copy(Path(__file__).with_name("harness.html"), folder / "index.html")
    # The page's words, as the widget's _catalogs trait carries them.
    from modelarts_widgets.i18n import page_catalogs

    (folder / "catalogs.json").write_text(json.dumps(page_catalogs(), ensure_ascii=False), encoding="utf-8")
    server, base = _serve(folder)
    figures: list[Figure] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.goto(base + "/index.html")
            page.wait_for_function("() => window.benchReady === true")
            cdp = page.context.new_cdp_session(page)
            for n in sizes:
                page.evaluate("(n) => window.bench.render(n)", min(n, 100))  # warm-up
                render = [page.evaluate("(n) => window.bench.render(n)", n) for _ in range(runs)]
                drawn = page.evaluate("() => window.bench.drawnRows()")
                filters, selects, toggles = [], [], []
                for i in range(runs):
                    filters.append(page.evaluate("(t) => window.bench.filter(t)", f"0{i % 9}"))
                    filters.append(page.evaluate("() => window.bench.filter('')"))
                    selects.append(page.evaluate("() => window.bench.selectAll()"))
                    toggles.append(page.evaluate("() => window.bench.toggleOne()"))
                    selects.append(page.evaluate("() => window.bench.selectAll()"))
                big = n >= 10_000
                figures += [
                    Figure(
                        f"front end: {n:,} rows from data to painted",
                        "ms",
                        render,
                        target="≤ 300 ms at 10,000" if big else "",
                        at_most=300 if big else None,
                        notes=[f"{drawn} rows in the DOM (the visible window)"],
                    ),
                    Figure(
                        f"front end: filter keystroke to repaint, {n:,} rows",
                        "ms",
                        filters,
                        target="< 50 ms at 10,000" if big else "",
                        at_most=50 if big else None,
                    ),
                    Figure(
                        f"front end: select all shown, {n:,} rows",
                        "ms",
                        selects,
                        target="< 50 ms at 10,000" if big else "",
                        at_most=50 if big else None,
                    ),
                    Figure(
                        f"front end: toggle one row, {n:,} rows",
                        "ms",
                        toggles,
                        target="< 50 ms at 10,000" if big else "",
                        at_most=50 if big else None,
                    ),
                ]
            if first_status is not None:
                n, kernel_ms = first_status
                page.evaluate("(n) => window.bench.firstStatus(n)", min(n, 100))  # warm-up
                parts = [page.evaluate("(n) => window.bench.firstStatus(n)", n) for _ in kernel_ms]
                assert all(p["names"] == n and p["shown"] > 0 for p in parts), parts
                total = [k + p["confirmMs"] + p["paintMs"] for k, p in zip(kernel_ms, parts)]
                confirm = statistics.median(p["confirmMs"] for p in parts)
                paint = statistics.median(p["paintMs"] for p in parts)
                figures.append(
                    Figure(
                        f"first status on screen after Confirm, {n:,} names",
                        "ms",
                        total,
                        target="≤ 200 ms",
                        at_most=200,
                        notes=[
                            f"per run, the sum of: the page from the Confirm click to the delete request "
                            f"sent (median {confirm:.1f} ms); the kernel from that request to its first "
                            f"status message (median {statistics.median(kernel_ms):.1f} ms, the widget "
                            f"against the emulator); the page from that message ({n:,} names queued) to "
                            f"painted (median {paint:.1f} ms). The two loopback hops through the Jupyter "
                            "server (about a millisecond each) are not in it"
                        ],
                    )
                )
            # Page memory with the largest table, after garbage collection, against an empty page.
            heap = []
            for _ in range(runs):
                page.evaluate("() => window.bench.render(0)")
                cdp.send("HeapProfiler.collectGarbage")
                empty = cdp.send("Runtime.getHeapUsage")["usedSize"]
                page.evaluate("(n) => window.bench.render(n)", max(sizes))
                cdp.send("HeapProfiler.collectGarbage")
                heap.append((cdp.send("Runtime.getHeapUsage")["usedSize"] - empty) / 2**20)
            figures.append(
                Figure(
                    f"page JS heap added by {max(sizes):,} rows",
                    "MiB",
                    heap,
                    target="≤ 80 MB at 10,000",
                    at_most=80e6 / 2**20,
                )
            )
            browser.close()
    finally:
        server.shutdown()
        shutil.rmtree(folder, ignore_errors=True)
    return figures


OURS_CELL = """
import time
from modelarts_widgets import JobConfigTable
rows = [{"name": f"config-{i:06d}", "desc": f"Experiment {i}", "engine": "PyTorch",
         "version": "PyTorch-1.8.0-python3.7", "created": 1700000000000 + i, "lock": ""} for i in range({n})]
table = JobConfigTable(autoload=False)
table.rows = rows
table.phase = "ready"
table
"""

IPYWIDGETS_CELL = """
import ipywidgets as W
rows = [(f"config-{i:06d}", f"Experiment {i}", "PyTorch-1.8.0-python3.7") for i in range({n})]
W.VBox([W.HBox([W.Checkbox(value=False, indent=False, layout=W.Layout(width="30px")), W.Label(name),
                W.Label(desc), W.Label(engine)]) for name, desc, engine in rows])
"""


def widget_models(n: int) -> int:
    """How many widget models (one comm_open message each) the ipywidgets table of ``n`` rows makes."""
    from ipywidgets.widgets import widget

    before = len(widget._instances)
    exec(IPYWIDGETS_CELL.replace("{n}", str(n)), {})
    created = list(widget._instances.values())[before:]
    for model in created:
        model.close()
    return len(created)


COUNT_COMM_OPENS = """() => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    window.commOpens = 0;
    kernel.anyMessage.connect((_, args) => {
        if (args.direction === 'recv' && args.msg.header.msg_type === 'comm_open') window.commOpens++;
    });
}"""

WAIT_FOR_TABLE = """async ([selector, expected, limit]) => {
    const started = performance.now();
    window.jupyterapp.commands.execute('notebook:run-all-cells');
    while (document.querySelectorAll(selector).length < expected) {
        const failed = document.querySelector(".jp-RenderedJavaScript, "
            + '.jp-OutputArea-output [data-mime-type="application/vnd.jupyter.stderr"]');
        if (failed || performance.now() - started > limit) return -1;
        await new Promise((r) => requestAnimationFrame(r));
    }
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return performance.now() - started;
}"""


def late_reader(n: int, delay: float = 5.0) -> tuple[int, int]:
    """comm_open messages a kernel client receives when it starts reading ``delay`` s late.

    No Jupyter server or browser is involved: what is missing was dropped between the kernel
    and its client, as ZMQ does once a socket's queue passes its high-water mark.
    """
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        msg_id = client.execute(IPYWIDGETS_CELL.replace("{n}", str(n)))
        time.sleep(delay)
        received = 0
        while True:
            try:
                msg = client.get_iopub_msg(timeout=120)
            except queue.Empty:  # the kernel's "idle" was dropped with the rest: nothing more comes
                return received, widget_models(n)
            received += msg["msg_type"] == "comm_open"
            done = msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
            if done and msg["parent_header"].get("msg_id") == msg_id:
                return received, widget_models(n)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def wait_for_comm_opens(page: Any, quiet: float = 3.0, limit: float = 90.0) -> None:
    """Wait until no comm_open has arrived for ``quiet`` seconds, so that a count is final."""
    deadline = time.monotonic() + limit
    count = -1
    while time.monotonic() < deadline:
        latest = int(page.evaluate("() => window.commOpens"))
        if latest == count:
            return
        count = latest
        time.sleep(quiet)


def in_jupyterlab(sizes: list[int], runs: int, tmp: Path) -> list[Figure]:
    """Cell run to table painted, ours against an ipywidgets table, in a real JupyterLab.

    The ipywidgets table makes about 14 widget models per row. Where it does not render, the
    report says how many of its models reached the page.
    """
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import Server, write_notebook

    root = tmp / "notebooks"
    root.mkdir(parents=True)
    server = Server("lab", root, {})
    figures: list[Figure] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
            )

            def once(kind: str, cell: str, selector: str, expected: int, tag: str) -> tuple[float, str, int]:
                """Milliseconds to painted (-1 when it failed), the page's error, comm_opens received."""
                name = write_notebook(root, f"{kind}-{tag}.ipynb", [cell])
                page = browser.new_page(viewport={"width": 1300, "height": 900})
                page.goto(server.url(name))
                kernel = "window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel"
                page.wait_for_function(f"() => {kernel}?.status === 'idle'", timeout=120_000)
                page.evaluate(COUNT_COMM_OPENS)
                elapsed = float(page.evaluate(WAIT_FOR_TABLE, [selector, expected, 120_000]))
                error = ""
                if elapsed < 0:
                    wait_for_comm_opens(page)
                    output = page.locator(".jp-OutputArea-output").last
                    if page.get_by_text("Click to show javascript error.").count():
                        page.get_by_text("Click to show javascript error.").click()
                    error = " ".join(output.inner_text().split())[:160] if output.count() else "timed out"
                opens = int(page.evaluate("() => window.commOpens"))
                page.evaluate("() => window.jupyterapp.commands.execute('kernelmenu:shutdown')")
                time.sleep(0.5)
                page.close()
                return elapsed, error, opens

            for n in sizes:
                ours_cell = OURS_CELL.replace("{n}", str(n))
                ipyw_cell = IPYWIDGETS_CELL.replace("{n}", str(n))
                ours = [
                    once("ours", ours_cell, ".maw-root tbody tr[data-name]", 10, f"{n}-{r}")[0]
                    for r in range(runs + 1)
                ][1:]
                figure = Figure(
                    f"JupyterLab: {n:,}-row JobConfigTable, cell run to painted",
                    "ms",
                    ours,
                    # The issue sets the target at 1,000 rows; smaller tables are shown for the trend.
                    target="≥ 10× the baseline" if n >= 500 else "",
                    speedup_at_least=10 if n >= 500 else None,
                )
                _, error, opens = once("ipywidgets", ipyw_cell, ".widget-checkbox", n, f"{n}-w")
                if error:
                    models = widget_models(n)
                    late, _ = late_reader(n)
                    figure.notes.append(
                        f"the ipywidgets table of {n:,} rows did not render: the page received {opens:,} "
                        f"of its {models:,} widget models (comm_open messages) and said “{error}”. "
                        f"A kernel client with no server or browser in between, reading 5 s late, "
                        f"received {late:,} of the {models:,}: the messages are dropped between the "
                        "kernel and its reader when the reader falls behind"
                    )
                else:
                    tries = [
                        once("ipywidgets", ipyw_cell, ".widget-checkbox", n, f"{n}-{r}") for r in range(runs)
                    ]
                    ipyw = [elapsed for elapsed, error, _ in tries if not error]
                    failed = [(error, opens) for _, error, opens in tries if error]
                    if failed:
                        figure.notes.append(
                            f"{len(failed)} of {runs} runs of the {n:,}-row ipywidgets table did not render "
                            f"(the first: {failed[0][1]:,} of {widget_models(n):,} widget models received, "
                            f"“{failed[0][0]}”); its figure is the median of the runs that did"
                        )
                    if ipyw:
                        figures.append(
                            Figure(
                                f"JupyterLab: {n:,}-row ipywidgets table (Checkbox + Labels per row), "
                                "cell run to painted (baseline)",
                                "ms",
                                ipyw,
                                target="—",
                            )
                        )
                        figure.baseline = statistics.median(ipyw)
                        figure.baseline_name = "ipywidgets table"
                figures.append(figure)
            browser.close()
    finally:
        server.stop()
    return figures
