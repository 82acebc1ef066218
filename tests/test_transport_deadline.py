"""Issue 11, a transport you can trust, against the emulator over real HTTP: a total deadline per
call (item 5)."""

from __future__ import annotations

import time

import pytest

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import (
    AuthenticationError,
    Estimator,
    Session,
    errors,
)
from tests.helpers_transport import _session

# -- 5. a total deadline ---------------------------------------------------------------------------


def test_a_trickling_server_cannot_hold_a_call_past_the_deadline(emulator: Emulator) -> None:
    session = _session(emulator, timeout=(1, 2))
    emulator.injector.update({"trickle": 0.2})
    started = time.monotonic()
    result = Estimator.get_job_configs_list(session)
    elapsed = time.monotonic() - started
    assert result["error_code"] == errors.TIMEOUT
    assert elapsed < 3 + 1.0, elapsed  # connect + read, and a little


def test_trickled_refusals_cannot_stretch_a_call_past_its_deadline(emulator: Emulator) -> None:
    # Each refusal arrives just inside one exchange's deadline; resending them must not add up.
    session = _session(emulator, timeout=(1, 2))
    emulator.injector.update(
        {"error_rate": 1.0, "kinds": ["503"], "retry_after": 0.1, "trickle": 0.01, "seed": 1}
    )
    started = time.monotonic()
    result = Estimator.get_job_configs_list(session)
    elapsed = time.monotonic() - started
    assert result["is_success"] is False
    assert elapsed < 3 + 0.1 * 5 + 1.0, elapsed  # one deadline, the waits asked for, a little


def test_no_credentials_fails_fast_when_the_metadata_service_trickles(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELARTS_METADATA_DISABLED")
    monkeypatch.setenv("MODELARTS_METADATA_ENDPOINT", emulator.endpoint)
    monkeypatch.setenv("MODELARTS_SDK_PATHS", "/nonexistent")
    emulator.injector.update({"trickle": 0.1})
    started = time.monotonic()
    with pytest.raises(AuthenticationError, match="metadata service"):
        Session()
    assert time.monotonic() - started < 2
