"""The widget's plain-text form and the doctor: versions, fix command, front-end install."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from modelarts_widgets import JobConfigTable
from modelarts_widgets import frontend as doctor
from modelarts_widgets.sdk import Session

COMMAND = "%run -m modelarts_widgets.doctor"


@pytest.fixture
def jupyter_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The user's Jupyter directories, empty; no notebook server is running."""
    dirs = {name: tmp_path / name for name in ("data", "config", "runtime")}
    for name, path in dirs.items():
        path.mkdir()
        monkeypatch.setenv(f"JUPYTER_{name.upper()}_DIR", str(path))
    return dirs


def test_plain_text_puts_the_fix_first_then_kernel_versions(session: Session) -> None:
    table = JobConfigTable(session=session, autoload=False)
    text = repr(table)
    cut = text[:110]  # what the page receives from ipywidgets 7
    assert COMMAND in cut
    assert f"ipywidgets {version('ipywidgets')}" in cut
    assert f"anywidget {version('anywidget')}" in cut
    assert "JobConfigTable(" in text
    bundle = table._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert data["text/plain"].startswith("Widget not shown? In a cell: " + COMMAND)
    assert "application/vnd.jupyter.widget-view+json" in data


def test_install_copies_the_kernels_anywidget_front_end(jupyter_dirs: dict[str, Path]) -> None:
    nbconfig = jupyter_dirs["config"] / "nbconfig" / "notebook.json"
    nbconfig.parent.mkdir()
    nbconfig.write_text(json.dumps({"load_extensions": {"other/extension": True}, "x": 1}))
    old = jupyter_dirs["data"] / "labextensions" / "anywidget"
    old.mkdir(parents=True)
    (old / "package.json").write_text(json.dumps({"name": "anywidget", "version": "0.0.1"}))
    (old / "stale.js").write_text("")

    written = doctor.install_front_end()

    lab = jupyter_dirs["data"] / "labextensions" / "anywidget"
    package = json.loads((lab / "package.json").read_text())
    assert package["version"] == version("anywidget")
    assert package["jupyterlab"]["_build"]["load"]
    assert (lab / package["jupyterlab"]["_build"]["load"]).is_file()
    assert not (lab / "stale.js").exists()  # replaced, not merged
    assert (jupyter_dirs["data"] / "nbextensions" / "anywidget" / "extension.js").is_file()
    settings = json.loads(nbconfig.read_text())
    assert settings == {"load_extensions": {"other/extension": True, "anywidget/extension": True}, "x": 1}
    assert lab in written
    assert sorted(p.name for p in lab.parent.iterdir()) == ["anywidget"]  # no staging left behind


def test_doctor_without_a_server_says_so_and_installs(jupyter_dirs: dict[str, Path]) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "modelarts_widgets", "doctor"], capture_output=True, text=True, check=True
    ).stdout
    assert f"ipywidgets {version('ipywidgets')}" in out
    assert f"anywidget {version('anywidget')}" in out
    assert "none found" in out
    assert "Reload the page" in out
    assert (jupyter_dirs["data"] / "labextensions" / "anywidget" / "package.json").is_file()


def test_check_writes_nothing(jupyter_dirs: dict[str, Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "modelarts_widgets", "doctor", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "run without --check" in result.stdout
    assert not any(jupyter_dirs["data"].iterdir())
    assert not any(jupyter_dirs["config"].iterdir())


def test_doctor_reads_a_server_it_cannot_reach_honestly(jupyter_dirs: dict[str, Path]) -> None:
    (jupyter_dirs["runtime"] / "jpserver-1.json").write_text(
        json.dumps({"url": "http://127.0.0.1:9/", "token": "SECRET-token", "pid": 1})
    )
    report = doctor.diagnose(install=False)
    text = str(report)
    assert "http://127.0.0.1:9/: not reachable from the kernel" in text
    assert "none reachable" in text
    assert "Fix: copy anywidget" in text  # it cannot tell, so it does not claim the server is fine
    assert not any((jupyter_dirs["data"]).iterdir())  # install=False writes nothing
    assert "SECRET-token" not in text


def test_magic_doctor_needs_no_credentials(
    jupyter_dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "modelarts_widgets")
    assert shell.run_line_magic("modelarts_delete", "--doctor") is None
    out = capsys.readouterr().out
    assert f"anywidget {version('anywidget')}" in out
    assert "Reload the page" in out
    assert (jupyter_dirs["data"] / "labextensions" / "anywidget" / "package.json").is_file()


def test_unknown_command_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "modelarts_widgets", "docter"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "usage: python -m modelarts_widgets doctor" in result.stderr


@pytest.mark.parametrize(
    ("language", "words", "foreign"),
    [
        (
            "en",
            ["usage: python -m modelarts_widgets doctor", "why the widget does not show", "options"],
            "用法",
        ),
        ("zh-CN", ["用法\uff1apython -m modelarts_widgets doctor", "控件", "只报告", "选项"], "usage"),
    ],
)
def test_the_doctors_help_and_argument_errors_are_in_the_sessions_language(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    language: str,
    words: list[str],
    foreign: str,
) -> None:
    """`%run -m modelarts_widgets.doctor --help` (and a mistyped option) in a Chinese session."""
    monkeypatch.setenv("MODELARTS_LANGUAGE", language)
    with pytest.raises(SystemExit) as exited:
        doctor.main(["--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    for word in words:
        assert word in shown, shown
    assert foreign not in shown.lower(), shown
    if language == "zh-CN":
        below_usage = shown.split("\n", 1)[1]  # the usage line is the command, as typed
        assert not re.search(r"[a-z]{3,} [a-z]{3,}", below_usage), shown  # no English sentence of argparse's
    with pytest.raises(SystemExit) as exited:
        doctor.main(["--chek"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "--chek" in error
    assert ("unrecognized arguments" in error) == (language == "en"), error
    assert ("无法识别的参数" in error) == (language == "zh-CN"), error


def test_run_in_a_cell_leaves_the_users_names_alone(jupyter_dirs: dict[str, Path]) -> None:
    """``%run -m modelarts_widgets.doctor`` copies a script's globals into the notebook's namespace."""
    shell = InteractiveShell.instance()
    shell.user_ns.update({"main": "mine", "json": "mine", "Path": "mine"})
    before = set(shell.user_ns)
    shell.run_line_magic("run", "-m modelarts_widgets.doctor")
    added = {n for n in set(shell.user_ns) - before if not n.startswith("_")}
    assert added == set()
    assert [shell.user_ns[n] for n in ("main", "json", "Path")] == ["mine"] * 3
    assert (jupyter_dirs["data"] / "labextensions" / "anywidget" / "package.json").is_file()


@pytest.mark.parametrize(
    ("server", "kernel", "problems"),
    [
        (("0.11.0", "5.0.16"), ("8.1.9", "0.11.0"), []),
        (("0.9.21", "3.1.11"), ("7.8.5", "0.9.13"), []),
        (("", "3.1.11"), ("7.8.5", "0.9.21"), ["the server has no anywidget front end"]),
        (
            ("0.11.0", "5.0.16"),
            ("8.1.9", "0.9.21"),
            ["the server's anywidget front end is 0.11.0, the kernel's"],
        ),
        (("0.9.21", "3.1.11"), ("8.1.9", "0.9.21"), ["speaks ipywidgets 7 only"]),
    ],
)
def test_judging_kernel_against_server(
    server: tuple[str, str], kernel: tuple[str, str], problems: list[str]
) -> None:
    info = doctor.ServerInfo(url="http://x/", kind="lab", anywidget=server[0], widget_manager=server[1])
    found = doctor._judge(info, {"ipywidgets": kernel[0], "anywidget": kernel[1]})
    assert len(found) == len(problems), found
    for problem, expected in zip(found, problems):
        assert expected in problem


def _jupyter_like_server(
    anywidget: str, token: str = "", page: Callable[[], list[dict[str, str]]] = list, classic: bool = False
) -> Iterator[str]:
    """A server on a real port answering as JupyterLab does to the doctor; 403 without ``token``.

    ``page()`` gives the federated extensions of the /lab page, computed on each load as JupyterLab does.
    """

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if token and self.headers.get("Authorization") != f"token {token}":
                self.send_response(403)
                self.end_headers()
                return
            answers: dict[str, object] = {
                "/api/status": {},
                "/lab/api/settings": {},
                "/lab/extensions/anywidget/package.json": {"version": anywidget},
                "/lab/extensions/@jupyter-widgets/jupyterlab-manager/package.json": {"version": "5.0.13"},
            }
            if classic:  # the classic Notebook 6: no lab/, nbextensions/ with anywidget's index.js
                answers = {
                    "/api/status": {},
                    "/nbextensions/anywidget/extension.js": "define([], function () {});",
                    "/nbextensions/anywidget/index.js": f'var version = "{anywidget}";',
                    "/nbextensions/jupyter-js-widgets/extension.js": "define([], function () {});",
                }
            if self.path == "/lab":
                config = json.dumps({"federated_extensions": page()})
                body = f'<script id="jupyter-config-data" type="application/json">{config}</script>'.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if self.path not in answers:
                self.send_response(404)
                self.end_headers()
                return
            answer = answers[self.path]
            body = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("own", ["password", "elsewhere"])
def test_another_server_of_the_user_is_not_taken_for_the_kernels_own(
    own: str, jupyter_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel's server (JPY_PARENT_PID) needs a password, or runs in another container; a second
    server of the user's serves a matching front end. That says nothing about the kernel's page."""
    monkeypatch.setenv("JPY_PARENT_PID", "4242")
    with contextlib.ExitStack() as stack:
        other = stack.enter_context(contextlib.contextmanager(_jupyter_like_server)(version("anywidget")))
        runtime = jupyter_dirs["runtime"]
        if own == "password":
            mine = stack.enter_context(contextlib.contextmanager(_jupyter_like_server)("", token="unknown"))
            (runtime / "jpserver-4242.json").write_text(
                json.dumps({"url": mine, "token": "", "password": True, "pid": 4242})
            )
        (runtime / "jpserver-5555.json").write_text(
            json.dumps({"url": other, "token": "OTHER-token", "pid": 5555})
        )
        report = doctor.diagnose()
    text = str(report)
    assert "serves a matching front end" not in text, text
    assert report.installed, text
    assert (jupyter_dirs["data"] / "labextensions" / "anywidget" / "package.json").is_file()
    assert "Reload the page" in text


def test_a_stale_server_file_whose_port_is_another_service(jupyter_dirs: dict[str, Path]) -> None:
    """A crashed server's file names a port that now answers with something other than HTTP."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                with conn:
                    conn.recv(65536)
                    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    threading.Thread(target=answer, daemon=True).start()
    port = listener.getsockname()[1]
    (jupyter_dirs["runtime"] / "jpserver-7.json").write_text(
        json.dumps({"url": f"http://127.0.0.1:{port}/", "token": "STALE-token", "pid": 7})
    )
    try:
        text = str(doctor.diagnose(install=False))
    finally:
        listener.close()
    assert f"http://127.0.0.1:{port}/: not reachable from the kernel" in text
    assert "Fix: copy anywidget" in text
    assert "STALE-token" not in text


def test_an_install_that_fails_exits_non_zero(jupyter_dirs: dict[str, Path]) -> None:
    """The data directory cannot be written (here: a file is in the way; read-only fails alike)."""
    labextensions = jupyter_dirs["data"] / "labextensions"
    labextensions.write_text("not a directory")
    result = subprocess.run(
        [sys.executable, "-m", "modelarts_widgets", "doctor"], capture_output=True, text=True, check=False
    )
    assert "Could not install the front end" in result.stdout
    assert "Reload the page" not in result.stdout
    assert result.returncode == 1


@pytest.mark.parametrize("content", ["{'load_extensions': {}", "[1, 2]", '{"load_extensions": ["x/y"]}'])
def test_a_notebook_config_it_cannot_read_is_left_as_it_is(
    content: str, jupyter_dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    nbconfig = jupyter_dirs["config"] / "nbconfig" / "notebook.json"
    nbconfig.parent.mkdir()
    nbconfig.write_text(content)
    assert doctor.main([]) == 1
    assert nbconfig.read_text() == content  # the user's file, not replaced
    assert "Could not install the front end" in capsys.readouterr().out
    assert not any(jupyter_dirs["data"].iterdir())  # nothing half-installed either


@pytest.mark.parametrize("page_loads", ["the server's own", "the user's copy", "none"])
def test_an_install_the_page_never_loads_is_not_reported_as_a_fix(
    page_loads: str,
    jupyter_dirs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The server owns its environment (or has $JUPYTER_PATH) and finds its own anywidget of another
    minor version before the user's data directory, or reads another data directory than the
    kernel's $JUPYTER_DATA_DIR: the copy is never loaded, whatever the reload."""
    user_copy = jupyter_dirs["data"] / "labextensions" / "anywidget" / "package.json"

    def page() -> list[dict[str, str]]:
        if page_loads == "none":
            return []
        if page_loads == "the user's copy" and user_copy.is_file():
            load = json.loads(user_copy.read_text())["jupyterlab"]["_build"]["load"]
        else:
            load = "./static/remoteEntry.0badc0de.js"  # the server's own 0.1.0
        return [{"name": "anywidget", "load": load, "extension": "./extension"}]

    monkeypatch.setenv("JPY_PARENT_PID", "4242")
    served = "" if page_loads == "none" else "0.1.0"
    with contextlib.contextmanager(_jupyter_like_server)(served, token="T0KEN", page=page) as url:
        (jupyter_dirs["runtime"] / "jpserver-4242.json").write_text(
            json.dumps({"url": url, "token": "T0KEN", "pid": 4242})
        )
        status = doctor.main([])
    out = capsys.readouterr().out
    assert user_copy.is_file()
    assert "T0KEN" not in out
    if page_loads == "the user's copy":
        assert status == 0, out
        assert "Problem: the page" not in out
        assert "Reload the page" in out
        return
    assert status == 1, out
    assert "Reload the page" not in out
    if page_loads == "none":
        assert f"the server does not read {user_copy.parent.parent}" in out
        assert "pip install 'anywidget" not in out
    else:
        assert "the page still loads the server's own anywidget front end (0.1.0)" in out
        assert "pip install 'anywidget==0.1.*'" in out


@pytest.mark.parametrize(
    "content", ["[]", "null", '{"url": "http://127.0.0.1:9/", "pid": "abc"}', '{"url": 5, "pid": null}']
)
def test_a_damaged_server_file_is_passed_over(content: str, jupyter_dirs: dict[str, Path]) -> None:
    (jupyter_dirs["runtime"] / "jpserver-1.json").write_text(content)
    result = subprocess.run(
        [sys.executable, "-m", "modelarts_widgets", "doctor", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert "Fix: copy anywidget" in result.stdout


def test_a_page_that_loads_the_kernels_build_is_fine_whatever_the_remembered_file_says(
    jupyter_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A server that looks in the user's data directory first, with another anywidget in its own
    environment: after a first doctor run the page loads the user's copy, but the server still
    answers for the package.json it looked up before (Jupyter remembers each file's location).
    A second run must not call that a problem."""
    doctor.install_front_end()
    user_copy = jupyter_dirs["data"] / "labextensions" / "anywidget" / "package.json"
    load = json.loads(user_copy.read_text())["jupyterlab"]["_build"]["load"]

    def page() -> list[dict[str, str]]:
        return [{"name": "anywidget", "load": load, "extension": "./extension"}]

    monkeypatch.setenv("JPY_PARENT_PID", "4242")
    with contextlib.contextmanager(_jupyter_like_server)("0.1.0", token="T0KEN", page=page) as url:
        (jupyter_dirs["runtime"] / "jpserver-4242.json").write_text(
            json.dumps({"url": url, "token": "T0KEN", "pid": 4242})
        )
        status = doctor.main(["--check"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "Problem" not in out
    assert f"anywidget front end {version('anywidget')}" in out
    assert "serves a matching front end" in out


def test_a_problem_in_a_cell_is_the_report_not_a_traceback(
    jupyter_dirs: dict[str, Path], capfd: pytest.CaptureFixture[str]
) -> None:
    """``%run -m modelarts_widgets.doctor`` (the command the widget names) when a problem remains: the
    report says it; a SystemExit would add a traceback and "Unknown failure executing module"."""
    (jupyter_dirs["data"] / "labextensions").write_text("not a directory")
    shell = InteractiveShell.instance()
    result = shell.run_cell("%run -m modelarts_widgets.doctor")
    out, err = capfd.readouterr()
    assert "Could not install the front end" in out
    assert "SystemExit" not in out + err
    assert "Unknown failure" not in out + err
    assert result.error_in_exec is None
    script = subprocess.run(  # from a terminal the exit status still tells
        [sys.executable, "-m", "modelarts_widgets.doctor"], capture_output=True, text=True, check=False
    )
    assert script.returncode == 1
    assert "Traceback" not in script.stderr


@pytest.mark.parametrize("served", ["0.1.0", version("anywidget")])
def test_the_classic_notebooks_anywidget_version_is_read_not_assumed(
    served: str,
    jupyter_dirs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A classic Notebook 6 whose environment has anywidget's nbextension of another minor version
    than the kernel's: not "a matching front end"."""
    monkeypatch.setenv("JPY_PARENT_PID", "4242")
    with contextlib.contextmanager(_jupyter_like_server)(served, classic=True) as url:
        (jupyter_dirs["runtime"] / "jpserver-4242.json").write_text(json.dumps({"url": url, "pid": 4242}))
        status = doctor.main(["--check"])
    out = capsys.readouterr().out
    assert f"anywidget nbextension {served}" in out
    if served == version("anywidget"):
        assert status == 0, out
        assert "serves a matching front end" in out
    else:
        assert status == 1, out
        assert "serves a matching front end" not in out
        assert "the classic Notebook's anywidget nbextension is 0.1.0" in out
        assert "Fix: copy anywidget" in out
