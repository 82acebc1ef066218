"""HTTP for the SDK core: one pooled ``requests.Session``, urllib3 retries, the API's error envelope."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any, Union
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import InvalidHeader, ReadTimeoutError
from urllib3.util.retry import Retry

from . import errors, signer
from .credentials import Credentials

log = logging.getLogger("modelarts_widgets")

DEFAULT_TIMEOUT = (5.0, 30.0)
MAX_BODY_BYTES = 16 * 1024 * 1024
READ_ATTEMPTS = 3

# 429 and 503 mean the server refused the request, so resending is safe for any method.
REFUSED_STATUSES = frozenset({429, 503})
# Answers after which an unsafe method may or may not have been carried out.
UNCERTAIN_STATUSES = frozenset({500, 502, 504})
# 401 codes after which renewed credentials may succeed.
RENEWABLE_CODES = frozenset({"APIGW.0301", "ModelArts.0202", "ModelArts.0203", "ModelArts.4504"})

Verify = Union[bool, str]


class ApiRetry(Retry):
    """urllib3's ``Retry``, with status retries on refusals for every method.

    Read errors and 5xx answers other than 503 are retried only for safe methods: a DELETE whose
    answer was lost may already have been carried out, and the caller checks before resending.
    """

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code in REFUSED_STATUSES:
            return bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)

    def parse_retry_after(self, retry_after: str) -> float:
        # Gateways sometimes send fractional seconds, which urllib3 rejects as invalid.
        try:
            return super().parse_retry_after(retry_after)
        except InvalidHeader:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                return self.get_backoff_time()


def default_retry(total: int = 5, backoff: float = 0.5) -> ApiRetry:
    return ApiRetry(
        total=total,
        connect=total,
        read=2,
        status=total,
        backoff_factor=backoff,
        backoff_max=20,
        status_forcelist=UNCERTAIN_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def _message(body: Mapping[str, Any]) -> str:
    value = body.get("error_msg") or body.get("error_message") or body.get("message") or ""
    return str(value)


def _title_of(text: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    return " ".join(match.group(1).split())[:120] if match else ""


def parse_response(response: requests.Response, *, envelope: bool = True) -> dict[str, Any]:
    """Return the JSON body of a successful answer, or raise the failure it describes.

    With ``envelope`` (the ModelArts v1 APIs), a success must say ``is_success``: an answer
    without it, or an empty one, may come from something other than ModelArts and proves
    nothing, so it is a bad response rather than a success.
    """
    status = response.status_code
    request_id = response.headers.get("X-request-id")
    raw = response.content
    if len(raw) > MAX_BODY_BYTES:
        raise errors.TransportError(
            f"The answer was longer than the {MAX_BODY_BYTES} bytes this client accepts",
            errors.BAD_RESPONSE,
            status=status,
        )
    body: Any = None
    if raw.strip():
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
            content_type = response.headers.get("Content-Type", "unknown type")
            title = _title_of(raw[:4096].decode("utf-8", "replace"))
            what = f"a {content_type.split(';')[0]} page" + (f" titled {title!r}" if title else "")
            code = errors.BAD_RESPONSE if status < 400 else f"HTTP.{status}"
            raise errors.TransportError(
                f"Expected a JSON answer but got {what}", code, status=status
            ) from None
    elif status == 204 or (200 <= status < 300 and not envelope):
        return {"is_success": True}
    elif 200 <= status < 300:
        raise errors.TransportError("The answer was empty", errors.BAD_RESPONSE, status=status)
    if not isinstance(body, dict):
        if 200 <= status < 300:
            raise errors.TransportError("The answer is not a JSON object", errors.BAD_RESPONSE, status=status)
        raise errors.ModelArtsError(
            f"The server answered HTTP {status} with no error details", f"HTTP.{status}", status=status
        )
    if 200 <= status < 300 and envelope and "is_success" not in body:
        raise errors.TransportError(
            "The answer lacks the is_success field of the ModelArts API", errors.BAD_RESPONSE, status=status
        )
    if 200 <= status < 300 and body.get("is_success", True) is not False:
        return body
    error_code = body.get("error_code")
    message = _message(body) or f"The request failed with HTTP {status}"
    cls: type[errors.ModelArtsError] = (
        errors.AuthenticationError if status in (401, 403) else errors.ModelArtsError
    )
    raise cls(
        message, str(error_code) if error_code else f"HTTP.{status}", status=status, request_id=request_id
    )


class ApiClient:
    """Signs and sends requests to one ModelArts (or IAM) endpoint, and decodes the answers."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None,
        *,
        http: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.timeout = timeout
        self.http = http or new_http_session()
        self._host = urlsplit(self.base_url).netloc
        self._prefix = urlsplit(self.base_url).path.rstrip("/")

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Iterable[tuple[str, object]] = (),
        json_body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send a signed request and return the raw answer (after retries and one renewal)."""
        query_string = signer.canonical_query([(k, v) for k, v in query if v is not None])
        full_path = self._prefix + path
        body = _json_bytes(json_body) if json_body is not None else None
        url = self.base_url[: len(self.base_url) - len(self._prefix)] + full_path
        if query_string:
            url += "?" + query_string
        renewed = False
        while True:
            base_headers = {"Content-Type": "application/json", "Host": self._host, **(headers or {})}
            if self.credentials is not None:
                sent_headers = self.credentials.auth_headers(
                    method, self._host, full_path, query_string, base_headers, body
                )
            else:
                sent_headers = base_headers
            started = time.monotonic()
            try:
                response = self.http.request(
                    method, url, data=body, headers=sent_headers, timeout=self.timeout, stream=True
                )
                _read_body(response)
            except requests.exceptions.Timeout as exc:
                raise errors.TransportError(
                    f"{method} {full_path} on {self._host} timed out ({type(exc).__name__})",
                    errors.TIMEOUT,
                ) from None
            except requests.exceptions.RequestException as exc:
                raise errors.TransportError(
                    f"{method} {full_path} on {self._host} failed: {describe_failure(exc)}",
                    errors.CONNECTION,
                ) from None
            log.debug(
                "%s %s -> %s in %.0f ms",
                method,
                full_path,
                response.status_code,
                (time.monotonic() - started) * 1000,
            )
            if (
                response.status_code == 401
                and not renewed
                and self.credentials is not None
                and _error_code(response) in RENEWABLE_CODES
                and self.credentials.renew()
            ):
                renewed = True
                log.info("Credentials renewed after HTTP 401; resending %s %s", method, full_path)
                continue
            return response

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Iterable[tuple[str, object]] = (),
        json_body: Mapping[str, Any] | None = None,
        envelope: bool = True,
    ) -> dict[str, Any]:
        """Send a request and return its decoded JSON body, or raise :class:`ModelArtsError`.

        A read whose answer is garbled (not the API's) is sent again, up to ``READ_ATTEMPTS``
        times in all; urllib3's ``Retry`` cannot judge bodies, so this loop does.
        """
        attempts_left = READ_ATTEMPTS if method == "GET" else 1
        while True:
            attempts_left -= 1
            response = self.request(method, path, query=query, json_body=json_body)
            try:
                return parse_response(response, envelope=envelope)
            except errors.TransportError as exc:
                if exc.error_code != errors.BAD_RESPONSE or attempts_left == 0:
                    raise
                log.info("Garbled answer to GET %s (%s); reading again", path, exc.error_msg)


_FAILURES = (
    ("CERTIFICATE_VERIFY_FAILED", "the TLS certificate could not be verified (set a CA bundle?)"),
    ("SSLError", "the TLS handshake failed"),
    ("Connection refused", "the connection was refused (nothing listens there)"),
    ("RemoteDisconnected", "the server closed the connection without an answer"),
    ("Connection reset", "the connection was reset"),
    ("Name or service not known", "the host name could not be resolved"),
    ("nodename nor servname", "the host name could not be resolved"),
    ("Temporary failure in name resolution", "the host name could not be resolved"),
    ("Network is unreachable", "the network is unreachable"),
    ("ProxyError", "the proxy refused the connection"),
)


def describe_failure(exc: BaseException) -> str:
    """A short, secret-free reason for a failed request (no URLs with queries, no headers)."""
    text = f"{type(exc).__name__} {exc!r}"
    for needle, reason in _FAILURES:
        if needle in text:
            return reason
    return type(exc).__name__


def _read_body(response: requests.Response) -> None:
    """Read the answer in one call, stopping one byte past ``MAX_BODY_BYTES``.

    requests would read it in 10 KB pieces, each a Python-level call: a page of 1,000 configs is
    about 270 KB, and with nine pages arriving side by side those calls contend for the GIL
    (benchmarks/RESULTS.md). Errors are raised as the requests exceptions they would have been.
    """
    try:
        data = response.raw.read(MAX_BODY_BYTES + 1, decode_content=True)
    except ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(exc) from None
    except Urllib3Error as exc:
        raise requests.exceptions.ConnectionError(exc) from None
    if len(data) > MAX_BODY_BYTES:
        response.raw.close()  # the rest is unread, so the connection cannot be reused
    response._content = data  # where requests' own .content keeps it


def _json_bytes(value: Mapping[str, Any]) -> bytes:
    """``value`` as JSON; NaN and infinities, which JSON has no words for, raise ValueError."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except ValueError as exc:
        raise ValueError(f"The request body cannot be sent as JSON: {exc} (nothing was sent)") from None


def _error_code(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body.get("error_code")) if isinstance(body, dict) else None


def new_http_session(
    *, pool_size: int = 16, retry: Retry | None = None, verify: Verify = True
) -> requests.Session:
    """A pooled session with retries; ``verify`` is True or a CA bundle path."""
    http = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=retry or default_retry())
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    http.verify = verify
    http.trust_env = True
    return http
