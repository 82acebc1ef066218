"""Shared fixtures and helpers: an isolated environment, a live emulator on loopback, and the
widget helpers (wait for a condition, record what the widget sends, play the page), and a
scripted HTTP server that records each request's headers."""

from __future__ import annotations

import _thread
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import pytest

from modelarts_widgets import JobConfigTable
from modelarts_widgets.emulator import DEFAULT_AK, DEFAULT_SK, Emulator
from modelarts_widgets.sdk import Session
from tests.helpers_transport import _Recorder

_OUR_VARS = ("HUAWEICLOUD_", "MODELARTS_", "PROJECT_ID")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run full-size slow tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="full size; run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No credentials leak in from the machine: a fresh HOME and none of our variables."""
    for name in list(os.environ):
        if name.startswith(_OUR_VARS):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MODELARTS_METADATA_DISABLED", "1")
    # The suite expects English on any machine; the language tests set their own locale.
    monkeypatch.setenv("LANG", "C.UTF-8")
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    return home


# Credentials that the tests use; none may ever show up in a log record.
KNOWN_SECRETS = (DEFAULT_AK, DEFAULT_SK, "SECRET-")


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test runs with DEBUG logging, and no log record may carry a credential."""
    caplog.set_level(logging.DEBUG)
    yield
    # caplog.records here would be the teardown's alone: read the test's own phases too.
    records = [r for when in ("setup", "call", "teardown") for r in caplog.get_records(when)]
    text = "\n".join(f"{logging.Formatter().format(r)} {r.args}" for r in records)
    leaked = [secret for secret in KNOWN_SECRETS if secret in text]
    assert not leaked, f"credentials in log output: {leaked}"
    # ipywidgets logs (and swallows) an exception raised in a comm message handler.
    swallowed = [r.getMessage() for r in records if "Exception in callback" in r.getMessage()]
    assert not swallowed, swallowed


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(configs=30, seed=7) as em:
        yield em


@pytest.fixture
def session(emulator: Emulator) -> Session:
    return Session(environ=emulator.env(), backoff_factor=0.01)


@pytest.fixture
def emulator_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point ``Session()`` (no arguments) at the emulator through the process environment."""
    env = emulator.env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[int, dict[str, str]]], list[dict[str, str]]]]:
    script: list[tuple[int, dict[str, str]]] = []
    seen: list[dict[str, str]] = []
    handler = type("Handler", (_Recorder,), {"script": script, "seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", script, seen
    server.shutdown()
    server.server_close()


# -- helpers ------------------------------------------------------------------------------------


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``predicate`` until it holds; ``AssertionError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


class Recorder:
    """Keeps what the widget sends to the page (its comm has no front end here)."""

    def __init__(self, widget: JobConfigTable) -> None:
        self.messages: list[dict[str, Any]] = []
        original = widget.send

        def send(content: dict[str, Any], buffers: Any = None) -> None:
            self.messages.append(content)
            original(content, buffers)

        widget.send = send  # type: ignore[method-assign]


def front(widget: JobConfigTable, content: dict[str, Any]) -> None:
    """Deliver a message as the page's ``model.send`` would."""
    widget._handle_custom_msg(content, [])


# -- stepping a test from a helper thread, without sleeps ---------------------------------------

CTRL_C = "ctrl-c"  # a step of Background: Ctrl-C in the main thread, as a user's key press


def ctrl_c() -> None:
    """SIGINT to the main thread, as Ctrl-C sends: unlike ``_thread.interrupt_main()`` alone, it
    also wakes a main thread blocked in an untimed wait (``Event.wait()``)."""
    if hasattr(signal, "pthread_kill"):
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
    else:  # pragma: no cover - not POSIX
        _thread.interrupt_main()


class Background:
    """Run ``steps`` in order on a helper thread, at once: each is a callable that waits for
    something (a request held, a message shown) or acts (release, cancel), or :data:`CTRL_C`,
    which raises ``KeyboardInterrupt`` in the main thread (:func:`ctrl_c`) and notes
    when in ``interrupted_at`` (``time.monotonic()`` seconds). :meth:`join` re-raises a step's
    error (say a ``TimeoutError`` from ``Emulator.wait_held``)."""

    def __init__(self, *steps: Callable[[], object] | str) -> None:
        self.interrupted_at: list[float] = []
        self.error: BaseException | None = None
        self._steps = steps
        self._thread = threading.Thread(target=self._run, name="test-background", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for step in self._steps:
                if step == CTRL_C:
                    self.interrupted_at.append(time.monotonic())
                    ctrl_c()
                elif callable(step):
                    step()
        except BaseException as exc:  # handed to the test by join()
            self.error = exc

    def join(self, timeout: float = 30.0) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the background steps did not end"
        if self.error is not None:
            raise self.error


def interrupt_when_held(emulator: Emulator, count: int = 1, *then: Callable[[], object] | str) -> Background:
    """Ctrl-C the main thread once ``count`` requests are held in flight by ``emulator.hold(...)``
    (waiting up to 10 s: the machine may be loaded), then run the ``then`` steps."""
    return Background(lambda: emulator.wait_held(count, timeout=10.0), CTRL_C, *then)


class _StderrWatch:
    def __init__(self, inner: Any, text: str, seen: threading.Event) -> None:
        self._inner = inner
        self._text = text
        self._seen = seen

    def write(self, data: str) -> int:
        written: int = self._inner.write(data)
        if self._text in data:
            self._seen.set()
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def stderr_shows(monkeypatch: pytest.MonkeyPatch, text: str) -> threading.Event:
    """An event set once ``text`` is written to ``sys.stderr`` (which still gets everything):
    what a user waits to see before pressing Ctrl-C again."""
    seen = threading.Event()
    monkeypatch.setattr(sys, "stderr", _StderrWatch(sys.stderr, text, seen))
    return seen


def main_thread_waits() -> bool:
    """Whether the main thread is blocked in a ``threading`` wait (an Event's, a Condition's, a
    queue's): poll it (:func:`wait_until`) to press Ctrl-C while the code under test waits."""
    frame = sys._current_frames().get(threading.main_thread().ident or 0)
    if frame is None:
        return False
    return frame.f_code.co_name == "wait" and frame.f_code.co_filename == threading.__file__


def waited(event: threading.Event, timeout: float = 10.0) -> Callable[[], None]:
    """A step for :class:`Background`: wait for ``event``; ``TimeoutError`` after ``timeout`` s."""

    def wait() -> None:
        if not event.wait(timeout):
            raise TimeoutError(f"not set after {timeout} s")

    return wait
