"""A real JupyterLab / Notebook 7 server, Debian's Chromium through Playwright, and the emulator."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from modelarts_widgets.emulator import Emulator, Faults
from modelarts_widgets.emulator.seed import seed_configs

TOKEN = "e2e-token"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FIRST_RENDER_MS = 90_000
STEP_MS = 15_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def env_first_on_path(env: dict[str, str], python: str) -> dict[str, str]:
    """``env`` with ``python``'s own bin directory first on PATH.

    ``python -m jupyter lab`` runs the first ``jupyter-lab`` on PATH (jupyter_core appends its own
    scripts directory last), so under a PATH that starts with the test venv's bin, as
    ``scripts/test`` sets it, another environment's server would silently be the test venv's.
    """
    path = env.get("PATH") or os.defpath
    return {**env, "PATH": os.pathsep.join([str(Path(python).parent), path])}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[Emulator]:
    with Emulator(configs=0) as em:
        yield em


@pytest.fixture
def e2e_emulator(shared_emulator: Emulator) -> Emulator:
    """The session's emulator, reset: 12 seeded configs, no faults."""
    shared_emulator.store.replace(seed_configs(12, seed=3))
    shared_emulator.injector.faults = Faults()
    shared_emulator.requests.clear()
    return shared_emulator


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: run scripts/setup")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Server:
    def __init__(
        self,
        app: str,
        root: Path,
        env: dict[str, str],
        user_settings: dict[str, Any] | None = None,
        python: str = sys.executable,
    ) -> None:
        self.app = app
        self.root = root
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        state = root.parent / f"{app}-state"
        settings = state / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        # More user settings, by plugin id: {"@jupyterlab/translation-extension:plugin": {...}}.
        for plugin, values in (user_settings or {}).items():
            package, name = plugin.split(":")
            folder = state / "config" / "lab" / "user-settings" / package
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.jupyterlab-settings").write_text(json.dumps(values))
        env = env_first_on_path(
            {
                **os.environ,
                **env,
                "JUPYTER_CONFIG_DIR": str(state / "config"),
                "JUPYTER_DATA_DIR": str(state / "data"),
                "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
                "IPYTHONDIR": str(state / "ipython"),
                "HOME": str(state / "home"),  # the kernels' trash folder lives here, not in the real home
                "MODELARTS_TRASH_DIR": str(state / "trash"),  # and the kernels' backups go here
            },
            python,
        )
        expose = "LabApp" if app == "lab" else "JupyterNotebookApp"
        self.log = (root.parent / f"{app}.log").open("w")
        self.process = subprocess.Popen(
            [
                python,
                "-m",
                "jupyter",
                app,
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                "--ServerApp.allow_root=True",
                f"--IdentityProvider.token={TOKEN}",
                f"--ServerApp.root_dir={root}",
                f"--{expose}.expose_app_in_browser=True",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter {app} exited; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={TOKEN}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter {app} did not start; see {self.log.name}")
            time.sleep(0.3)

    def url(self, notebook: str) -> str:
        if self.app == "lab":
            return f"{self.base}/lab/tree/{notebook}?token={TOKEN}&reset"
        return f"{self.base}/notebooks/{notebook}?token={TOKEN}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def _server(
    app: str,
    tmp_path_factory: pytest.TempPathFactory,
    emulator: Emulator,
    settings: dict[str, Any] | None = None,
) -> Iterator[Server]:
    root = tmp_path_factory.mktemp(f"{app}-root") / "notebooks"
    root.mkdir()
    env = {**emulator.env(), "MODELARTS_METADATA_DISABLED": "1"}
    server = Server(app, root, env, settings)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory, shared_emulator: Emulator) -> Iterator[Server]:
    yield from _server("lab", tmp_path_factory, shared_emulator)


@pytest.fixture(scope="session")
def notebook7(tmp_path_factory: pytest.TempPathFactory, shared_emulator: Emulator) -> Iterator[Server]:
    yield from _server("notebook", tmp_path_factory, shared_emulator)


def write_notebook(root: Path, name: str, cells: list[str]) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, root / name)
    return name


class Notebook:
    """A notebook open in the browser, with helpers to run cells and find the widget."""

    def __init__(self, page: Any, server: Server, name: str) -> None:
        self.page = page
        self.server = server
        page.goto(server.url(name))
        kernel = "window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel"
        page.wait_for_function(f"() => {kernel}?.status === 'idle'", timeout=FIRST_RENDER_MS)

    def run_all(self) -> None:
        self.page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        self.page.locator(".maw-root tbody tr[data-name]").first.wait_for(timeout=FIRST_RENDER_MS)

    def run_cell(self, index: int) -> None:
        self.page.evaluate(
            """(i) => {
                const panel = window.jupyterapp.shell.currentWidget;
                panel.content.activeCellIndex = i;
                return window.jupyterapp.commands.execute('notebook:run-cell');
            }""",
            index,
        )

    def output_line(self, marker: str, timeout: int = STEP_MS) -> str:
        locator = self.page.locator(".jp-OutputArea-output pre", has_text=marker).last
        locator.wait_for(timeout=timeout)
        text: str = locator.inner_text()
        return next(line for line in text.splitlines() if line.startswith(marker))

    def cell_count(self) -> int:
        return int(self.page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length"))

    def row(self, name: str) -> Any:
        return self.page.locator(f".maw-root tr[data-name='{name}']")


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    page.close()
    context.close()
    widget_errors = [e for e in errors if "maw" in e or "widget.js" in e]
    assert not widget_errors, widget_errors
