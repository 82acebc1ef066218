"""The emulator as an independent counterpart: its signature verifier against the official signer and the
known-answer vectors, and query parsing per the signing rules."""

from __future__ import annotations

import random
from typing import Any

import pytest
import requests

from modelarts_widgets.emulator import Emulator, verify
from modelarts_widgets.sdk import signer
from tests.test_signer import AK, DATE, HOST, PROJECT, SK, _random_request

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
