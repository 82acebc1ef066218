"""SDK-HMAC-SHA256 request signing, as Huawei Cloud's API gateway verifies it.

Written with the standard library only: the official ``huaweicloudsdkcore`` signer pulls in
pymongo and exact pins (see the README); the test suite cross-checks this one against it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from urllib.parse import quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


def _encode(text: str) -> str:
    return quote(text, safe="~")


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def canonical_uri(path: str) -> str:
    """Percent-encode each path segment and make sure the result ends with ``/``."""
    encoded = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return encoded if encoded.endswith("/") else encoded + "/"


def canonical_query(params: Iterable[tuple[str, object]]) -> str:
    """Sorted ``name=value`` pairs, RFC 3986 encoded; list values are sorted and repeated.

    This exact string is also what goes on the wire, so what is signed is what is sent.
    """
    pairs: list[str] = []
    for name, value in sorted(params, key=lambda kv: (kv[0], _query_value(kv[1]))):
        values = sorted(_query_value(v) for v in value) if isinstance(value, list) else [_query_value(value)]
        pairs.extend(f"{_encode(name)}={_encode(_query_value(v))}" for v in values)
    return "&".join(pairs)


def payload_hash(body: bytes | None, headers: Mapping[str, str]) -> str:
    if not body:
        return EMPTY_BODY_SHA256
    for name, value in headers.items():
        if name.lower() == "x-sdk-content-sha256":
            return value
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    body: bytes | None,
) -> str:
    """The CanonicalRequest of the signing spec; ``query`` is already canonical."""
    lowered = {name.lower(): str(value).strip() for name, value in headers.items()}
    header_lines = "".join(f"{name}:{lowered[name]}\n" for name in signed_headers)
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            query,
            header_lines,
            ";".join(signed_headers),
            payload_hash(body, headers),
        ]
    )


def string_to_sign(sdk_date: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def signature(secret_key: str, to_sign: str) -> str:
    return hmac.new(secret_key.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def sdk_date(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime(DATE_FORMAT)


def headers_to_sign(headers: Mapping[str, str]) -> list[str]:
    """Every header except names containing ``_``, as the official signer does."""
    return sorted({name.lower() for name in headers if "_" not in name})


def sign(
    *,
    access_key: str,
    secret_key: str,
    method: str,
    host: str,
    path: str,
    query: str = "",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    security_token: str | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """Return ``headers`` plus ``X-Sdk-Date``, ``Host``, ``X-Security-Token`` and ``Authorization``.

    ``query`` must be the canonical query string (see :func:`canonical_query`) that will be sent.
    """
    signed = dict(headers or {})
    lowered = {name.lower() for name in signed}
    if "x-sdk-date" not in lowered:
        signed["X-Sdk-Date"] = sdk_date(now)
    if "host" not in lowered:
        signed["Host"] = host
    if security_token:
        signed["X-Security-Token"] = security_token
    content_type = next((v for k, v in signed.items() if k.lower() == "content-type"), "")
    if content_type and not content_type.startswith(("application/json", "application/bson")):
        signed["X-Sdk-Content-Sha256"] = UNSIGNED_PAYLOAD
    names = headers_to_sign(signed)
    date = next(v for k, v in signed.items() if k.lower() == "x-sdk-date")
    canonical = canonical_request(method, path, query, signed, names, body)
    sig = signature(secret_key, string_to_sign(date, canonical))
    signed["Authorization"] = (
        f"{ALGORITHM} Access={access_key}, SignedHeaders={';'.join(names)}, Signature={sig}"
    )
    return signed


def parse_authorization(value: str) -> dict[str, str] | None:
    """Split an ``SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…`` header into its parts."""
    algorithm, _, rest = value.partition(" ")
    if algorithm != ALGORITHM:
        return None
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, val = item.strip().partition("=")
        if not sep:
            return None
        parts[key] = val
    if not {"Access", "SignedHeaders", "Signature"} <= parts.keys():
        return None
    return parts
