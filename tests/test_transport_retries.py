"""Issue 11, a transport you can trust, against the emulator over real HTTP: resending.

Retries above signing (item 2), Retry-After capped (item 3), and cancel at once while
throttled (item 4)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from modelarts_widgets import JobConfigTable
from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import (
    BulkDelete,
    Estimator,
    Session,
    TransportError,
    errors,
)
from tests.conftest import CTRL_C, Background, wait_until
from tests.helpers_transport import _fill, _session

# -- 2. retries above signing ----------------------------------------------------------------------


def test_every_resend_is_signed_afresh(recorder: Any) -> None:
    base, script, seen = recorder
    script += [(429, {"Retry-After": "1.1"}), (503, {"Retry-After": "1.1"}), (200, {})]
    session = Session("AKX", "SKX", "p1", "r1", modelarts_endpoint=base, environ={})
    session.call("DELETE", "/training-job-configs/a")
    assert len(seen) == 3
    dates = [h["X-Sdk-Date"] for h in seen]
    assert len(set(dates)) == 3, "a resend reused an earlier signature date"
    assert len({h["Authorization"] for h in seen}) == 3


# -- 3. Retry-After cap ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["86400.5", "1e10", "inf", "1e400", "Fri, 31 Dec 9999 23:59:59 GMT", "3600"]
)
def test_retry_after_beyond_the_cap_ends_the_call_at_once(emulator: Emulator, value: str) -> None:
    session = _session(emulator)
    name = sorted(emulator.store.names())[0]
    emulator.injector.update({"error_rate": 1.0, "kinds": ["429"], "retry_after_value": value})
    started = time.monotonic()
    results = BulkDelete(session, [name], backup=False).run()
    assert time.monotonic() - started < 2
    assert results[name]["error_code"] == errors.THROTTLED
    assert value in results[name]["error_msg"]
    assert emulator.count("DELETE") == 1
    assert name in emulator.store.names()


def test_retry_after_within_the_cap_is_honoured(emulator: Emulator) -> None:
    session = _session(emulator, max_retry_wait=2, max_retries=1)
    emulator.injector.update({"error_rate": 1.0, "kinds": ["503"], "retry_after_value": "1.5"})
    started = time.monotonic()
    assert Estimator.get_job_configs_list(session)["is_success"] is False
    assert time.monotonic() - started >= 1.4
    assert emulator.count("GET") == 2
    emulator.injector.update({"retry_after_value": "2.5"})
    with pytest.raises(TransportError, match=r"'2\.5'.*longer than the 2 s"):
        session.call("GET", "/training-job-configs")


def test_retry_after_values_are_read_safely() -> None:
    from modelarts_widgets.sdk.transport import parse_retry_after

    assert parse_retry_after("86400.5") == 86400.5
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("nan") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("inf") == float("inf")
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT") > 1e9  # type: ignore[operator]


# -- 4. cancel is immediate ------------------------------------------------------------------------


def _throttle(emulator: Emulator) -> None:
    emulator.injector.update({"error_rate": 1.0, "kinds": ["429"], "retry_after_value": "30"})


def _throttled(emulator: Emulator) -> None:
    """Wait until a request was refused with 429: its sender is now waiting out the Retry-After."""
    wait_until(lambda: emulator.injector.injected["429"] > 0)


def test_cancel_during_throttling_returns_at_once_and_sends_nothing_after(emulator: Emulator) -> None:
    names = _fill(emulator, 40)
    session = _session(emulator)
    run = BulkDelete(session, names, concurrency=8, backup=False).start()
    _throttle(emulator)
    _throttled(emulator)
    started = time.monotonic()
    run.cancel()
    results = run.wait(10)
    assert time.monotonic() - started < 2
    assert run.finished.is_set()
    sent = emulator.count("DELETE")
    assert {r["error_code"] for r in results.values()} <= {errors.CANCELLED}
    assert len(results) == 40
    assert all(r["error_msg"].startswith("Not sent") for r in results.values())
    assert emulator.store.names() == set(names)
    time.sleep(1)
    assert emulator.count("DELETE") == sent


def test_widget_stop_during_throttling(emulator: Emulator) -> None:
    names = _fill(emulator, 30)
    widget = JobConfigTable(session=_session(emulator), backup=False)
    widget.wait_loaded(10)
    widget.selected = names
    _throttle(emulator)
    widget.delete_selected(wait=False)
    _throttled(emulator)
    started = time.monotonic()
    widget.stop()
    assert widget._finished.wait(5)
    assert time.monotonic() - started < 2
    sent = emulator.count("DELETE")
    time.sleep(1)
    assert emulator.count("DELETE") == sent
    assert emulator.store.names() == set(names)
    assert {s[0] for n, s in widget._statuses.items() if n in names} == {"cancelled"}


def test_ctrl_c_in_the_magic_during_long_retry_after(
    emulator: Emulator, emulator_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    names = _fill(emulator, 20, "tmp")
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "modelarts_widgets")
    emulator.injector.update(
        {"error_rate": 1.0, "kinds": ["429"], "retry_after_value": "50", "fault_methods": ["DELETE"]}
    )
    press = Background(lambda: _throttled(emulator), CTRL_C)
    report = shell.run_line_magic("modelarts_delete", "--match tmp-* --yes --no-backup")
    returned = time.monotonic()
    press.join()
    assert returned - press.interrupted_at[0] < 2
    assert "nothing more is sent" in capsys.readouterr().err
    assert "nothing more was sent" in repr(report)
    sent = emulator.count("DELETE")
    time.sleep(1)
    assert emulator.count("DELETE") == sent
    assert set(report) == set(names)
    assert report.deleted == []
    assert emulator.store.names() == set(names)
