"""The signer against the spec's known-answer vectors and, on random requests, the official SDK."""

from __future__ import annotations

import random
import string

import pytest

from modelarts_widgets.sdk import signer

AK = "AKEXAMPLE1234567890"
SK = "SKEXAMPLEabcdefghijklmnopqrstuvwxyz012345"
HOST = "modelarts.cn-north-4.myhuaweicloud.com"
PROJECT = "0123456789abcdef0123456789abcdef"
DATE = "20240101T000000Z"


def _headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Sdk-Date": DATE, **(extra or {})}


def test_vector_a_list_request() -> None:
    query = signer.canonical_query(
        [
            ("per_page", 10),
            ("page", 1),
            ("sortBy", "create_time"),
            ("order", "desc"),
            ("search_content", "my cfg"),
            ("config_type", "custom"),
        ]
    )
    assert (
        query == "config_type=custom&order=desc&page=1&per_page=10&search_content=my%20cfg&sortBy=create_time"
    )
    path = f"/v1/{PROJECT}/training-job-configs"
    signed = signer.sign(
        access_key=AK, secret_key=SK, method="GET", host=HOST, path=path, query=query, headers=_headers()
    )
    names = signer.headers_to_sign(signed)
    names.remove("authorization")
    canonical = signer.canonical_request("GET", path, query, signed, names, None)
    assert canonical == (
        f"GET\n/v1/{PROJECT}/training-job-configs/\n{query}\n"
        f"content-type:application/json\nhost:{HOST}\nx-sdk-date:{DATE}\n\n"
        "content-type;host;x-sdk-date\n" + signer.EMPTY_BODY_SHA256
    )
    assert signer.string_to_sign(DATE, canonical).endswith(
        "50f3a9ebe8bce4753ea7122263d2b4ff5eb88b7273fa69796822a5aa10f9b2b2"
    )
    assert signed["Authorization"] == (
        "SDK-HMAC-SHA256 Access=AKEXAMPLE1234567890, SignedHeaders=content-type;host;x-sdk-date, "
        "Signature=0fb5ddecbf3413c30548c93d79c5e542424edd1f2a3bfe95d20fa9fb710c9100"
    )


def test_vector_b_delete_with_security_token() -> None:
    signed = signer.sign(
        access_key=AK,
        secret_key=SK,
        method="DELETE",
        host=HOST,
        path=f"/v1/{PROJECT}/training-job-configs/test-trainconfig",
        headers=_headers(),
        security_token="EXAMPLESECURITYTOKEN",
    )
    assert signed["X-Security-Token"] == "EXAMPLESECURITYTOKEN"
    assert signed["Authorization"] == (
        "SDK-HMAC-SHA256 Access=AKEXAMPLE1234567890, "
        "SignedHeaders=content-type;host;x-sdk-date;x-security-token, "
        "Signature=231e16c2a0a386da21e832ce95d2b946cba168ac19e47f4ee703a47faab8778a"
    )


def test_canonical_uri_always_ends_with_slash_and_encodes_segments() -> None:
    assert signer.canonical_uri("/v1/p/a b") == "/v1/p/a%20b/"
    assert signer.canonical_uri("/v1/p/x/") == "/v1/p/x/"
    assert signer.canonical_uri("/v1/p/%E4%B8%AD") == "/v1/p/%E4%B8%AD/"


def test_parse_authorization_rejects_other_schemes() -> None:
    assert signer.parse_authorization("Basic abc") is None
    assert signer.parse_authorization("SDK-HMAC-SHA256 Access=a, SignedHeaders=h") is None
    parts = signer.parse_authorization("SDK-HMAC-SHA256 Access=a, SignedHeaders=h;x, Signature=s")
    assert parts == {"Access": "a", "SignedHeaders": "h;x", "Signature": "s"}


_CHARS = string.ascii_letters + string.digits + "-_.~ +%/&=?#中文é"


def _text(rng: random.Random, low: int = 0, high: int = 12) -> str:
    return "".join(rng.choice(_CHARS) for _ in range(rng.randint(low, high)))


def _random_request(rng: random.Random) -> dict[str, object]:
    path = "/v1/" + "/".join(
        "".join(rng.choice(string.ascii_letters + string.digits + "-_.~") for _ in range(rng.randint(1, 10)))
        for _ in range(rng.randint(1, 4))
    )
    if rng.random() < 0.5:
        path += "/"
    query: list[tuple[str, object]] = []
    for key in rng.sample(
        ["a", "B", "per_page", "search_content", "sortBy", "x y", "中", "z"], rng.randint(0, 5)
    ):
        kind = rng.random()
        if kind < 0.15:
            query.append((key, rng.random() < 0.5))
        elif kind < 0.3:
            query.append((key, rng.randint(0, 1000)))
        elif kind < 0.4:
            query.append((key, [_text(rng, 1) for _ in range(rng.randint(1, 3))]))
        else:
            query.append((key, _text(rng)))
    headers = {"X-Sdk-Date": DATE}
    content_type = rng.choice(
        [None, "application/json", "application/json;charset=utf-8", "application/octet-stream"]
    )
    if content_type:
        headers["Content-Type"] = content_type
    if rng.random() < 0.3:
        headers["X_Under_Score"] = "not signed"
    if rng.random() < 0.3:
        headers["X-Custom"] = "  padded value  "
    body = rng.choice(
        [
            None,
            b"",
            b'{"config_name": "x"}',
            "中文 body".encode(),
            bytes(rng.randrange(256) for _ in range(40)),
        ]
    )
    return {
        "method": rng.choice(["GET", "POST", "PUT", "DELETE"]),
        "path": path,
        "query": query,
        "headers": headers,
        "body": body,
        "token": "TOKEN" + _text(rng, 1, 20).replace(" ", "") if rng.random() < 0.4 else None,
        "ak": "AK" + "".join(rng.choice(string.ascii_uppercase) for _ in range(18)),
        "sk": "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(40)),
    }


def test_matches_official_signer_on_1000_random_requests() -> None:
    core_signer = pytest.importorskip("huaweicloudsdkcore.signer.signer")
    from huaweicloudsdkcore.sdk_request import SdkRequest

    rng = random.Random(20240101)
    for _ in range(1000):
        case = _random_request(rng)
        headers = dict(case["headers"])  # type: ignore[call-overload]
        if case["token"]:
            headers["X-Security-Token"] = case["token"]
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
            ak = case["ak"]
            sk = case["sk"]

        core_signer.Signer(Creds).sign(request)
        query = signer.canonical_query(case["query"])  # type: ignore[arg-type]
        ours = signer.sign(
            access_key=case["ak"],  # type: ignore[arg-type]
            secret_key=case["sk"],  # type: ignore[arg-type]
            method=case["method"],  # type: ignore[arg-type]
            host=HOST,
            path=case["path"],  # type: ignore[arg-type]
            query=query,
            headers=case["headers"],  # type: ignore[arg-type]
            body=case["body"],  # type: ignore[arg-type]
            security_token=case["token"],  # type: ignore[arg-type]
        )
        assert ours["Authorization"] == request.header_params["Authorization"], case
        expected_uri = case["path"] + ("?" + query if query else "")
        assert request.uri == expected_uri, case
