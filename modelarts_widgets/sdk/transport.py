"""HTTP for the SDK core: one pooled ``requests.Session``, a retry loop above the signer, the error envelope.

What ``requests``/``urllib3`` would otherwise do on their own is switched off here, because a
signing client must not have it: urllib3 retries nothing (a resend below the signer would reuse
an old ``X-Sdk-Date``), redirects are never followed (they would carry the credentials to the
``Location``), ``trust_env`` is off (no ``~/.netrc``, no ``REQUESTS_CA_BUNDLE`` overriding the
project's CA; proxies are taken from the environment by :func:`environment_proxies`), and every
exchange has a total deadline enforced by a watchdog that shuts the socket down, since urllib3's
read timeout applies to each ``recv`` and a server trickling a byte at a time never trips it.
"""

from __future__ import annotations

import contextlib
import email.utils
import heapq
import ipaddress
import itertools
import json
import logging
import math
import os
import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Callable, Union
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError, ReadTimeoutError
from urllib3.exceptions import ProxyError as Urllib3ProxyError
from urllib3.util.retry import Retry

from modelarts_widgets.i18n import t

from . import errors, signer
from .credentials import Credentials
from .throttle import AdaptiveThrottle, Pacer

log = logging.getLogger("modelarts_widgets")

DEFAULT_TIMEOUT = (5.0, 30.0)
# Connect timeout while an endpoint has never answered (with the default timeout): a blackholed
# address must show its error within 2 s, not after the full 5 s. One lost SYN (resent after 1 s)
# still gets through; once the endpoint has answered, connects get the full setting.
FIRST_CONNECT_TIMEOUT = 1.5
DEFAULT_MAX_RETRIES = 5
DEFAULT_BACKOFF = 0.5
DEFAULT_MAX_RETRY_WAIT = 60.0
MAX_RETRY_WAIT_LIMIT = 86400.0  # a day
BACKOFF_MAX = 20.0
MAX_BODY_BYTES = 16 * 1024 * 1024
READ_ATTEMPTS = 3

# 429 and 503 mean the server refused the request, so resending is safe for any method.
REFUSED_STATUSES = frozenset({429, 503})
# Answers after which an unsafe method may or may not have been carried out.
UNCERTAIN_STATUSES = frozenset({500, 502, 504})
# 401 codes after which renewed credentials may succeed.
RENEWABLE_CODES = frozenset({"APIGW.0301", "ModelArts.0202", "ModelArts.0203", "ModelArts.4504"})
SAFE_METHODS = frozenset({"GET", "HEAD"})

Verify = Union[bool, str]
Timeout = tuple[float, float]


@dataclass(frozen=True)
class RetryPolicy:
    """How :class:`ApiClient` resends: ``max_retries`` resends at most, ``backoff`` seconds doubling
    (capped at 20 s) between failed reads, and ``Retry-After`` honoured up to ``max_retry_wait`` seconds.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff: float = DEFAULT_BACKOFF
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(t("transport.max_retries", value=self.max_retries))
        if not (math.isfinite(self.backoff) and self.backoff >= 0):
            raise ValueError(t("transport.backoff", value=self.backoff))
        # Bounded: a wait of 1e300 s is an OverflowError in time.sleep and Event.wait.
        if not (math.isfinite(self.max_retry_wait) and 0 <= self.max_retry_wait <= MAX_RETRY_WAIT_LIMIT):
            raise ValueError(
                t("transport.max_retry_wait", value=self.max_retry_wait, limit=f"{MAX_RETRY_WAIT_LIMIT:g}")
            )

    def backoff_delay(self, retry: int) -> float:
        """Seconds to wait before resend number ``retry`` (1-based) when the server gave no Retry-After."""
        # The exponent is capped: 2 ** 1024 is too large for a float, however many resends are allowed.
        return float(min(self.backoff * (2 ** min(retry - 1, 32)), BACKOFF_MAX, self.max_retry_wait))


def default_retry(total: int = DEFAULT_MAX_RETRIES, backoff: float = DEFAULT_BACKOFF) -> RetryPolicy:
    """The default :class:`RetryPolicy` (kept under its old name for callers of the old API)."""
    return RetryPolicy(total, backoff)


def parse_retry_after(value: str, now: float | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` value (delta seconds, fractional too, or an HTTP date).

    Returns ``math.inf`` for values too large to represent and None when it is not readable.
    """
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None:
            return None
        try:
            seconds = when.timestamp() - (time.time() if now is None else now)
        except (OverflowError, OSError, ValueError):
            return math.inf
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


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
            t("transport.too_long", limit=MAX_BODY_BYTES),
            errors.BAD_RESPONSE,
            status=status,
        )
    body: Any = None
    if raw.strip():
        try:
            body = _loads(raw)
        except ValueError:
            body = None
            content_type = response.headers.get("Content-Type", t("transport.unknown_type"))
            title = _title_of(raw[:4096].decode("utf-8", "replace"))
            kind = content_type.split(";")[0]
            what = (
                t("transport.page_titled", type=kind, title=repr(title))
                if title
                else t("transport.page", type=kind)
            )
            code = errors.BAD_RESPONSE if status < 400 else f"HTTP.{status}"
            raise errors.TransportError(t("transport.not_json", what=what), code, status=status) from None
    elif status == 204 or (200 <= status < 300 and not envelope):
        return {"is_success": True}
    elif 200 <= status < 300:
        raise errors.TransportError(t("transport.empty"), errors.BAD_RESPONSE, status=status)
    if not isinstance(body, dict):
        if 200 <= status < 300:
            raise errors.TransportError(t("transport.not_object"), errors.BAD_RESPONSE, status=status)
        raise errors.ModelArtsError(t("transport.no_details", status=status), f"HTTP.{status}", status=status)
    if 200 <= status < 300 and envelope and "is_success" not in body:
        raise errors.TransportError(t("transport.no_is_success"), errors.BAD_RESPONSE, status=status)
    if 200 <= status < 300 and body.get("is_success", True) is not False:
        return body
    error_code = body.get("error_code")
    message = _message(body) or t("transport.failed_http", status=status)
    cls: type[errors.ModelArtsError] = (
        errors.AuthenticationError if status in (401, 403) else errors.ModelArtsError
    )
    raise cls(
        message, str(error_code) if error_code else f"HTTP.{status}", status=status, request_id=request_id
    )


class Cancelled(errors.TransportError):
    """The call was not sent (or not resent) because its run was stopped."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(t("transport.cancelled") if message is None else message, errors.CANCELLED)


# -- the deadline watchdog -------------------------------------------------------------------------


class _Exchange:
    """One HTTP exchange under a deadline; the watchdog shuts its socket down when time is up."""

    __slots__ = ("conn", "deadline", "done", "expired", "lock")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.conn: Any = None
        self.done = False
        self.expired = False
        self.lock = threading.Lock()

    def expire(self) -> None:
        with self.lock:
            if self.done:
                return
            self.expired = True
            sock = getattr(self.conn, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # the blocked recv returns at once

    def finish(self) -> bool:
        """Mark the exchange over; True when the watchdog had already cut it."""
        with self.lock:
            self.done = True
            return self.expired


class _Watchdog:
    """One daemon thread for all exchanges: a heap of deadlines, woken when an earlier one arrives."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Exchange]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, exchange: _Exchange) -> None:
        with self._cond:
            heapq.heappush(self._heap, (exchange.deadline, next(self._order), exchange))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="modelarts-deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is exchange:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait(5.0)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                deadline, _, exchange = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(min(wait, 60.0))  # a far deadline must not overflow the wait
                    continue
                heapq.heappop(self._heap)
            exchange.expire()


_WATCHDOG = _Watchdog()
_current = threading.local()


def _bind(conn: Any) -> None:
    exchange: _Exchange | None = getattr(_current, "exchange", None)
    if exchange is not None:
        with exchange.lock:
            exchange.conn = conn
            expired = exchange.expired
        if expired:
            exchange.expire()


class _WatchedPool(HTTPConnectionPool):
    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        _bind(conn)
        return super()._make_request(conn, *args, **kwargs)


class _WatchedHTTPSPool(HTTPSConnectionPool):
    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        _bind(conn)
        return super()._make_request(conn, *args, **kwargs)


_POOLS = {"http": _WatchedPool, "https": _WatchedHTTPSPool}


class _Adapter(HTTPAdapter):
    """An adapter whose pools bind each connection to the calling thread's deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if getattr(manager, "pool_classes_by_scheme", None) is not None and proxy.startswith("http"):
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


# -- proxies from the environment ------------------------------------------------------------------


def _env(env: Mapping[str, str], name: str) -> str:
    return (env.get(name.lower()) or env.get(name.upper()) or "").strip()


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    host = host.lower().strip("[]")
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        entry_host, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and str(port) != entry_port:
            continue
        entry_host = entry_host.strip("[]")
        try:
            if ipaddress.ip_address(host) in ipaddress.ip_network(entry_host, strict=False):
                return True
            continue
        except ValueError:
            pass
        bare = entry_host.lstrip(".")
        if host == bare or host.endswith("." + bare):
            return True
    return False


def environment_proxies(url: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The proxy for ``url`` from ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` and ``NO_PROXY``.

    Read from ``env`` (default ``os.environ``), lower-case names first as curl does. Loopback
    addresses are never proxied. Returns ``{scheme: proxy_url}``, or ``{}`` for a direct connection.
    """
    env = os.environ if env is None else env
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return {}
    except ValueError:
        if host == "localhost":
            return {}
    if _bypassed(host, parts.port, _env(env, "no_proxy")):
        return {}
    proxy = _env(env, f"{parts.scheme}_proxy") or _env(env, "all_proxy")
    return {parts.scheme: proxy} if proxy else {}


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url if "://" in url else "http://" + url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def check_ca_bundle(path: str, what: str) -> None:
    """Refuse a CA bundle that is not there: requests reads "" as "do not verify", and a missing
    path as an OSError from every call."""
    if not path.strip() or not os.path.exists(path):
        raise ValueError(t("transport.bad_ca_bundle", what=what, path=repr(path)))


def check_endpoint(url: str, what: str | None = None) -> str:
    """``url`` without a trailing slash; refuses user info, other schemes and a missing host.

    Raises :class:`errors.ModelArtsError` (``Client.BadEndpoint``); the message never repeats a
    password found in the URL. ``what`` names the setting in messages (default: the endpoint).
    """
    what = t("transport.endpoint") if what is None else what
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise errors.ModelArtsError(t("transport.bad_url", what=what), errors.BAD_ENDPOINT) from None
    del port
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        shown = f"{parts.scheme}://***@{parts.netloc.rpartition('@')[2]}"
        raise errors.ModelArtsError(
            t("transport.userinfo", what=what, shown=shown),
            errors.BAD_ENDPOINT,
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.ModelArtsError(t("transport.scheme", what=what), errors.BAD_ENDPOINT)
    return url.strip().rstrip("/")


# -- the client ------------------------------------------------------------------------------------

OnUnreachable = Callable[[str], None]


class ApiClient:
    """Signs and sends requests to one ModelArts (or IAM) endpoint, and decodes the answers.

    Resending happens here, above the signer, so that every attempt carries a fresh signature
    (``X-Sdk-Date``) and the current credentials. This is a small loop rather than urllib3's
    ``Retry`` or tenacity because each decision needs things only this layer knows: the
    ``Retry-After`` cap and its message, which methods may be resent after which failure, the
    single renewal after a 401, and the ``cancel`` event that cuts a wait short.
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None,
        *,
        http: requests.Session | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        proxies: Mapping[str, str] | None = None,
        cancel: threading.Event | None = None,
        on_unreachable: OnUnreachable | None = None,
        throttle: Pacer | None = None,
        first_connect: float | None = None,
    ) -> None:
        self.base_url = check_endpoint(base_url)
        self.credentials = credentials
        self.timeout = (float(timeout[0]), float(timeout[1]))
        self.retry = retry or RetryPolicy()
        self.http = http or new_http_session()
        self.proxies = dict(environment_proxies(self.base_url) if proxies is None else proxies)
        self.cancel = cancel
        self.on_unreachable = on_unreachable
        # Paces every attempt to this endpoint once it throttles; scoped views share it.
        self.throttle: Pacer = throttle or AdaptiveThrottle()
        # ``first_connect`` caps the connect timeout until the endpoint first answers (scoped views share it).
        self.first_connect = first_connect
        self._reached = threading.Event()
        self._host = urlsplit(self.base_url).netloc
        self._prefix = urlsplit(self.base_url).path.rstrip("/")

    def scoped(
        self, cancel: threading.Event | None, on_unreachable: OnUnreachable | None = None
    ) -> ApiClient:
        """A client sharing this one's connections and credentials, stopped by ``cancel``."""
        clone = object.__new__(ApiClient)
        clone.__dict__.update(self.__dict__)
        clone.cancel = cancel
        clone.on_unreachable = on_unreachable
        return clone

    def _connect_timeout(self) -> float:
        """The connect timeout: ``first_connect`` at most while the endpoint has never answered."""
        if self.first_connect is not None and not self._reached.is_set():
            return min(self.timeout[0], self.first_connect)
        return self.timeout[0]

    def _cancel_event(self) -> threading.Event | None:
        # A client without its own event (the IAM login) takes the one of the call it works for:
        # a renewal waiting out IAM's Retry-After must end when that call's run is stopped.
        return self.cancel if self.cancel is not None else getattr(_current, "cancel", None)

    def _check_cancel(self) -> None:
        cancel = self._cancel_event()
        if cancel is not None and cancel.is_set():
            raise Cancelled()

    def _wait(self, seconds: float) -> None:
        cancel = self._cancel_event()
        if cancel is None:
            time.sleep(seconds)
        elif cancel.wait(seconds):
            raise Cancelled(t("transport.cancelled_wait"))

    @contextlib.contextmanager
    def _on_behalf(self) -> Iterator[None]:
        """Calls made meanwhile on this thread (a token renewal) are stopped by this call's cancel."""
        outer = getattr(_current, "cancel", None)
        _current.cancel = self._cancel_event()
        try:
            yield
        except errors.AuthenticationError as exc:
            if exc.error_code in errors.CREDENTIAL_CODES:
                raise
            # IAM refused the renewal (a password changed meanwhile): every later request needs
            # it too, so it is a credentials failure, which stops a bulk run.
            raise errors.AuthenticationError(
                t("transport.renewal_failed", message=exc.error_msg, code=exc.error_code),
                errors.RENEWAL_FAILED,
                status=exc.status,
            ) from None
        finally:
            _current.cancel = outer

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Iterable[tuple[str, object]] = (),
        json_body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send a signed request and return the raw answer, after resends and at most one renewal.

        Raises :class:`errors.TransportError` when no answer came (codes ``Client.Unreachable``:
        nothing was sent; ``Client.ConnectionError`` / ``Client.Timeout``: it may have arrived;
        ``Client.Redirected``; ``Client.Throttled``: ``Retry-After`` above the cap), and
        :class:`Cancelled` when ``cancel`` was set before a send or during a wait.
        """
        query_string = signer.canonical_query([(k, v) for k, v in query if v is not None])
        full_path = self._prefix + path
        body = _json_bytes(json_body) if json_body is not None else None
        url = self.base_url[: len(self.base_url) - len(self._prefix)] + full_path
        if query_string:
            url += "?" + query_string
        where = t("transport.where", method=method, path=full_path, host=self._host)
        renewed = False
        retries = 0
        # The call's deadline: its exchanges together may take connect + read seconds (the waits
        # a server asks for between them not counted), so trickled refusals cannot stretch it.
        budget, spent = sum(self.timeout), 0.0
        while True:
            self._check_cancel()
            answered = self.throttle.wait_turn(self.cancel)  # before signing: each attempt signed afresh
            base_headers = {"Content-Type": "application/json", "Host": self._host, **(headers or {})}
            signed_at = time.monotonic()
            if self.credentials is not None:
                with self._on_behalf():
                    sent_headers = self.credentials.auth_headers(
                        method, self._host, full_path, query_string, base_headers, body
                    )
            else:
                sent_headers = base_headers
            self._check_cancel()  # signing may have waited for a renewal
            sent_at = time.monotonic()
            remaining = budget - spent
            limit = self._connect_timeout()
            shortened = limit < self.timeout[0]  # a first connect to an endpoint never reached
            connect = min(limit, remaining)
            try:
                response = send(
                    self.http,
                    method,
                    url,
                    headers=sent_headers,
                    data=body,
                    timeout=(connect, max(remaining - connect, 0.05)),
                    proxies=self.proxies,
                    where=where,
                )
            except errors.TransportError as exc:
                spent += time.monotonic() - sent_at
                if shortened and exc.error_code == errors.UNREACHABLE and self._reached.is_set():
                    # The short first connect failed while other requests reached the endpoint
                    # (a busy accept queue): nothing was sent; connect again with the full timeout.
                    log.info(
                        "%s failed (%s) on a first connect; the endpoint answers: resending",
                        where,
                        exc.error_code,
                    )
                    continue
                if exc.error_code == errors.UNREACHABLE and self.on_unreachable is not None:
                    self.on_unreachable(f"{exc.error_code}: {exc.error_msg}")
                retryable = exc.error_code == errors.CONNECTION and method in SAFE_METHODS
                if not retryable or retries >= self.retry.max_retries or spent >= budget:
                    raise
                retries += 1
                delay = self.retry.backoff_delay(retries)
                log.info("%s failed (%s); resending in %.2f s", where, exc.error_code, delay)
                self._wait(delay)
                continue
            spent += time.monotonic() - sent_at
            self._reached.set()
            status = response.status_code
            answered(status)
            log.debug("%s -> %s in %.0f ms", where, status, (time.monotonic() - signed_at) * 1000)
            if 300 <= status < 400:
                raise _redirected(where, response)
            if (
                status == 401
                and not renewed
                and self.credentials is not None
                and _error_code(response) in RENEWABLE_CODES
                and self._renew(signed_at)
            ):
                renewed = True
                log.info("Credentials renewed after HTTP 401; resending %s", where)
                continue
            resend = status in REFUSED_STATUSES or (status in UNCERTAIN_STATUSES and method in SAFE_METHODS)
            if not resend or retries >= self.retry.max_retries or spent >= budget:
                return response
            retries += 1
            delay = self._delay(response, retries, where)
            log.info("%s answered HTTP %s; resending in %.2f s", where, status, delay)
            self._wait(delay)

    def _renew(self, signed_at: float) -> bool:
        assert self.credentials is not None
        with self._on_behalf():
            return self.credentials.renew(since=signed_at)

    def _delay(self, response: requests.Response, retry: int, where: str) -> float:
        """Seconds before the next attempt; raises ``Client.Throttled`` when asked to wait past the cap."""
        value = response.headers.get("Retry-After")
        if value is None or response.status_code not in REFUSED_STATUSES:
            return self.retry.backoff_delay(retry)
        seconds = parse_retry_after(value)
        if seconds is None:
            return self.retry.backoff_delay(retry)
        if seconds > self.retry.max_retry_wait:
            code = _error_code(response)
            shown, cap = value.strip()[:64], self.retry.max_retry_wait
            raise errors.TransportError(
                t(
                    "transport.throttled",
                    where=where,
                    status=response.status_code,
                    code=f", {code}" if code else "",
                    retry_after=repr(shown),
                    cap=f"{cap:g}",
                ),
                errors.THROTTLED,
                status=response.status_code,
                request_id=response.headers.get("X-request-id"),
            )
        return seconds

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
        times in all; the retry loop in :meth:`request` cannot judge bodies, so this one does.
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


def _redirected(where: str, response: requests.Response) -> errors.TransportError:
    location = response.headers.get("Location") or ""
    try:  # the server's text: a bad port or bracket must not turn the answer into a ValueError
        target = urlsplit(location)
        host = f"{target.hostname}{':' + str(target.port) if target.port else ''}"
        goes_to = t("transport.redirect_host", host=host) if target.hostname else ""
    except ValueError:
        goes_to = t("transport.redirect_bad_url")
    else:
        if location and not target.hostname:
            goes_to = t("transport.redirect_same_host")
    return errors.TransportError(
        t("transport.redirected", where=where, status=response.status_code, goes_to=goes_to),
        errors.REDIRECTED,
        status=response.status_code,
    )


def send(
    http: requests.Session,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    data: bytes | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    proxies: Mapping[str, str] | None = None,
    where: str | None = None,
) -> requests.Response:
    """One exchange, no redirect followed, ended ``connect + read`` seconds after it began at the latest.

    The body is read into ``response.content``. Failures raise :class:`errors.TransportError`.
    """
    where = where or t("transport.where", method=method, path=urlsplit(url).path, host=urlsplit(url).netloc)
    connect, read = timeout
    exchange = _Exchange(time.monotonic() + connect + read)
    _current.exchange = exchange
    _WATCHDOG.watch(exchange)
    response: requests.Response | None = None
    try:
        response = http.request(
            method,
            url,
            data=data,
            headers=dict(headers),
            timeout=(connect, read),
            stream=True,
            allow_redirects=False,
            proxies=dict(proxies or {}),
        )
        _read_body(response)
    except requests.exceptions.RequestException as exc:
        if response is not None:
            response.close()
        cut = exchange.finish()
        raise _failure(exc, where, cut, connect + read, proxies or {}) from None
    except OSError as exc:  # raised by requests before sending, e.g. a CA bundle that is not there
        exchange.finish()
        raise errors.TransportError(
            t("transport.not_sent", where=where, reason=exc.strerror or exc), errors.CONNECTION
        ) from None
    finally:
        _current.exchange = None
    if exchange.finish():
        # The watchdog cut the socket: whatever was read is not the whole answer.
        response.close()
        raise _failure(requests.exceptions.Timeout(), where, True, connect + read, proxies or {})
    return response


def _failure(
    exc: requests.exceptions.RequestException,
    where: str,
    cut: bool,
    budget: float,
    proxies: Mapping[str, str],
) -> errors.TransportError:
    if cut:
        return errors.TransportError(
            t("transport.deadline", where=where, seconds=f"{budget:g}"), errors.TIMEOUT
        )
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    proxy = next(iter(proxies.values()), "")
    if isinstance(exc, requests.exceptions.ProxyError) or isinstance(reason, Urllib3ProxyError):
        return errors.TransportError(
            t(
                "transport.proxy",
                where=where,
                proxy=_without_userinfo(proxy) if proxy else "",
                reason=describe_failure(exc),
            ),
            errors.UNREACHABLE,
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return errors.TransportError(t("transport.connect_timeout", where=where), errors.UNREACHABLE)
    if isinstance(exc, requests.exceptions.Timeout):
        return errors.TransportError(
            t("transport.timeout", where=where, error=type(exc).__name__), errors.TIMEOUT
        )
    if isinstance(reason, NewConnectionError):
        return errors.TransportError(
            t("transport.failed", where=where, reason=describe_failure(exc)), errors.UNREACHABLE
        )
    return errors.TransportError(
        t("transport.failed", where=where, reason=describe_failure(exc)), errors.CONNECTION
    )


# Text found in the exception (the OS's and libraries' words) -> the catalog key of our reason.
_FAILURES = (
    ("CERTIFICATE_VERIFY_FAILED", "transport.reason.certificate"),
    ("SSLError", "transport.reason.tls"),
    ("Connection refused", "transport.reason.refused"),
    ("RemoteDisconnected", "transport.reason.closed"),
    ("Connection reset", "transport.reason.reset"),
    ("Name or service not known", "transport.reason.dns"),
    ("nodename nor servname", "transport.reason.dns"),
    ("Temporary failure in name resolution", "transport.reason.dns"),
    ("Network is unreachable", "transport.reason.network"),
    ("ProxyError", "transport.reason.proxy"),
)


def describe_failure(exc: BaseException) -> str:
    """A short, secret-free reason for a failed request (no URLs with queries, no headers)."""
    text = f"{type(exc).__name__} {exc!r}"
    for needle, reason in _FAILURES:
        if needle in text:
            return t(reason)
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
        raise ValueError(t("transport.json_body", error=exc)) from None


def _loads(raw: bytes) -> Any:
    """``json.loads``, with a nesting too deep for it (``[[[[…``) a ValueError like any bad JSON."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError(t("transport.json_too_deep")) from None


def decoded_json(response: requests.Response) -> Any:
    """The answer's JSON; ValueError when it is not JSON (too deeply nested included)."""
    return _loads(response.content)


def _error_code(response: requests.Response) -> str | None:
    try:
        body = decoded_json(response)
    except ValueError:
        return None
    return str(body.get("error_code")) if isinstance(body, dict) else None


class _NoRedirectSession(requests.Session):
    """A session that never even prepares a redirect.

    With ``allow_redirects=False`` requests still walks ``resolve_redirects`` once to keep the
    next request in ``response.next``: that reads the whole 3xx body (past ``MAX_BODY_BYTES``),
    copies the headers for the ``Location`` and raises ValueError for a malformed one.
    """

    def resolve_redirects(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        return iter(())


def new_http_session(*, pool_size: int = 16, verify: Verify = True) -> requests.Session:
    """A pooled session that retries, redirects and reads the environment never (see the module doc).

    ``verify`` is True (the system's CA bundle from certifi) or a CA bundle path.
    """
    http = _NoRedirectSession()
    http.trust_env = False  # no ~/.netrc, no REQUESTS_CA_BUNDLE, no environment proxies by surprise
    adapter = _Adapter(
        pool_connections=4, pool_maxsize=pool_size, max_retries=Retry(0, read=False, redirect=False)
    )
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    http.verify = verify
    return http
