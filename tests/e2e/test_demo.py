"""The README's demo command: emulator + JupyterLab with the quick-start notebook, stopped by Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from .conftest import FIRST_RENDER_MS, _free_port

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError as exc:
        return getattr(exc, "code", None) is not None  # an HTTP error still means it answers


def test_demo_starts_lab_with_the_quickstart_and_stops_on_ctrl_c(page: Any, tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "demo.log"
    config = tmp_path / "jupyter-config"
    config.mkdir()
    # Only for the test's own driving: window.jupyterapp, as in the other browser tests.
    (config / "jupyter_server_config.py").write_text("c.LabApp.expose_app_in_browser = True\n")
    env = {
        **os.environ,
        "DEMO_PORT": str(port),
        "DEMO_OPEN_BROWSER": "0",
        "DEMO_CONFIGS": "25",
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    for name in [n for n in env if n.startswith(("HUAWEICLOUD_", "MODELARTS_"))]:
        del env[name]
    with log.open("w") as out:
        demo = subprocess.Popen(
            [str(ROOT / "scripts" / "demo")],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        url = emulator = None
        while time.monotonic() < deadline and not (url and _up(url)):
            text = log.read_text()
            found = re.search(rf"http://127\.0\.0\.1:{port}/lab/tree/quickstart\.ipynb\?token=\w+", text)
            emulator_match = re.search(r"ModelArts emulator on (http://127\.0\.0\.1:\d+)", text)
            url = found.group(0) if found else None
            emulator = emulator_match.group(1) if emulator_match else None
            assert demo.poll() is None, text
            time.sleep(0.3)
        assert url, log.read_text()
        assert emulator
        page.goto(url)
        current = "window.jupyterapp?.shell?.currentWidget"
        page.wait_for_function(
            f"() => {current}?.sessionContext?.session?.kernel?.status === 'idle'"
            f" && {current}.title.label === 'quickstart.ipynb'",
            timeout=FIRST_RENDER_MS,
        )
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.locator(".maw-root tbody tr[data-name]").first.wait_for(timeout=FIRST_RENDER_MS)
        assert page.locator(".maw-root tbody tr[data-name]").count() >= 20
        assert page.locator(".maw-root .maw-lock").count() >= 1  # prod-* configs are protected
        os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        demo.wait(30)
        assert not _up(f"http://127.0.0.1:{port}/api/status")
        assert not _up(f"{emulator}/_emulator/state")
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
