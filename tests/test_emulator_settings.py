"""The emulator as an independent counterpart: its own fault settings and command line refuse bad values."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import requests

from modelarts_widgets.emulator import Emulator, Faults

# -- the emulator's own settings --------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"kinds": ["500", "teapot"]},
        {"kinds": "500"},
        {"kinds": [], "error_rate": 0.5},
        {"error_rate": 1.5},
        {"error_rate": -0.1},
        {"error_rate": "x"},
        {"latency": -1},
        {"latency": "x"},
        {"rate_limit": -5},
        {"rate_limit": "x"},
        {"retry_after": -3},
        {"retry_after": float("inf")},
        {"clock_offset": "x"},
        {"fail_names": ["a"]},
        {"fail_names": {"a": ["x"]}},
        {"fail_names": {"a": [200, "ModelArts.0104", "not an error status"]}},
        {"fail_names": {"a": [404, "ModelArts.0104", "the table pairs 0104 with 400"]}},
        {"fail_names": {"a": ["400", "ModelArts.0104", "a status is a number"]}},
        {"drop_after_names": "abc"},
        {"drop_after_names": [1]},
        {"deny": ["bogus"]},
        {"deny": "delete"},
        {"seed": "x"},
        {"kinds": None},
        {"fault_methods": ["BREW"]},
        {"fault_methods": "POST"},
        {"trickle": -1},
        {"trickle": "x"},
        {"redirect_status": 200},
        {"redirect_status": "307"},
        {"redirect_to": 5},
        {"total_count": "x"},
        {"total_count": True},
        {"null_when_empty": "yes"},
        {"retry_after_value": 5},
    ],
)
def test_bad_fault_settings_are_refused_and_change_nothing(
    emulator: Emulator, changes: dict[str, Any]
) -> None:
    before = emulator.faults.as_dict()
    answer = requests.post(f"{emulator.endpoint}/_emulator/faults", data=json.dumps(changes), timeout=10)
    assert answer.status_code == 400, answer.text
    assert emulator.faults.as_dict() == before
    with pytest.raises(ValueError):
        Emulator(faults=Faults(**changes))


@pytest.mark.parametrize(
    "changes",
    [
        {"kinds": ["500", "teapot"]},
        {"error_rate": 1.5},
        {"error_rate": -0.1},
        {"error_rate": float("nan")},
        {"latency": -1},
        {"deny": ["bogus"]},
        {"fail_names": {"a": [404, "ModelArts.0104", "the table pairs 0104 with 400"]}},
        {"error_rate": 0.5, "kinds": []},
    ],
)
def test_bad_fault_settings_set_in_place_are_refused_too(emulator: Emulator, changes: dict[str, Any]) -> None:
    # em.faults.<setting> = value is how tests and notebooks change a running emulator: a bad value
    # raises there as it does over HTTP and in the constructor, and the setting stays as it was.
    *first, (key, value) = changes.items()  # the last one is bad where the others are not
    for good_key, good_value in first:
        setattr(emulator.faults, good_key, good_value)
    before = emulator.faults.as_dict()
    with pytest.raises(ValueError):
        setattr(emulator.faults, key, value)
    assert emulator.faults.as_dict() == before
    with pytest.raises(AttributeError, match="error_rte"):
        emulator.faults.error_rte = 0.5  # type: ignore[attr-defined]  # a typo is not a new setting
    assert emulator.faults.as_dict() == before
    emulator.faults.error_rate = 1.0  # good values still go in, one at a time
    emulator.faults.kinds = ["500"]
    assert (emulator.faults.error_rate, emulator.faults.kinds) == (1.0, ["500"])


def test_the_command_line_refuses_bad_settings() -> None:
    for args in (["--fault-kinds", "500,teapot"], ["--error-rate", "2"], ["--iam-user", "nopassword"]):
        done = subprocess.run(
            [sys.executable, "-m", "modelarts_widgets.emulator", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2, args
        assert "error:" in done.stderr
