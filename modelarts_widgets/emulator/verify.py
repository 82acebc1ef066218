"""The gateway's side of SDK-HMAC-SHA256: rebuild the signature from the request as received.

Written from the signing guide (spec §3.6), independently of the client's signer: the two are
each checked against ``huaweicloudsdkcore`` and the documented known-answer vectors in the tests.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from urllib.parse import quote, unquote_to_bytes

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"


class BadRequestText(ValueError):
    """A query or header that is not valid UTF-8 once its percent-escapes are decoded."""


def _decode(part: str) -> str:
    # A '+' on the wire is a literal plus: the signing rules encode a space as %20, never '+'.
    try:
        return unquote_to_bytes(part).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequestText(f"not UTF-8: {part[:40]!r}") from None


def parse_query(raw: str) -> list[tuple[str, str]]:
    """The wire query as (name, value) pairs, repeated names kept, names and values decoded."""
    pairs: list[tuple[str, str]] = []
    for item in raw.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append((_decode(name), _decode(value)))
    return pairs


def _rfc3986(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(pairs: Sequence[tuple[str, str]]) -> str:
    """Pairs sorted by name, then value; each side RFC 3986 encoded; '=' kept for empties."""
    return "&".join(f"{_rfc3986(name)}={_rfc3986(value)}" for name, value in sorted(pairs))


def canonical_uri(path: str) -> str:
    """The path decoded, then split on "/" (so an escaped slash separates too), each segment
    RFC 3986 encoded, ending in "/"."""
    segments = [_rfc3986(segment) for segment in _decode(path).split("/")]
    uri = "/".join(segments)
    return uri if uri.endswith("/") else uri + "/"


def header_value(raw: str) -> str:
    """A header value as the client wrote it: http.server hands over latin-1, clients send UTF-8."""
    try:
        data = raw.encode("latin-1")
    except UnicodeEncodeError:
        return raw
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequestText("a header value is not UTF-8") from None


def parse_authorization(value: str) -> dict[str, str] | None:
    """``SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…`` as a dict, or None if malformed."""
    algorithm, _, rest = value.partition(" ")
    if algorithm != ALGORITHM:
        return None
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, val = item.strip().partition("=")
        if not sep or not val:
            return None
        parts[key] = val
    if not {"Access", "SignedHeaders", "Signature"} <= parts.keys():
        return None
    return parts


def expected_signature(
    *,
    secret: str,
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    body: bytes,
    date: str,
) -> str:
    """The signature the client should have sent; ``headers`` are lower-case names, decoded values."""
    lines = "".join(f"{name}:{headers[name].strip()}\n" for name in signed_headers)
    if body and "x-sdk-content-sha256" in headers:  # an empty body always hashes as empty
        payload = headers["x-sdk-content-sha256"]
    else:
        payload = hashlib.sha256(body).hexdigest()
    canonical = "\n".join(
        (
            method.upper(),
            canonical_uri(path),
            canonical_query(parse_query(raw_query)),
            lines,
            ";".join(signed_headers),
            payload,
        )
    )
    to_sign = f"{ALGORITHM}\n{date}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
    return hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
