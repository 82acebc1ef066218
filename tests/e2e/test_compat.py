"""The compatibility matrix: the widget in the front ends ModelArts users meet, driven in Chromium.

JupyterLab 4 + ipywidgets 8 is covered by test_e2e.py. Here, from environments that
scripts/compat-envs builds (cached under .compat/):

* JupyterLab 3.6 + ipywidgets 7.8, the server and the kernel in SEPARATE environments and no
  anywidget in the server's: the widget does not render until the doctor command has run in the
  kernel and the page is reloaded; then list -> select -> Delete -> Confirm -> statuses -> Undo.
* classic Notebook 6.5 (same split set-up, same doctor fix).
* Voila (a one-notebook page) and marimo (``mo.ui.anywidget(JobConfigTable())``, run mode).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import nbformat
import pytest

from modelarts_widgets.emulator import Emulator

from .conftest import FIRST_RENDER_MS, STEP_MS, TOKEN, Notebook, _free_port, env_first_on_path, write_notebook

pytestmark = [pytest.mark.e2e, pytest.mark.compat]
ROOT = Path(__file__).resolve().parents[2]
KERNEL = "modelarts-kernel-env"
ROWS = ".maw-root tbody tr[data-name]"


@pytest.fixture(scope="session")
def envs() -> Path:
    """The matrix's environments, built on first use and cached (scripts/compat-envs)."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "compat-envs")], capture_output=True, text=True, timeout=1800, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"scripts/compat-envs failed:\n{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


class Process:
    """A server process in one of the matrix's environments, stopped by :meth:`stop`."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path, ready: str) -> None:
        self.log = log.open("w")
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while not _answers(ready):
            if self.process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited; see {log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start; see {log}")
            time.sleep(0.3)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError as exc:
        return getattr(exc, "code", None) is not None


def _state_env(state: Path, emulator: Emulator) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("HUAWEICLOUD_", "MODELARTS_", "JUPYTER_"))
    }
    env.pop("PYTHONPATH", None)
    return {
        **env,
        **emulator.env(),
        "MODELARTS_METADATA_DISABLED": "1",
        "JUPYTER_CONFIG_DIR": str(state / "config"),
        "JUPYTER_DATA_DIR": str(state / "data"),
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "IPYTHONDIR": str(state / "ipython"),
        "HOME": str(state / "home"),
    }


def _kernelspec(data: Path, envs: Path) -> None:
    """The user's kernel: its own environment (Python 3.9, ipywidgets 7.8), running this checkout's code."""
    python = str(envs / "kernel-ipyw7" / "bin" / "python")
    spec = data / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python (kernel env)",
                "language": "python",
                "env": {"PYTHONPATH": str(ROOT)},
            }
        )
    )


def _write(root: Path, name: str, cells: list[str], kernel: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, root / name)


def _deletable(emulator: Emulator, count: int) -> list[str]:
    return sorted(n for n in emulator.store.names() if not n.startswith("prod-"))[:count]


def flow(page: Any, emulator: Emulator) -> None:
    """List -> select two -> Delete -> Confirm -> both 'Deleted' -> Undo -> both 'Restored'."""
    page.locator(ROWS).first.wait_for(timeout=FIRST_RENDER_MS)
    shown = {page.locator(ROWS).nth(i).get_attribute("data-name") for i in range(page.locator(ROWS).count())}
    assert shown == emulator.store.names()
    chosen = _deletable(emulator, 2)
    for name in chosen:
        page.get_by_role("checkbox", name=f"Select {name}").check()
    page.get_by_role("button", name="Delete 2 selected").click()
    page.get_by_role("button", name="Confirm").click()
    for name in chosen:
        page.locator(f".maw-root tr[data-name='{name}']").get_by_text("Deleted", exact=True).wait_for(
            timeout=STEP_MS
        )
    assert not set(chosen) & emulator.store.names()
    page.get_by_role("button", name="Undo: restore 2").click()
    for name in chosen:
        page.locator(f".maw-root tr[data-name='{name}']").get_by_text("Restored", exact=True).wait_for(
            timeout=STEP_MS
        )
    assert set(chosen) <= emulator.store.names()
    hints = page.locator(".maw-fallback")
    assert all(not hints.nth(i).is_visible() for i in range(hints.count()))  # hidden once it renders


WIDGET_CELL = "from modelarts_widgets import JobConfigTable\nJobConfigTable(protect=['prod-*'])"
DOCTOR_CELL = "%run -m modelarts_widgets.doctor"


@pytest.fixture
def split_server(
    envs: Path, tmp_path: Path, e2e_emulator: Emulator, request: pytest.FixtureRequest
) -> Iterator[tuple[str, Path]]:
    """JupyterLab 3.6 or Notebook 6.5 from server-lab3/, with the kernel from kernel-ipyw7/ (Python 3.9)."""
    app = request.param
    state = tmp_path / "state"
    root = tmp_path / "notebooks"
    root.mkdir()
    _kernelspec(state / "data", envs)
    env = _state_env(state, e2e_emulator)
    port = _free_port()
    python = str(envs / "server-lab3" / "bin" / "python")
    env = env_first_on_path(env, python)
    if app == "lab":
        command = [python, "-m", "jupyter", "lab", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}"]
        command += [
            "--ServerApp.port_retries=0",
            "--ServerApp.allow_root=True",
            f"--ServerApp.root_dir={root}",
        ]
        command += [f"--IdentityProvider.token={TOKEN}", "--LabApp.expose_app_in_browser=True"]
    else:
        command = [python, "-m", "notebook", "--NotebookApp.ip=127.0.0.1", f"--NotebookApp.port={port}"]
        command += ["--NotebookApp.port_retries=0", "--NotebookApp.allow_root=True"]
        command += [f"--NotebookApp.notebook_dir={root}", f"--NotebookApp.token={TOKEN}"]
    base = f"http://127.0.0.1:{port}"
    server = Process([*command, "--no-browser"], env, tmp_path / f"{app}.log", f"{base}/api/status")
    yield base, root
    server.stop()


@pytest.mark.parametrize("split_server", ["lab"], indirect=True)
def test_jupyterlab_3_split_env_is_fixed_by_the_doctor(
    split_server: tuple[str, Path], page: Any, e2e_emulator: Emulator
) -> None:
    base, root = split_server
    _write(root, "split.ipynb", [WIDGET_CELL, DOCTOR_CELL], KERNEL)
    url = f"{base}/lab/tree/split.ipynb?token={TOKEN}&reset"
    kernel = "window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel"

    def run_cell(index: int) -> None:
        page.wait_for_function(f"() => {kernel}?.status === 'idle'", timeout=FIRST_RENDER_MS)
        page.evaluate(
            """(i) => {
                const panel = window.jupyterapp.shell.currentWidget;
                panel.content.activeCellIndex = i;
                return window.jupyterapp.commands.execute('notebook:run-cell');
            }""",
            index,
        )

    page.goto(url)
    run_cell(0)
    # Without anywidget's front end the page cannot render the widget; the hint names the fix...
    page.get_by_text("Error displaying widget").first.wait_for(timeout=FIRST_RENDER_MS)
    assert page.locator(".maw-root").count() == 0
    hint = page.locator(".maw-fallback")
    hint.wait_for(timeout=STEP_MS)
    assert DOCTOR_CELL in hint.inner_text()
    run_cell(1)
    report = page.locator(".jp-OutputArea-output pre", has_text="Installed anywidget").first
    report.wait_for(timeout=STEP_MS * 2)
    text = report.inner_text()
    assert "anywidget front end missing" in text  # what it found on the server
    assert "Reload the page" in text
    # ...and after the doctor and a reload (no server restart) it does.
    page.goto(url)
    run_cell(0)
    flow(page, e2e_emulator)


@pytest.mark.parametrize("split_server", ["notebook"], indirect=True)
def test_classic_notebook_6_split_env_is_fixed_by_the_doctor(
    split_server: tuple[str, Path], page: Any, e2e_emulator: Emulator
) -> None:
    base, root = split_server
    _write(root, "classic.ipynb", [DOCTOR_CELL, WIDGET_CELL], KERNEL)
    url = f"{base}/notebooks/classic.ipynb?token={TOKEN}"
    ready = "() => window.Jupyter?.notebook?.kernel?.is_connected() && Jupyter.notebook.kernel_busy === false"

    def run_cell(index: int) -> None:
        page.wait_for_function(ready, timeout=FIRST_RENDER_MS)
        page.evaluate("(i) => Jupyter.notebook.execute_cells([i])", index)

    page.goto(url)
    run_cell(1)
    # Without anywidget's nbextension the classic Notebook shows nothing for the widget: the
    # hint output is all there is, and it names the fix.
    hint = page.locator(".maw-fallback")
    hint.wait_for(timeout=FIRST_RENDER_MS)
    assert DOCTOR_CELL in hint.inner_text()
    assert page.locator(".maw-root").count() == 0
    run_cell(0)
    report = page.locator(".output_area pre", has_text="Installed anywidget").first
    report.wait_for(timeout=STEP_MS * 2)
    assert "anywidget nbextension missing" in report.inner_text()
    page.goto(url)
    run_cell(1)
    flow(page, e2e_emulator)


def test_voila_page(envs: Path, tmp_path: Path, page: Any, e2e_emulator: Emulator) -> None:
    root = tmp_path / "notebooks"
    root.mkdir()
    _write(root, "cleanup.ipynb", [WIDGET_CELL], "python3")
    env = {**_state_env(tmp_path / "state", e2e_emulator), "PYTHONPATH": str(ROOT)}
    port = _free_port()
    voila = str(envs / "voila" / "bin" / "voila")
    env = env_first_on_path(env, voila)
    command = [voila, str(root / "cleanup.ipynb"), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"]
    server = Process(command, env, tmp_path / "voila.log", f"http://127.0.0.1:{port}/")
    try:
        page.goto(f"http://127.0.0.1:{port}/")
        flow(page, e2e_emulator)
    finally:
        server.stop()


MARIMO_APP = """import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    from modelarts_widgets import JobConfigTable

    table = mo.ui.anywidget(JobConfigTable(protect=["prod-*"]))
    table
    return


if __name__ == "__main__":
    app.run()
"""


def test_marimo_app(envs: Path, tmp_path: Path, page: Any, e2e_emulator: Emulator) -> None:
    (tmp_path / "cleanup.py").write_text(MARIMO_APP)
    env = {**_state_env(tmp_path / "state", e2e_emulator), "PYTHONPATH": str(ROOT)}
    port = _free_port()
    marimo = str(envs / "marimo" / "bin" / "marimo")
    env = env_first_on_path(env, marimo)
    command = [marimo, "run", str(tmp_path / "cleanup.py"), "--headless", "--host=127.0.0.1"]
    command += [f"--port={port}", "--no-token"]
    server = Process(command, env, tmp_path / "marimo.log", f"http://127.0.0.1:{port}/")
    try:
        page.goto(f"http://127.0.0.1:{port}/")
        flow(page, e2e_emulator)
        if os.environ.get("COMPAT_SHOT"):
            page.screenshot(path=os.environ["COMPAT_SHOT"], full_page=True)
        # marimo's default (compact) width: no column is cut, the Created dates are whole, and a
        # locked row keeps its lock beside the checkbox (marimo's CSS reset makes svg a block).
        layout = page.evaluate(
            """() => {
                const root = [document, ...[...document.querySelectorAll('*')].map((e) => e.shadowRoot)]
                  .filter(Boolean).map((d) => d.querySelector('.maw-root')).find(Boolean);
                const box = root.getBoundingClientRect();
                const heights = [...root.querySelectorAll('tbody tr[data-name]')]
                  .map((tr) => tr.getBoundingClientRect().height);
                return {
                  beyond: [...root.querySelectorAll('thead th')]
                    .filter((th) => th.getBoundingClientRect().right > box.right + 1)
                    .map((th) => th.textContent),
                  clipped: [...root.querySelectorAll('td.maw-col-created, thead th')]
                    .filter((c) => c.scrollWidth > c.clientWidth).map((c) => c.textContent),
                  tallest: Math.max(...heights),
                  shortest: Math.min(...heights),
                };
            }"""
        )
        assert layout["beyond"] == [], layout
        assert layout["clipped"] == [], layout
        assert layout["tallest"] < 1.5 * layout["shortest"], layout
    finally:
        server.stop()


def test_pip_install_keeps_ipywidgets_7(envs: Path, tmp_path: Path) -> None:
    """Installing the package into a kernel with ipywidgets 7.8 installs no other ipywidgets."""
    python = str(envs / "kernel-ipyw7" / "bin" / "python")
    report = tmp_path / "report.json"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--dry-run", "--report", str(report), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    planned = {
        i["metadata"]["name"].lower(): i["metadata"]["version"]
        for i in json.loads(report.read_text())["install"]
    }
    assert "ipywidgets" not in planned, planned
    assert "modelarts-widgets" in planned
    out = subprocess.run(
        [python, "-c", "import ipywidgets; print(ipywidgets.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().startswith("7.8")


PY_TESTS = ["tests/test_widget.py", "tests/test_doctor.py", "tests/test_magic.py", "tests/test_trash.py"]


def test_python_tests_pass_on_ipywidgets_7(envs: Path) -> None:
    """Widget, doctor, magic and trash tests in the kernel env (Python 3.9, ipywidgets 7.8, anywidget 0.9)."""
    python = str(envs / "kernel-ipyw7" / "bin" / "python")
    result = subprocess.run(
        [
            python,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *PY_TESTS,
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]


@pytest.mark.parametrize("app", ["lab", "notebook7"])
def test_doctor_reads_the_servers_front_end_and_leaves_a_working_one_alone(
    app: str, page: Any, request: pytest.FixtureRequest
) -> None:
    """JupyterLab 4 / Notebook 7 with anywidget in the server's env: versions read, nothing to fix."""
    server = request.getfixturevalue(app)
    name = f"doctor-{app}.ipynb"
    check = "from modelarts_widgets.frontend import diagnose\nprint(diagnose(install=False))"
    write_notebook(server.root, name, [check])
    notebook = Notebook(page, server, name)
    notebook.run_cell(0)
    line = notebook.output_line("Server ", timeout=STEP_MS * 2)
    assert f"anywidget front end {version('anywidget')}" in line
    manager = Path(sys.prefix, "share/jupyter/labextensions/@jupyter-widgets/jupyterlab-manager/package.json")
    assert f"widget manager {json.loads(manager.read_text())['version']}" in line
    text = page.locator(".jp-OutputArea-output pre", has_text="Server ").last.inner_text()
    assert "serves a matching front end" in text
    assert "Installed" not in text
