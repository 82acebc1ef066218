"""Credentials that can authenticate a request: AK/SK (permanent or temporary) or an IAM token.

Secrets live in private attributes and never appear in a repr, a log record or an exception.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Callable, Protocol

from modelarts_widgets.i18n import t

from . import errors, signer


def check_header_safe(value: str | None, what: str) -> None:
    """Refuse a credential that HTTP headers cannot carry (outside Latin-1, or control characters).

    Raises :class:`errors.AuthenticationError` naming ``what`` and the position, never the value.
    """
    if value is None:
        return
    for index, char in enumerate(value):
        if ord(char) > 0xFF or ord(char) < 0x20 or ord(char) == 0x7F:
            kind = (
                t("credentials.header_control")
                if ord(char) < 0x20 or ord(char) == 0x7F
                else t("credentials.header_latin1", code=f"{ord(char):04X}")
            )
            raise errors.AuthenticationError(
                t("credentials.header_unsafe", what=what, kind=kind, position=index + 1),
                errors.BAD_CREDENTIALS,
            )


def _check_key(key: TemporaryKey) -> TemporaryKey:
    check_header_safe(key.access, t("credentials.what.access_key"))
    check_header_safe(key.secret, t("credentials.what.secret_key"))
    check_header_safe(key.security_token, t("credentials.what.security_token"))
    return key


class _SingleFlight:
    """Fetching under a lock, failures included: the threads that waited while a fetch failed
    get that failure instead of each fetching again (a password changed meanwhile would otherwise
    be tried once per waiting request, and IAM locks an account after a few wrong ones).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.renewed_at = time.monotonic()
        self._failed: tuple[float, errors.ModelArtsError] | None = None

    def run(self, fetch: Callable[[], None], since: float) -> None:
        """Call ``fetch`` (the lock held), unless one that began after ``since`` failed: raise that."""
        failed = self._failed
        if failed is not None and failed[0] > since:
            raise copy.copy(failed[1]).with_traceback(None)
        began = time.monotonic()
        try:
            fetch()
        except errors.ModelArtsError as exc:
            if exc.error_code != errors.CANCELLED:  # a stopped run's renewal is not a failure
                self._failed = (began, exc)
            raise
        self.renewed_at = time.monotonic()
        self._failed = None


@dataclass(frozen=True)
class TemporaryKey:
    """AK, SK and security token that belong together; ``expires_at`` in epoch seconds."""

    access: str
    secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None


class Credentials(Protocol):
    """What the transport needs: headers for a request, and a way to renew after a 401."""

    kind: str

    def auth_headers(
        self, method: str, host: str, path: str, query: str, headers: Mapping[str, str], body: bytes | None
    ) -> dict[str, str]: ...

    def renew(self, since: float | None = None) -> bool:
        """Fetch fresh credentials; False when there is nothing to renew.

        ``since`` is the ``time.monotonic()`` at which the refused request was signed: when the
        credentials were renewed after that (by another thread), they are not fetched again.
        """
        ...


class AccessKeyCredentials:
    """Permanent AK/SK, or temporary AK/SK with their security token."""

    def __init__(self, access_key: str, secret_key: str, security_token: str | None = None) -> None:
        self.kind = "temporary AK/SK" if security_token else "AK/SK"
        self._key = _check_key(TemporaryKey(access_key, secret_key, security_token))

    def _current(self) -> TemporaryKey:
        return self._key

    def auth_headers(
        self, method: str, host: str, path: str, query: str, headers: Mapping[str, str], body: bytes | None
    ) -> dict[str, str]:
        key = self._current()
        return signer.sign(
            access_key=key.access,
            secret_key=key.secret,
            security_token=key.security_token,
            method=method,
            host=host,
            path=path,
            query=query,
            headers=headers,
            body=body,
        )

    def renew(self, since: float | None = None) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}>"


class RefreshingAccessKeyCredentials(AccessKeyCredentials):
    """Temporary AK/SK fetched by ``fetch``, renewed ``margin`` seconds before they expire."""

    def __init__(self, fetch: Callable[[], TemporaryKey], *, margin: float = 300.0) -> None:
        self._fetch = fetch
        self._margin = margin
        self._key = _check_key(fetch())
        self._flight = _SingleFlight()
        self.kind = "temporary AK/SK" if self._key.security_token else "AK/SK"

    def _refetch(self) -> None:
        self._key = _check_key(self._fetch())

    def _current(self) -> TemporaryKey:
        since = time.monotonic()
        with self._flight.lock:
            expires = self._key.expires_at
            if expires is not None and expires - time.time() < self._margin:
                self._flight.run(self._refetch, since)
            return self._key

    def renew(self, since: float | None = None) -> bool:
        # Single flight: the threads refused together wait here, and only the first one fetches.
        with self._flight.lock:
            if since is None or self._flight.renewed_at <= since:
                self._flight.run(self._refetch, math.inf if since is None else since)
        return True


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    expires_at: float | None = None
    project_id: str | None = None


class TokenCredentials:
    """An IAM token sent as ``X-Auth-Token``; fetched again shortly before it expires."""

    kind = "IAM token"

    def __init__(self, fetch: Callable[[], Token], *, margin: float = 600.0) -> None:
        self._fetch = fetch
        self._margin = margin
        self._token = self._checked(fetch())
        self._flight = _SingleFlight()

    def _refetch(self) -> None:
        self._token = self._checked(self._fetch())

    @staticmethod
    def _checked(token: Token) -> Token:
        check_header_safe(token.value, t("credentials.what.iam_token"))
        return token

    @property
    def project_id(self) -> str | None:
        return self._token.project_id

    def auth_headers(
        self, method: str, host: str, path: str, query: str, headers: Mapping[str, str], body: bytes | None
    ) -> dict[str, str]:
        since = time.monotonic()
        with self._flight.lock:
            expires = self._token.expires_at
            if expires is not None and expires - time.time() < self._margin:
                self._flight.run(self._refetch, since)
            token = self._token.value
        return {**headers, "X-Auth-Token": token}

    def renew(self, since: float | None = None) -> bool:
        # Single flight: the threads refused together wait here, and only the first one logs in.
        with self._flight.lock:
            if since is None or self._flight.renewed_at <= since:
                self._flight.run(self._refetch, math.inf if since is None else since)
        return True

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
