"""Exceptions and the error codes of the SDK core, each with a hint of what to do."""

from __future__ import annotations

from typing import Any

# Codes this package reports itself, for failures that never got a ModelArts answer.
INVALID_NAME = "Client.InvalidName"
CONNECTION = "Client.ConnectionError"
TIMEOUT = "Client.Timeout"
BAD_RESPONSE = "Client.BadResponse"
CANCELLED = "Client.Cancelled"
PROTECTED = "Client.Protected"
AUTH = "Client.NoCredentials"
REDIRECTED = "Client.Redirected"
UNREACHABLE = "Client.Unreachable"
THROTTLED = "Client.Throttled"
BAD_ENDPOINT = "Client.BadEndpoint"
BAD_CREDENTIALS = "Client.BadCredentials"

_HINTS: dict[str, str] = {
    "APIGW.0301": "The access key, secret key or token was rejected. Check the credentials "
    "(a rotated key, a mistyped secret, or temporary credentials used without their security token).",
    "APIGW.0303": "The request signature has expired: this machine's clock differs from the "
    "gateway's by more than 15 minutes. Fix the clock (NTP) and try again.",
    "APIG.0303": "The request signature has expired: this machine's clock differs from the "
    "gateway's by more than 15 minutes. Fix the clock (NTP) and try again.",
    "APIGW.0101": "The API was not found: check MODELARTS_ENDPOINT and the region.",
    "APIGW.0308": "ModelArts is throttling requests. Wait a minute, or lower the concurrency.",
    "APIG.0308": "ModelArts is throttling requests. Wait a minute, or lower the concurrency.",
    "ModelArts.6101": "ModelArts is busy. Try again in a little while.",
    "ModelArts.0108": "Your IAM user lacks a permission for training-job configs. Ask an "
    "administrator to grant modelarts:trainConfig:list and modelarts:trainConfig:delete.",
    "ModelArts.0112": "A workspace policy forbids this operation. Ask the workspace owner.",
    "ModelArts.0201": "No IAM token was sent. Configure credentials (see the README).",
    "ModelArts.0202": "The IAM token has expired. Create a new Session.",
    "ModelArts.0203": "The IAM token is invalid. Create a new Session.",
    "ModelArts.0204": "The token is not project-scoped. Give Session a project_id or region_name.",
    "ModelArts.0210": "The project id does not match the credentials. Check project_id, "
    "HUAWEICLOUD_SDK_PROJECT_ID or PROJECT_ID.",
    "ModelArts.4504": "IAM rejected the credentials. Check the access key and secret key or the token.",
    CONNECTION: "The ModelArts endpoint could not be reached. Check MODELARTS_ENDPOINT, the "
    "region and the network (proxy settings, VPN).",
    REDIRECTED: "The endpoint answered with a redirect, which this client never follows (it would "
    "send your credentials elsewhere). Check MODELARTS_ENDPOINT / the IAM endpoint: use the exact "
    "https:// address of the API, and ask whether a proxy or gateway rewrites it.",
    UNREACHABLE: "Nothing was sent. Check MODELARTS_ENDPOINT, the region and the network (the proxy "
    "settings HTTPS_PROXY / NO_PROXY, VPN).",
    THROTTLED: "ModelArts asked to wait longer than this session waits (Session(max_retry_wait=...)). "
    "Try again later, or lower the concurrency.",
    BAD_ENDPOINT: "Give the endpoint as https://host[:port] with no user name or password in it.",
    BAD_CREDENTIALS: "Re-copy the key: it holds characters that cannot be sent in an HTTP header "
    "(often a typographic quote, a space or a line break pasted with it).",
    TIMEOUT: "ModelArts did not answer in time. Try again; if it persists, check the network.",
    BAD_RESPONSE: "The endpoint answered with something that is not the ModelArts API (often "
    "a proxy or gateway page). Check MODELARTS_ENDPOINT.",
    AUTH: "Configure credentials: see 'Configuration' in the README.",
    INVALID_NAME: "Config names are 1-64 characters of letters, digits, '_' and '-'.",
}


# Failures that every later request would meet too: the credentials or the account, not the config.
CREDENTIAL_CODES = frozenset(
    {
        "APIGW.0301",
        "APIGW.0303",
        "APIG.0303",
        "ModelArts.0201",
        "ModelArts.0202",
        "ModelArts.0203",
        "ModelArts.0204",
        "ModelArts.0212",
        "ModelArts.4504",
        "ModelArts.4116",
        "ModelArts.4118",
        "ModelArts.6201",
        "ModelArts.6203",
        AUTH,
    }
)


def hint_for(code: str | None) -> str:
    """What the user can do about an error code; empty when there is nothing specific to say."""
    code = code or ""
    if code in _HINTS:
        return _HINTS[code]
    if code.startswith("HTTP.5"):
        return (
            "ModelArts, or a gateway in front of it, failed. Try again in a little while; if it "
            "persists, check MODELARTS_ENDPOINT."
        )
    if code in ("HTTP.404", "HTTP.405"):
        return "Nothing like the ModelArts API answers there: check MODELARTS_ENDPOINT and the region."
    return ""


def failure(code: str, message: str) -> dict[str, Any]:
    """A failed call in the shape ``delete_job_configs()`` returns."""
    return {"is_success": False, "error_code": code, "error_msg": message}


class ModelArtsError(Exception):
    """A failed ModelArts call: the documented ``error_code`` and ``error_msg`` of the answer."""

    def __init__(
        self,
        error_msg: str,
        error_code: str | None = None,
        *,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(error_msg)
        self.error_msg = error_msg
        self.error_code = error_code
        self.status = status
        self.request_id = request_id

    @property
    def hint(self) -> str:
        return hint_for(self.error_code)

    def __str__(self) -> str:
        head = f"{self.error_code}: {self.error_msg}" if self.error_code else self.error_msg
        if self.status is not None:
            head += f" (HTTP {self.status})"
        return f"{head}. {self.hint}" if self.hint else head

    def as_status(self) -> dict[str, Any]:
        """The failure in the shape ``delete_job_configs()`` returns."""
        return failure(self.error_code or "", self.error_msg)


class AuthenticationError(ModelArtsError):
    """No usable credentials, or credentials that the service rejected."""


class InvalidConfigNameError(ModelArtsError, ValueError):
    """A config name that the API would refuse; raised before anything is sent."""

    def __init__(self, name: object) -> None:
        super().__init__(f"Invalid config name {name!r}", INVALID_NAME)


class TransportError(ModelArtsError):
    """The request did not get a usable answer: unreachable, timed out, or not the ModelArts API."""
