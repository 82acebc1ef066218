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


# The reference's error table (spec §2.9: modelarts_03_0095 and the API Gateway pages), row by row:
# code -> every status it is listed with.
REFERENCE_TABLE = {
    **dict.fromkeys(("ModelArts.0101", "ModelArts.0104", "ModelArts.0107", "ModelArts.0102"), (400,)),
    "ModelArts.0015": (404,),
    "ModelArts.0204": (400,),
    **dict.fromkeys(("ModelArts.0201", "ModelArts.0202", "ModelArts.0212", "ModelArts.4504"), (401,)),
    "ModelArts.0203": (401, 403),
    **dict.fromkeys(("ModelArts.0205", "ModelArts.0207", "ModelArts.0208"), (401,)),
    "ModelArts.0206": (401, 403),  # in the 0205-0208 row (401) and a row of its own (403)
    **dict.fromkeys(("ModelArts.0210", "ModelArts.0108", "ModelArts.0112"), (403,)),
    **dict.fromkeys(("ModelArts.6201", "ModelArts.6203"), (401,)),
    **dict.fromkeys(("ModelArts.4116", "ModelArts.4118"), (403,)),
    "ModelArts.6100": (408,),
    "ModelArts.6101": (429,),
    **dict.fromkeys(("ModelArts.0010", "ModelArts.6102"), (500,)),
    "APIGW.0101": (404,),
    **dict.fromkeys(("APIGW.0301", "APIGW.0303", "APIG.0303"), (401,)),
    **dict.fromkeys(("APIG.0308", "APIGW.0308"), (429,)),
}


@pytest.mark.parametrize("code", sorted(REFERENCE_TABLE))
def test_a_scripted_failure_keeps_the_status_the_reference_gives_its_code(
    emulator: Emulator, code: str
) -> None:
    # fail_names takes a documented code with each status the table lists it with, and no other.
    for status in REFERENCE_TABLE[code]:
        emulator.faults.fail_names = {"a": [status, code, "as documented"]}
    for status in {400, 401, 403, 404, 408, 429, 500} - set(REFERENCE_TABLE[code]):
        with pytest.raises(ValueError, match="the reference pairs"):
            emulator.faults.fail_names = {"a": [status, code, "another status"]}


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
