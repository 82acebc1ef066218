"""The README's demo command: emulator + JupyterLab on a scratch copy of the notebooks.

It must leave no trace (tracked notebooks, the caller's home and the checkout stay as they
were), stop JupyterLab, its kernels and the emulator within seconds of Ctrl-C or a signal to
the script, and refuse a busy port before starting anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import FIRST_RENDER_MS, _free_port

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = ROOT / ".demo"
STOP_WITHIN = 20  # seconds; the script itself gives JupyterLab 8 s before killing it


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError as exc:
        return getattr(exc, "code", None) is not None  # an HTTP error still means it answers


def _demo_processes() -> set[int]:
    """PIDs whose command line names the demo's scratch folder: emulator, JupyterLab, kernels."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(SCRATCH).encode() in cmdline:
            found.add(int(entry.name))
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _tracked_notebooks() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (ROOT / "notebooks").glob("*.ipynb")}


def _git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment as a user would have it, with an empty home to watch."""
    home = tmp_path / "caller-home"
    home.mkdir()
    config = tmp_path / "jupyter-config-path"
    config.mkdir()
    # Only for the test's own driving: window.jupyterapp, as in the other browser tests.
    (config / "jupyter_server_config.py").write_text("c.LabApp.expose_app_in_browser = True\n")
    env = {
        **os.environ,
        "HOME": str(home),
        "DEMO_OPEN_BROWSER": "0",
        "DEMO_CONFIGS": "25",
        "DEMO_SETUP": "0",  # scripts/test has run scripts/setup already
        "VENV": sys.prefix,
        "JUPYTER_CONFIG_PATH": str(config),
        "PYTHONPATH": str(ROOT),
        # A caller's own settings and folders must not be used by the demo or its kernels.
        "MODELARTS_TRASH_DIR": str(home / "real-trash"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "lab-workspaces"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    for name in [n for n in env if n.startswith(("HUAWEICLOUD_", "JUPYTER_RUNTIME", "JUPYTER_DATA"))]:
        del env[name]
    return env


class Demo:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.log = log
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [str(ROOT / "scripts" / "demo")],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**env, "DEMO_PORT": str(self.port)},
                start_new_session=True,  # its own process group, as in a terminal
            )
        deadline = time.monotonic() + 120
        self.url = self.emulator = ""
        while time.monotonic() < deadline and not (self.url and _up(self.url)):
            text = log.read_text()
            lab = rf"http://127\.0\.0\.1:{self.port}/lab/tree/quickstart\.ipynb\?token=(\w+)"
            found = re.search(lab, text)
            emulator = re.search(r"ModelArts emulator on (http://127\.0\.0\.1:\d+)", text)
            self.url = found.group(0) if found else ""
            self.token = found.group(1) if found else ""
            self.emulator = emulator.group(1) if emulator else ""
            assert self.process.poll() is None, text
            time.sleep(0.3)
        assert self.url, log.read_text()
        assert self.emulator

    def start_kernel(self) -> int:
        """Start a kernel through JupyterLab's REST API; its PID once it runs."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/kernels",
            data=json.dumps({"name": "python3"}).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            kernel_id = json.load(answer)["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for pid in _demo_processes():
                if f"kernel-{kernel_id}".encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    return pid
            time.sleep(0.2)
        raise AssertionError("the kernel did not start")

    def stop_and_check(self, send: Any) -> None:
        """Send a signal with ``send``; everything the demo started must be gone soon after."""
        started = _alive(_demo_processes())
        assert len(started) >= 3, started  # emulator, JupyterLab and at least one kernel
        send()
        try:
            self.process.wait(STOP_WITHIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the demo did not stop within {STOP_WITHIN} s:\n{self.log.read_text()}")
        deadline = time.monotonic() + 5
        while _alive(started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(started), f"still running: {_alive(started)}"
        assert self.process.returncode != 0
        assert not _up(f"http://127.0.0.1:{self.port}/api/status")
        assert not _up(f"{self.emulator}/_emulator/state")
        assert not SCRATCH.exists() or not any(SCRATCH.iterdir())

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        for pid in _alive(_demo_processes()):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def start_demo(demo_env: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    demos: list[Demo] = []

    def start() -> Demo:
        demo = Demo(demo_env, tmp_path / f"demo-{len(demos)}.log")
        demos.append(demo)
        return demo

    yield start
    for demo in demos:
        demo.kill()


@pytest.mark.e2e
def test_demo_runs_the_quickstart_leaves_no_trace_and_stops_on_ctrl_c(
    page: Any, start_demo: Any, demo_env: dict[str, str]
) -> None:
    notebooks_before = _tracked_notebooks()
    status_before = _git_status()
    demo = start_demo()
    page.goto(demo.url)
    current = "window.jupyterapp?.shell?.currentWidget"
    page.wait_for_function(
        f"() => {current}?.sessionContext?.session?.kernel?.status === 'idle'"
        f" && {current}.title.label === 'quickstart.ipynb'",
        timeout=FIRST_RENDER_MS,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    rows = page.locator(".maw-root").first.locator("tbody tr[data-name]")
    rows.first.wait_for(timeout=FIRST_RENDER_MS)
    assert rows.count() >= 20
    assert page.locator(".maw-root .maw-lock").count() >= 1  # prod-* configs are protected
    # Run All finishes with the scratch delete; then the notebook is saved, as autosave would.
    page.wait_for_function(
        f"() => {current}.content.widgets.every(c => c.model.type !== 'code' || c.model.executionCount)"
        f" && {current}.sessionContext.session.kernel.status === 'idle'",
        timeout=FIRST_RENDER_MS,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function(f"() => !{current}.context.model.dirty", timeout=FIRST_RENDER_MS)
    # What Ctrl-C in the terminal sends: SIGINT to the whole foreground process group.
    demo.stop_and_check(lambda: os.killpg(demo.process.pid, signal.SIGINT))
    assert _tracked_notebooks() == notebooks_before
    assert _git_status() == status_before
    assert _tree(Path(demo_env["HOME"])) == []  # no ~/.modelarts_widgets, ~/.jupyter, ~/.ipython


@pytest.mark.e2e
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_script_stops_lab_kernels_and_emulator(start_demo: Any, sig: int) -> None:
    demo = start_demo()
    demo.start_kernel()
    demo.stop_and_check(lambda: os.kill(demo.process.pid, sig))  # the script's own PID only


def _run_demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the demo to its end; one that does not end soon is stopped, with all it started."""
    with subprocess.Popen(
        [str(ROOT / "scripts" / "demo")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)  # the script stops JupyterLab and the emulator
            stdout, stderr = process.communicate(timeout=STOP_WITHIN)
            pytest.fail(f"the demo kept running:\n{stdout}\n{stderr}")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.parametrize("which", ["DEMO_PORT", "DEMO_EMULATOR_PORT"])
def test_a_busy_port_is_refused_before_anything_starts(demo_env: dict[str, str], which: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**demo_env, "DEMO_PORT": str(_free_port()), which: str(port)}
        result = _run_demo(env)
    assert result.returncode != 0
    assert which in result.stderr
    assert str(port) in result.stderr
    assert "emulator on" not in result.stdout  # nothing was started
    assert not SCRATCH.exists()
    assert _tree(Path(demo_env["HOME"])) == []


@pytest.mark.parametrize("value", ["abc", "0", "70000"])
def test_a_bad_demo_port_is_refused(demo_env: dict[str, str], value: str) -> None:
    result = _run_demo({**demo_env, "DEMO_PORT": value})
    assert result.returncode != 0
    assert "DEMO_PORT" in result.stderr
    assert not SCRATCH.exists()


def _assert_refused_before_starting(result: subprocess.CompletedProcess[str], which: str, port: int) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert which in result.stderr
    assert str(port) in result.stderr
    assert "emulator on" not in result.stdout  # nothing was started
    assert "JupyterLab exited" not in result.stderr
    assert not SCRATCH.exists()


@pytest.mark.parametrize("which", ["DEMO_PORT", "DEMO_EMULATOR_PORT"])
def test_a_busy_port_written_with_leading_zeros_is_refused_before_anything_starts(
    demo_env: dict[str, str], which: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run_demo({**demo_env, "DEMO_PORT": str(_free_port()), which: f"0{port}"})
    _assert_refused_before_starting(result, which, port)


def test_one_port_for_lab_and_emulator_is_refused_however_it_is_written(demo_env: dict[str, str]) -> None:
    port = _free_port()
    result = _run_demo({**demo_env, "DEMO_PORT": str(port), "DEMO_EMULATOR_PORT": f"00{port}"})
    _assert_refused_before_starting(result, "DEMO_EMULATOR_PORT", port)
    assert "DEMO_PORT" in result.stderr


@pytest.fixture
def proxy() -> Iterator[list[bytes]]:
    """A proxy on 127.0.0.1 that records what reaches it and answers nothing useful."""
    import threading

    seen: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    seen.append(conn.recv(4096))
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    seen.append(str(server.getsockname()[1]).encode())  # [0]: the port, for the caller
    yield seen
    stop.set()
    thread.join(5)
    server.close()


@pytest.mark.e2e
def test_the_demo_kernels_reach_the_emulator_directly_behind_a_proxy(
    demo_env: dict[str, str], tmp_path: Path, proxy: list[bytes]
) -> None:
    """A caller behind a proxy: the kernels' requests to the local emulator must not go through it."""
    from jupyter_client import BlockingKernelClient

    url = f"http://127.0.0.1:{proxy[0].decode()}"
    env = {n: v for n, v in demo_env.items() if n.lower() != "no_proxy"}
    env.update(dict.fromkeys(("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "all_proxy"), url))
    demo = Demo(env, tmp_path / "demo.log")
    try:
        pid = demo.start_kernel()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        connection = next(Path(a.decode()) for a in cmdline if a.endswith(b".json"))
        client = BlockingKernelClient(connection_file=str(connection))
        client.load_connection_file()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
            out: list[str] = []
            reply = client.execute_interactive(
                "from modelarts_widgets import Session\n"
                "from modelarts_widgets.sdk.bulk import list_all_configs\n"
                "print('COUNT', len(list_all_configs(Session(max_retries=0))))",
                timeout=60,
                output_hook=lambda msg: out.append(str(msg["content"].get("text", msg["content"]))),
            )
        finally:
            client.stop_channels()
        assert reply["content"]["status"] == "ok", out
        assert "COUNT 25" in "".join(out), out
        assert proxy[1:] == []  # nothing, not even the demo's fake keys, went to the proxy
    finally:
        demo.process.send_signal(signal.SIGTERM)  # a clean stop removes the scratch folder
        try:
            demo.process.wait(STOP_WITHIN)
        finally:
            demo.kill()


@pytest.mark.e2e
@pytest.mark.parametrize("caller_home", [True, False], ids=["HOME set", "HOME unset"])
def test_the_browser_opens_the_lab_url_as_the_caller(
    demo_env: dict[str, str], tmp_path: Path, caller_home: bool
) -> None:
    """The user's own browser, profile and home: not one started in the demo's scratch home (which
    is removed when the demo stops), nor sent a file in a hidden folder a sandboxed browser cannot read."""
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$HOME $XDG_CONFIG_HOME $1" >> {opened}\n')
    browser.chmod(0o755)
    env = {**demo_env, "DEMO_OPEN_BROWSER": "1", "BROWSER": f"{browser} %s"}
    if not caller_home:  # as from some service managers: the demo starts all the same
        del env["HOME"]
    demo = Demo(env, tmp_path / "demo.log")
    try:
        deadline = time.monotonic() + 30
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert opened.exists(), demo.log.read_text()
        (line,) = opened.read_text().splitlines()
        home, config, url = line.split(" ")
        assert home == (demo_env["HOME"] if caller_home else "")
        assert config == demo_env["XDG_CONFIG_HOME"]
        assert url == demo.url
    finally:
        demo.process.send_signal(signal.SIGTERM)
        try:
            demo.process.wait(STOP_WITHIN)
        finally:
            demo.kill()
    assert not SCRATCH.exists() or not any(SCRATCH.iterdir())


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("DEMO_LATENCY", "-1"),  # every request would fail in time.sleep
        ("DEMO_LATENCY", "nan"),
        ("DEMO_LATENCY", "inf"),  # every request would hang
        ("DEMO_CONFIGS", "-5"),
        ("DEMO_CONFIGS", "many"),
    ],
)
def test_a_bad_demo_setting_is_refused_with_its_value_and_nothing_left_running(
    demo_env: dict[str, str], setting: str, value: str
) -> None:
    before = _alive(_demo_processes())
    result = _run_demo({**demo_env, "DEMO_PORT": str(_free_port()), setting: value})
    assert result.returncode != 0
    assert "emulator did not start" in result.stderr
    assert value in result.stderr
    assert "JupyterLab with the quick-start notebook" not in result.stdout
    assert not SCRATCH.exists()
    assert _alive(_demo_processes()) == before


def test_a_missing_virtualenv_is_named_before_starting(demo_env: dict[str, str], tmp_path: Path) -> None:
    result = _run_demo({**demo_env, "DEMO_PORT": str(_free_port()), "VENV": str(tmp_path / "no-venv")})
    assert result.returncode == 2
    assert str(tmp_path / "no-venv") in result.stderr
    assert "scripts/setup" in result.stderr
    assert "DEMO_LATENCY" not in result.stderr  # not blamed on a setting that is fine
    assert not SCRATCH.exists()
