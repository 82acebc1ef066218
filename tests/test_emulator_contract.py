"""The emulator as an independent counterpart: its own contract, verifier, catalog, IAM and settings."""

from __future__ import annotations

import ast
import json
import random
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from modelarts_widgets.emulator import DEFAULT_REGION, Emulator, Faults, contract, verify
from modelarts_widgets.sdk import Session, signer
from tests.test_signer import AK, DATE, HOST, PROJECT, SK, _random_request

EMULATOR_DIR = Path(__file__).resolve().parent.parent / "modelarts_widgets" / "emulator"
GOOD_BODY: dict[str, Any] = {
    "config_name": "body-check",
    "worker_server_num": 1,
    "app_url": "/b/code/",
    "boot_file_url": "/b/code/train.py",
    "spec_id": 1,
    "engine_id": 1,
    "data_url": "/b/data/",
}


# -- independence --------------------------------------------------------------------------------


def test_the_emulator_runs_without_importing_the_sdk() -> None:
    # Every route is exercised, authenticated by an IAM token (the SDK's signer must not be
    # loaded here), so that an import made lazily inside a handler is caught too.
    script = """
import json, sys, urllib.request
from modelarts_widgets.emulator import Emulator

def call(em, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(em.endpoint + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.headers, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.headers, {"status": exc.code}

with Emulator(configs=3) as em:
    em.identities.users[("d", "u")] = "p"
    auth = {"identity": {"methods": ["password"], "password": {"user": {
        "name": "u", "password": "p", "domain": {"name": "d"}}}},
        "scope": {"project": {"id": em.project_id}}}
    headers, _ = call(em, "POST", "/v3/auth/tokens", {"auth": auth})
    token = headers["X-Subject-Token"]
    base = "/v1/" + em.project_id
    body = {"config_name": "indep", "worker_server_num": 1, "app_url": "/a/", "model_id": 0,
            "boot_file_url": "/a/b.py", "spec_id": 1, "engine_id": 2, "data_url": "/d/"}
    steps = [
        ("GET", "/v3", None), ("GET", base + "/job/ai-engines?job_type=train", None),
        ("GET", base + "/job/resource-specs?job_type=train", None),
        ("GET", base + "/training-job-configs?per_page=2", None),
        ("POST", base + "/training-job-configs", body),
        ("GET", base + "/training-job-configs/indep", None),
        ("PUT", base + "/training-job-configs/indep", {**body, "config_name": None}),
        ("PUT", base + "/training-job-configs/indep", {"config_desc": "partial"}),
        ("DELETE", base + "/training-job-configs/indep", None),
        ("DELETE", base + "/training-job-configs/indep", None),
    ]
    for method, path, payload in steps:
        print(method, path, call(em, method, path, payload, token)[1].get("status", "ok"))
loaded = sorted(m for m in sys.modules if m.startswith("modelarts_widgets.sdk"))
print(loaded)
sys.exit(1 if loaded else 0)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "POST /v1/" in done.stdout, done.stdout
    assert "Traceback" not in done.stderr, done.stderr


def _imported_names(tree: ast.AST) -> list[str]:
    """Every module an emulator source imports, as dotted names (relative ones with their dots),
    including ``from .. import sdk`` and ``importlib.import_module("...")`` / ``__import__``."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = ("." * node.level) + (node.module or "")
            names.append(target)
            names.extend(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__"):
                names.extend(
                    a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                )
    return names


def test_no_emulator_module_names_the_sdk() -> None:
    for source in sorted(EMULATOR_DIR.glob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for target in _imported_names(tree):
            assert "sdk" not in target.split("."), (source.name, target)


@pytest.mark.parametrize(
    "line",
    [
        "from .. import sdk",
        "from modelarts_widgets import sdk",
        "from ..sdk import signer",
        "import modelarts_widgets.sdk.signer",
        "importlib.import_module('modelarts_widgets.sdk')",
        "__import__('modelarts_widgets.sdk.signer')",
    ],
)
def test_the_import_check_sees_every_way_of_importing_the_sdk(line: str) -> None:
    names = _imported_names(ast.parse(f"def lazy():\n    {line}\n"))
    assert any("sdk" in name.split(".") for name in names), names


# -- the emulator's verifier against the official signer and the known-answer vectors ------------


def test_verifier_reproduces_the_known_answer_vectors() -> None:
    headers = {"content-type": "application/json", "host": HOST, "x-sdk-date": DATE}
    vector_a = verify.expected_signature(
        secret=SK,
        method="GET",
        path=f"/v1/{PROJECT}/training-job-configs",
        raw_query="config_type=custom&order=desc&page=1&per_page=10&search_content=my%20cfg&sortBy=create_time",
        headers=headers,
        signed_headers=["content-type", "host", "x-sdk-date"],
        body=b"",
        date=DATE,
    )
    assert vector_a == "0fb5ddecbf3413c30548c93d79c5e542424edd1f2a3bfe95d20fa9fb710c9100"
    vector_b = verify.expected_signature(
        secret=SK,
        method="DELETE",
        path=f"/v1/{PROJECT}/training-job-configs/test-trainconfig",
        raw_query="",
        headers={**headers, "x-security-token": "EXAMPLESECURITYTOKEN"},
        signed_headers=["content-type", "host", "x-sdk-date", "x-security-token"],
        body=b"",
        date=DATE,
    )
    assert vector_b == "231e16c2a0a386da21e832ce95d2b946cba168ac19e47f4ee703a47faab8778a"


def test_verifier_accepts_what_the_official_signer_signs_on_500_random_requests() -> None:
    core_signer = pytest.importorskip("huaweicloudsdkcore.signer.signer")
    from huaweicloudsdkcore.sdk_request import SdkRequest

    rng = random.Random(77)
    for _ in range(500):
        case = _random_request(rng)
        headers = dict(case["headers"])  # type: ignore[call-overload]
        request = SdkRequest(
            method=case["method"],
            schema="https",
            host=HOST,
            resource_path=case["path"],
            query_params=[(k, list(v) if isinstance(v, list) else v) for k, v in case["query"]],  # type: ignore[attr-defined]
            header_params=headers,
            body=case["body"],
        )

        class Creds:
            ak = AK
            sk = case["sk"]

        core_signer.Signer(Creds).sign(request)
        parts = verify.parse_authorization(request.header_params["Authorization"])
        assert parts is not None
        _, _, raw_query = request.uri.partition("?")
        body = case["body"]
        ours = verify.expected_signature(
            secret=case["sk"],  # type: ignore[arg-type]
            method=case["method"],  # type: ignore[arg-type]
            path=case["path"],  # type: ignore[arg-type]
            raw_query=raw_query,
            headers={k.lower(): str(v) for k, v in request.header_params.items()},
            signed_headers=parts["SignedHeaders"].split(";"),
            body=body if isinstance(body, bytes) else b"",
            date=DATE,
        )
        assert ours == parts["Signature"], case


@pytest.mark.parametrize("path", ["/v1/p/training-job-configs/a%2Fb", "/v1/p/a%2F%2Fb/", "/v1/p/x%20y/%7E"])
def test_verifier_reads_escaped_paths_as_the_official_signer_does(path: str) -> None:
    # The official signer unquotes the whole path and then splits it on "/": an escaped
    # slash is a separator in the signature.
    core_signer = pytest.importorskip("huaweicloudsdkcore.signer.signer")
    from huaweicloudsdkcore.sdk_request import SdkRequest

    request = SdkRequest(
        method="GET",
        schema="https",
        host=HOST,
        resource_path=path,
        query_params=[],
        header_params={"X-Sdk-Date": DATE, "Content-Type": "application/json"},
        body=b"",
    )

    class Creds:
        ak, sk = AK, SK

    core_signer.Signer(Creds).sign(request)
    parts = verify.parse_authorization(request.header_params["Authorization"])
    assert parts is not None
    ours = verify.expected_signature(
        secret=SK,
        method="GET",
        path=path,
        raw_query="",
        headers={k.lower(): str(v) for k, v in request.header_params.items()},
        signed_headers=parts["SignedHeaders"].split(";"),
        body=b"",
        date=DATE,
    )
    assert ours == parts["Signature"]


# -- query parsing per the signing rules ---------------------------------------------------------


def test_query_parsing_keeps_plus_repeats_and_decodes_escaped_names() -> None:
    assert verify.parse_query("search_content=a+b&x=1&x=2&%73ortBy=create_time&empty=") == [
        ("search_content", "a+b"),
        ("x", "1"),
        ("x", "2"),
        ("sortBy", "create_time"),
        ("empty", ""),
    ]
    assert verify.canonical_query([("x", "2"), ("x", "1"), ("a b", "c/d")]) == "a%20b=c%2Fd&x=1&x=2"
    with pytest.raises(verify.BadRequestText):
        verify.parse_query("q=%FF")


def _signed_get(
    emulator: Emulator,
    path: str,
    wire_query: str,
    extra: dict[str, str] | None = None,
    signed_query: str | None = None,
) -> Any:
    """A GET with ``wire_query`` sent as is, signed over ``signed_query`` (default: the same)."""
    full = f"/v1/{emulator.project_id}{path}"
    host = emulator.endpoint.split("//", 1)[1]
    headers = signer.sign(
        access_key=next(iter(emulator.identities.keys)),
        secret_key=next(iter(emulator.identities.keys.values())),
        method="GET",
        host=host,
        path=full,
        query=wire_query if signed_query is None else signed_query,
        headers={"Content-Type": "application/json", **(extra or {})},
    )
    encoded = {k: v.encode("utf-8").decode("latin-1") for k, v in headers.items()}
    return requests.get(f"{emulator.endpoint}{full}?{wire_query}", headers=encoded, timeout=10)


def test_a_plus_on_the_wire_is_a_plus_not_a_space(emulator: Emulator) -> None:
    emulator.store.replace([dict(emulator.store.snapshot().popitem()[1], config_name="a+b")])
    # Signing clients never send '+' (a space is %20); a '+' on the wire is the character, so
    # the gateway signs it as %2B, and it is searched for as '+'.
    answer = _signed_get(
        emulator, "/training-job-configs", "search_content=a+b", signed_query="search_content=a%2Bb"
    )
    assert answer.status_code == 200, answer.text
    assert [c["config_name"] for c in answer.json()["configs"]] == ["a+b"]
    spaced = _signed_get(emulator, "/training-job-configs", "search_content=a%20b")
    assert spaced.json()["configs"] == []


def test_utf8_header_values_are_verified_as_utf8(emulator: Emulator) -> None:
    answer = _signed_get(emulator, "/training-job-configs", "per_page=1", {"X-Note": "中文 é"})
    assert answer.status_code == 200, answer.text


def test_only_signed_header_values_need_to_be_utf8(emulator: Emulator) -> None:
    # Names with "_" are never signed (the official signer skips them); a Latin-1 value there
    # is no part of the signature, so it cannot make the request fail.
    path = f"/v1/{emulator.project_id}/training-job-configs"
    headers = signer.sign(
        access_key=next(iter(emulator.identities.keys)),
        secret_key=next(iter(emulator.identities.keys.values())),
        method="GET",
        host=emulator.endpoint.split("//", 1)[1],
        path=path,
        headers={"Content-Type": "application/json"},
    )
    unsigned = {**headers, "X_Trace": "caf\xe9"}  # sent as the Latin-1 byte 0xE9
    assert requests.get(f"{emulator.endpoint}{path}", headers=unsigned, timeout=10).status_code == 200
    # ... while a signed value that is not UTF-8 is still refused.
    signed = signer.sign(
        access_key=next(iter(emulator.identities.keys)),
        secret_key=next(iter(emulator.identities.keys.values())),
        method="GET",
        host=emulator.endpoint.split("//", 1)[1],
        path=path,
        headers={"Content-Type": "application/json", "X-Note": "caf\xe9"},
    )
    assert requests.get(f"{emulator.endpoint}{path}", headers=signed, timeout=10).status_code == 400


def test_percent_escaped_names_and_repeated_keys_verify(emulator: Emulator) -> None:
    query = signer.canonical_query([("per_page", 2), ("tag", ["b", "a"]), ("x y", "1")])
    answer = _signed_get(emulator, "/training-job-configs", query)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["configs"]) == 2


# -- body validation --------------------------------------------------------------------------------


def _post(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    from modelarts_widgets.sdk import ModelArtsError

    try:
        return session.call("POST", "/training-job-configs", json_body=body)
    except ModelArtsError as exc:
        return {"status": exc.status, "error_code": exc.error_code, "error_msg": exc.error_msg}


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"worker_server_num": "abc"}, "worker_server_num must be an integer"),
        ({"worker_server_num": True}, "worker_server_num must be an integer"),
        ({"worker_server_num": 0}, "worker_server_num"),
        ({"worker_server_num": 999}, "worker_server_num"),
        ({"spec_id": None}, "spec_id"),
        ({"spec_id": 12345}, "spec_id"),
        ({"engine_id": 777}, "engine_id"),
        ({"data_url": None}, "exactly one data source"),
        ({"dataset_id": "d1", "dataset_version_id": "v1"}, "exactly one data source"),
        ({"data_url": None, "dataset_id": "d1"}, "go together"),
        ({"config_name": "bad name"}, "config_name"),
        ({"config_desc": "x" * 257}, "config_desc"),
        ({"app_url": None}, "app_url and boot_file_url"),
        ({"parameter": [{"label": "lr", "value": None}]}, "parameter"),
        ({"data_url": None, "data_source": [{"type": "s3", "data_url": "/x/"}]}, "data_source"),
    ],
)
def test_create_bodies_are_checked_as_the_reference_says(
    emulator: Emulator, session: Session, change: dict[str, Any], needle: str
) -> None:
    body = {k: v for k, v in {**GOOD_BODY, **change}.items() if v is not None}
    before = emulator.store.names()
    answer = _post(session, body)
    assert answer.get("status") == 400, answer
    assert answer["error_code"] in ("ModelArts.0104", "ModelArts.0107")
    assert needle in answer["error_msg"]
    assert emulator.store.names() == before


def test_a_valid_create_gets_engine_and_flavor_fields_from_the_ids(
    emulator: Emulator, session: Session
) -> None:
    assert _post(session, {**GOOD_BODY, "engine_id": 2, "spec_id": 5}) == {"is_success": True}
    stored = emulator.store.snapshot()["body-check"]
    assert (stored["engine_name"], stored["engine_version"], stored["engine_type"]) == (
        "PyTorch",
        "PyTorch-1.0.0-python3.6",
        10,
    )
    assert stored["spec_code"] == "modelarts.vm.gpu.p100"


OPTIONAL_FIELDS = (
    "config_desc",
    "model_id",
    "parameter",
    "engine_id",
    "train_url",
    "log_url",
    "user_image_url",
    "user_command",
    "dataset_id",
    "dataset_version_id",
    "data_source",
)


@pytest.mark.parametrize("key", OPTIONAL_FIELDS)
def test_an_optional_field_sent_as_null_counts_as_absent(
    emulator: Emulator, session: Session, key: str
) -> None:
    # JSON null for an optional field is the field left out: the server's default applies
    # (engine_id 1), details show no null, and the answer is an answer, not a dropped connection.
    from modelarts_widgets.sdk import ModelArtsError

    assert _post(session, {**GOOD_BODY, "config_name": "without"}) == {"is_success": True}
    assert _post(session, {**GOOD_BODY, "config_name": "with-null", key: None}) == {"is_success": True}
    name = sorted(emulator.store.names())[0]
    update = {k: v for k, v in GOOD_BODY.items() if k != "config_name"}
    body = {**update, "model_id": 0, key: None}
    if key in contract.UPDATE_REQUIRED:  # mandatory for update: null is missing
        with pytest.raises(ModelArtsError, match="mandatory fields missing"):
            session.call("PUT", f"/training-job-configs/{name}", json_body=body)
    else:
        session.call("PUT", f"/training-job-configs/{name}", json_body=body)
    configs = emulator.store.snapshot()
    ignore = ("config_name", "create_time")
    with_null = {k: v for k, v in configs["with-null"].items() if k not in ignore}
    assert with_null == {k: v for k, v in configs["without"].items() if k not in ignore}
    assert None not in configs[name].values()


def test_update_needs_the_mandatory_fields(emulator: Emulator, session: Session) -> None:
    from modelarts_widgets.sdk import ModelArtsError

    name = sorted(emulator.store.names())[0]
    before = emulator.store.snapshot()[name]
    with pytest.raises(ModelArtsError, match="mandatory fields missing") as caught:
        session.call("PUT", f"/training-job-configs/{name}", json_body={"config_desc": "x"})
    assert caught.value.status == 400
    assert emulator.store.snapshot()[name] == before


# -- catalog -----------------------------------------------------------------------------------------


def test_resource_specs_and_ai_engines_answer_as_documented(session: Session) -> None:
    specs = session.call("GET", "/job/resource-specs", query=[("job_type", "train")])
    assert specs["spec_total_count"] == len(specs["specs"]) >= 4
    assert {"spec_id", "spec_code", "cpu", "core", "gpu_num", "gpu_type", "max_num", "no_resource"} <= set(
        specs["specs"][0]
    )
    engines = session.call("GET", "/job/ai-engines", query=[("job_type", "train")])["engines"]
    assert {
        "engine_type": 10,
        "engine_id": 2,
        "engine_name": "PyTorch",
        "engine_version": "PyTorch-1.0.0-python3.6",
    } in engines
    assert any(e["engine_id"] == 1 for e in engines)  # the create call's default engine exists


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


# -- IAM for real clients ---------------------------------------------------------------------------


def _token_body(user: str, password: str, domain: str, project: dict[str, str]) -> dict[str, Any]:
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "password": password, "domain": {"name": domain}}},
            },
            "scope": {"project": project},
        }
    }


def test_token_answers_carry_a_catalog_unless_nocatalog(emulator: Emulator) -> None:
    emulator.identities.users[("acct", "dora")] = "dora-pass"
    body = _token_body("dora", "dora-pass", "acct", {"name": emulator.region})
    answer = requests.post(f"{emulator.endpoint}/v3/auth/tokens", json=body, timeout=10)
    assert answer.status_code == 201
    token = answer.json()["token"]
    urls = {e["type"]: e["endpoints"][0]["url"] for e in token["catalog"]}
    assert urls["modelarts"] == f"{emulator.endpoint}/v1/{emulator.project_id}"
    assert urls["identity"] == f"{emulator.endpoint}/v3"
    assert token["user"]["name"] == "dora"
    bare = requests.post(f"{emulator.endpoint}/v3/auth/tokens?nocatalog=true", json=body, timeout=10)
    assert bare.status_code == 201
    assert "catalog" not in bare.json()["token"]


def test_get_v3_answers_the_version_document(emulator: Emulator) -> None:
    answer = requests.get(f"{emulator.endpoint}/v3", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["version"]["id"].startswith("v3")


def test_command_line_iam_user_can_log_in(tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelarts_widgets.emulator",
            "--configs",
            "2",
            "--iam-user",
            "acct/erin:erin-pass",
            "--env-file",
            str(env_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        endpoint = first.split(" on ", 1)[1].split(" ", 1)[0]
        body = _token_body("erin", "erin-pass", "acct", {"name": DEFAULT_REGION})
        good = requests.post(f"{endpoint}/v3/auth/tokens", json=body, timeout=10)
        assert good.status_code == 201, good.text
        body["auth"]["identity"]["password"]["user"]["password"] = "wrong"
        assert requests.post(f"{endpoint}/v3/auth/tokens", json=body, timeout=10).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_password_session_works_through_the_catalog_token(emulator: Emulator) -> None:
    emulator.identities.users[("acct", "fay")] = "fay-pass"
    session = Session(
        account="acct",
        username="fay",
        password="fay-pass",
        region_name=emulator.region,
        project_id=emulator.project_id,
        modelarts_endpoint=emulator.endpoint,
        iam_endpoint=emulator.endpoint,
    )
    assert session.call("GET", "/training-job-configs", query=[("per_page", 1)])["is_success"] is True


@pytest.mark.parametrize(
    "password",
    ["absent", None, "", 0, ["x"]],
)
def test_a_user_iam_does_not_know_gets_no_token_whatever_the_password(
    emulator: Emulator, password: object
) -> None:
    # An unknown user's stored password is "none"; a request without one must not match it.
    body = _token_body("ghost", "x", "ghost", {"id": emulator.project_id})
    user = body["auth"]["identity"]["password"]["user"]
    if password == "absent":
        del user["password"]
    else:
        user["password"] = password
    answer = requests.post(f"{emulator.endpoint}/v3/auth/tokens", json=body, timeout=10)
    assert answer.status_code in (400, 401), answer.text
    assert "X-Subject-Token" not in answer.headers
    assert not emulator.identities.tokens


def test_a_known_user_without_a_password_gets_no_token(emulator: Emulator) -> None:
    emulator.identities.users[("acct", "gil")] = "gil-pass"
    body = _token_body("gil", "x", "acct", {"id": emulator.project_id})
    del body["auth"]["identity"]["password"]["user"]["password"]
    answer = requests.post(f"{emulator.endpoint}/v3/auth/tokens", json=body, timeout=10)
    assert answer.status_code in (400, 401), answer.text
    assert not emulator.identities.tokens


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_body_that_is_not_json_is_refused_even_where_python_reads_it(
    emulator: Emulator, constant: str
) -> None:
    # Python's json module reads NaN and Infinity; JSON (RFC 8259) has no such values, and a
    # server that stored one would answer details that strict JSON parsers cannot read.
    text = json.dumps({**GOOD_BODY, "parameter": [{"label": "lr", "value": 0.5}]}).replace("0.5", constant)
    path = f"/v1/{emulator.project_id}/training-job-configs"
    headers = signer.sign(
        access_key=next(iter(emulator.identities.keys)),
        secret_key=next(iter(emulator.identities.keys.values())),
        method="POST",
        host=emulator.endpoint.split("//", 1)[1],
        path=path,
        headers={"Content-Type": "application/json"},
        body=text.encode(),
    )
    answer = requests.post(f"{emulator.endpoint}{path}", data=text.encode(), headers=headers, timeout=10)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == "ModelArts.0101"
    assert GOOD_BODY["config_name"] not in emulator.store.names()


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", ""])
def test_a_bad_content_length_gets_a_400_not_a_dropped_or_hung_connection(
    emulator: Emulator, length: str
) -> None:
    path = f"/v1/{emulator.project_id}/training-job-configs"
    with socket.create_connection((emulator.host, emulator.port), timeout=5) as conn:
        conn.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{{}}".encode())
        received = b""
        while chunk := conn.recv(4096):  # the emulator closes the connection after answering
            received += chunk
    answer = received.decode("latin-1")
    assert answer.startswith("HTTP/1.1 400"), answer
    assert '"ModelArts.0101"' in answer


def test_details_agree_with_the_flavor_and_engine_lists(emulator: Emulator, session: Session) -> None:
    # A config's flavor and engine fields are the catalog entry of its ids, seeded ones included.
    specs = {s["spec_id"]: s for s in session.call("GET", "/job/resource-specs")["specs"]}
    engines = {e["engine_id"]: e for e in session.call("GET", "/job/ai-engines")["engines"]}
    for name in sorted(emulator.store.names()):
        details = session.call("GET", f"/training-job-configs/{name}")
        spec = specs[details["spec_id"]]
        engine = engines[details["engine_id"]]
        for key in ("spec_code", "cpu", "core", "gpu_num", "gpu_type"):
            assert details[key] == spec[key], (name, key)
        for key in ("engine_name", "engine_version", "engine_type"):
            assert details[key] == engine[key], (name, key)
