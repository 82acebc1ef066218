"""Exceptions and the error codes of the SDK core, each with a hint of what to do."""

from __future__ import annotations

from typing import Any

from modelarts_widgets import i18n

from .text import visible

# Codes this package reports itself, for failures that never got a ModelArts answer.
INVALID_NAME = "Client.InvalidName"
CONNECTION = "Client.ConnectionError"
TIMEOUT = "Client.Timeout"
BAD_RESPONSE = "Client.BadResponse"
CANCELLED = "Client.Cancelled"
PROTECTED = "Client.Protected"
AUTH = "Client.NoCredentials"
INVALID_ARGUMENT = "Client.InvalidArgument"
REDIRECTED = "Client.Redirected"
UNREACHABLE = "Client.Unreachable"
THROTTLED = "Client.Throttled"
BAD_ENDPOINT = "Client.BadEndpoint"
BAD_CREDENTIALS = "Client.BadCredentials"
RENEWAL_FAILED = "Client.RenewalFailed"
UNEXPECTED = "Client.Error"  # a bug of this package; the name still gets a status
INCOMPLETE = "Client.IncompleteConfig"  # a create body without the fields restore needs
NOT_FOUND = "Client.NotFound"  # a name given to the magic that the project does not hold
INTERRUPTED = "Client.Interrupted"  # in flight when a second Ctrl-C stopped the wait: unknown
# The trash and restore.
EXISTS = "Client.Exists"
BACKUP_FAILED = "Client.BackupFailed"
BAD_ENTRY = "Client.BadBackupEntry"
NOT_IN_BACKUP = "Client.NotInBackup"
OTHER_PROJECT = "Client.OtherProject"
BAD_BACKUP_FILE = "Client.BadBackupFile"  # the widget's Trash view: the file cannot be read
RESTORE_REFUSED = "Client.RestoreRefused"  # the widget's Trash view: the file is refused
TRASH_ERROR = "Client.TrashError"  # the widget's Trash view: the trash folder cannot be listed

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
        RENEWAL_FAILED,
    }
)


_STOPS = (".", "!", "?")
_WIDE_STOPS = ("\u3002", "\uff01", "\uff1f")  # the ideographic full stop, fullwidth ! and ?


def hint_for(code: str | None, *, language: str | None = None) -> str:
    """What the user can do about an error code, in ``language`` (see :mod:`..i18n`); empty when
    there is nothing specific to say. The hints live in the catalogs as ``hint.<code>``."""
    code = code or ""
    key = f"hint.{code}"
    if not i18n.has(key):
        key = "hint.HTTP.5xx" if code.startswith("HTTP.5") else ""
    return i18n.t(key, lang=language) if key else ""


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
        # The code and message are the server's text: escaped, so a traceback shows one line.
        return self.describe()

    def describe(self, *, lines: bool = False) -> str:
        """What ``str()`` gives; with ``lines``, the message's line breaks are kept (each line
        still escaped): for our own messages that list things, such as the credentials tried."""
        if lines:
            message = "\n".join(visible(line) for line in self.error_msg.split("\n"))
        else:
            message = visible(self.error_msg)
        head = f"{visible(self.error_code)}: {message}" if self.error_code else message
        if self.status is not None:
            head += f" (HTTP {self.status})"
        hint = self.hint
        if not hint:
            return head
        # A message that ends a sentence is not given a second stop: a wide one (。) takes no space.
        if head.endswith(_WIDE_STOPS):
            return head + hint
        if head.endswith(_STOPS):
            return f"{head} {hint}"
        return i18n.t("error.with_hint", error=head, hint=hint)  # "{error}. {hint}", "{error}。{hint}"

    def as_status(self) -> dict[str, Any]:
        """The failure in the shape ``delete_job_configs()`` returns."""
        return failure(self.error_code or "", self.error_msg)


class AuthenticationError(ModelArtsError):
    """No usable credentials, or credentials that the service rejected."""


class InvalidConfigNameError(ModelArtsError, ValueError):
    """A config name that the API would refuse; raised before anything is sent."""

    def __init__(self, name: object) -> None:
        super().__init__(i18n.t("error.invalid_name", name=repr(name)), INVALID_NAME)


class TransportError(ModelArtsError):
    """The request did not get a usable answer: unreachable, timed out, or not the ModelArts API."""
