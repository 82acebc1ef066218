"""The emulator as an independent counterpart: error codes paired with the reference statuses, and the
gateway's 404 for unknown methods."""

from __future__ import annotations

import re

import pytest
import requests

from modelarts_widgets.emulator import Emulator, contract
from modelarts_widgets.sdk import Session
from tests.helpers_emulator import EMULATOR_DIR

# -- error codes and statuses -----------------------------------------------------------------------

_FAIL_CALL = re.compile(r"(?:_fail|ApiFailure)\(\s*(\d{3}),\s*\"([A-Za-z]+\.\d{4})\"")


def test_every_error_code_the_emulator_sends_has_the_reference_status() -> None:
    pairs = []
    for source in sorted(EMULATOR_DIR.glob("*.py")):
        pairs += [(source.name, int(s), c) for s, c in _FAIL_CALL.findall(source.read_text(encoding="utf-8"))]
    assert len(pairs) > 10
    wrong = [(f, s, c) for f, s, c in pairs if contract.ERROR_STATUS.get(c) != s]
    assert not wrong


@pytest.mark.parametrize("kind", ["429", "500", "503"])
def test_injected_errors_pair_codes_with_statuses(emulator: Emulator, kind: str) -> None:
    emulator.faults.error_rate = 1.0
    emulator.faults.kinds = [kind]
    answer = requests.get(f"{emulator.endpoint}/v1/{emulator.project_id}/training-job-configs", timeout=10)
    assert answer.status_code == int(kind)
    code = answer.json().get("error_code")
    assert code is None or contract.ERROR_STATUS[code] == answer.status_code


def test_unknown_method_on_a_config_path_is_the_gateways_404(emulator: Emulator, session: Session) -> None:
    from modelarts_widgets.sdk import ModelArtsError

    with pytest.raises(ModelArtsError) as caught:
        session.call("POST", "/training-job-configs/x", json_body={})
    assert (caught.value.status, caught.value.error_code) == (404, "APIGW.0101")


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS", "TRACE", "HEAD"])
def test_every_other_method_is_the_gateways_404_too(
    emulator: Emulator, session: Session, method: str
) -> None:
    # Not http.server's 501 HTML page: the gateway knows no such API.
    answer = requests.request(
        method, f"{emulator.endpoint}/v1/{emulator.project_id}/training-job-configs/x", timeout=10
    )
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("application/json")
    if method == "HEAD":
        assert answer.content == b""
    else:
        assert answer.json()["error_code"] == "APIGW.0101"
