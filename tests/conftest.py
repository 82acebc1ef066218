"""Shared fixtures: an isolated environment and a live emulator on loopback."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelarts_widgets.emulator import DEFAULT_AK, DEFAULT_SK, Emulator
from modelarts_widgets.sdk import Session

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
    text = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    leaked = [secret for secret in KNOWN_SECRETS if secret in text]
    assert not leaked, f"credentials in log output: {leaked}"
    # ipywidgets logs (and swallows) an exception raised in a comm message handler.
    swallowed = [r.getMessage() for r in caplog.records if "Exception in callback" in r.getMessage()]
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
