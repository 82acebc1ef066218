"""Shared fixtures and helpers: an isolated environment, a live emulator on loopback, and the
widget helpers (wait for a condition, record what the widget sends, play the page), and a
scripted HTTP server that records each request's headers."""

from __future__ import annotations

import logging
import os
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
