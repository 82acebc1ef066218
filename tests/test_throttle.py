"""Adaptive throttling: a bulk run against a rate-limited gateway slows down instead of failing names.

Throughput figures live in benchmarks/ (RESULTS.md); these tests check outcomes only.
"""

from __future__ import annotations

import threading
import time

import pytest

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import BulkDelete, Session
from modelarts_widgets.sdk.throttle import AdaptiveThrottle


def _fill(emulator: Emulator, count: int) -> list[str]:
    emulator.store.replace([{"config_name": f"rl-{i:04d}", "config_desc": "x"} for i in range(count)])
    return sorted(emulator.store.names())


def test_no_name_fails_for_throttling_alone(emulator: Emulator) -> None:
    # The session's defaults (backoff 0.5 s, 5 resends): what a user gets.
    session = Session(environ=emulator.env())
    names = _fill(emulator, 150)
    emulator.injector.update({"rate_limit": 40, "retry_after": 1})
    results = BulkDelete(session, names).run()  # backups on, the default
    failed = {n: r for n, r in results.items() if not r["is_success"]}
    assert not failed, f"{len(failed)} names failed, e.g. {next(iter(failed.values()))}"
    assert not set(names) & emulator.store.names()
    refused = emulator.injector.injected["throttled"]
    sent = len(emulator.requests)
    # Bursting then sleeping had about a fifth of the requests refused; pacing keeps it small.
    assert refused <= 0.10 * sent, f"{refused} of {sent} requests were answered 429"


def test_isolated_refusals_do_not_slow_the_session_down() -> None:
    throttle = AdaptiveThrottle()
    for _ in range(200):
        throttle.wait_turn()(200)
    throttle.wait_turn()(429)
    assert throttle.rate() is None  # one refusal in 201 answers is no limit
    for _ in range(15):
        throttle.wait_turn()(429)
    rate = throttle.rate()
    assert rate is not None  # 16 refused of 216 answers (7%) is one


def test_a_paced_wait_ends_at_once_when_the_run_is_stopped(emulator: Emulator) -> None:
    session = Session(environ=emulator.env())
    names = _fill(emulator, 60)
    emulator.injector.update({"rate_limit": 2, "retry_after": 1})
    run = BulkDelete(session, names, backup=False).start()
    deadline = time.monotonic() + 30
    while session._api.throttle.rate() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session._api.throttle.rate() is not None, "the throttle never started pacing"
    stopped = time.monotonic()
    run.cancel()
    assert run.finished.wait(5)
    assert time.monotonic() - stopped < 2.5  # a paced turn is cut short, not waited out
    sent = len(emulator.requests)
    time.sleep(1.5)
    assert len(emulator.requests) == sent  # nothing more was sent after the run ended
    deleted = {n for n, r in run.results.items() if r["is_success"]}
    assert emulator.store.names() == set(names) - deleted


@pytest.mark.parametrize("value", [0.0, 1.0, -0.1])
def test_bad_settings_are_refused(value: float) -> None:
    with pytest.raises(ValueError):
        AdaptiveThrottle(beta=value)


def test_turns_are_cancellable_without_a_server() -> None:
    # Cut to 1% and slow to grow back: about one turn a second.
    throttle = AdaptiveThrottle(beta=0.01, recovery=600)
    answers = [throttle.wait_turn() for _ in range(25)]
    time.sleep(0.2)
    for answered in answers:
        answered(429)
    rate = throttle.rate()
    assert rate is not None
    assert rate < 2
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Exception) as caught:
        throttle.wait_turn(cancel)
    assert getattr(caught.value, "error_code", "") == "Client.Cancelled"
    assert time.monotonic() - started < 1.5
