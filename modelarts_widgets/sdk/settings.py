"""Every environment variable the package reads: one table, mirrored by the README's Configuration.

Code reads a variable through :func:`get` (or names it with one of the constants below, for the
session's own ``environ``), so an unknown name is a ``KeyError`` at once rather than a silent
default, and ``tests/test_settings.py`` checks the README lists exactly these names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, what it sets, and who reads it."""

    name: str
    meaning: str
    reader: str


# Credentials and endpoints: read by Session() from its environ (os.environ by default).
AK = "HUAWEICLOUD_SDK_AK"
SK = "HUAWEICLOUD_SDK_SK"
SECURITY_TOKEN = "HUAWEICLOUD_SDK_SECURITY_TOKEN"  # noqa: S105 (a variable name)
PROJECT_ID = "HUAWEICLOUD_SDK_PROJECT_ID"
NOTEBOOK_PROJECT_ID = "PROJECT_ID"
CREDENTIALS_FILE = "HUAWEICLOUD_SDK_CREDENTIALS_FILE"
IAM_ENDPOINT = "HUAWEICLOUD_SDK_IAM_ENDPOINT"
ENDPOINT = "MODELARTS_ENDPOINT"
REGION = "MODELARTS_REGION"
SDK_PATHS = "MODELARTS_SDK_PATHS"
METADATA_ENDPOINT = "MODELARTS_METADATA_ENDPOINT"
METADATA_DISABLED = "MODELARTS_METADATA_DISABLED"
CONFIG_FILE = "MODELARTS_CONFIG_FILE"
CA_BUNDLE = "MODELARTS_CA_BUNDLE"
REQUESTS_CA_BUNDLE = "REQUESTS_CA_BUNDLE"
CURL_CA_BUNDLE = "CURL_CA_BUNDLE"
# Behaviour: read from os.environ when the setting is needed.
PROTECT = "MODELARTS_PROTECT"
LANGUAGE = "MODELARTS_LANGUAGE"
NOT_FOUND_CODES = "MODELARTS_NOT_FOUND_CODES"
TRASH_DIR = "MODELARTS_TRASH_DIR"
TRASH_KEEP_DAYS = "MODELARTS_TRASH_KEEP_DAYS"
TRASH_KEEP_FILES = "MODELARTS_TRASH_KEEP_FILES"
# Jupyter's own: where the doctor looks for the user's front end and the running servers.
JUPYTER_DATA_DIR = "JUPYTER_DATA_DIR"
JUPYTER_CONFIG_DIR = "JUPYTER_CONFIG_DIR"
JUPYTER_RUNTIME_DIR = "JUPYTER_RUNTIME_DIR"
XDG_DATA_HOME = "XDG_DATA_HOME"
APPDATA = "APPDATA"
JPY_PARENT_PID = "JPY_PARENT_PID"

SETTINGS: tuple[Setting, ...] = (
    Setting(AK, "access key", "session"),
    Setting(SK, "secret key", "session"),
    Setting(SECURITY_TOKEN, "security token of temporary keys", "session"),
    Setting(PROJECT_ID, "project id", "session"),
    Setting(NOTEBOOK_PROJECT_ID, "project id a ModelArts notebook sets", "session"),
    Setting(CREDENTIALS_FILE, "profile file (default ~/.huaweicloud/credentials)", "session"),
    Setting(IAM_ENDPOINT, "IAM base URL", "session"),
    Setting(ENDPOINT, "ModelArts base URL", "session"),
    Setting(REGION, "region id", "session"),
    Setting(SDK_PATHS, "folders of the official modelarts package", "session"),
    Setting(METADATA_ENDPOINT, "address of the metadata service", "session"),
    Setting(METADATA_DISABLED, "1 skips the metadata service", "session"),
    Setting(CONFIG_FILE, "legacy config (default ~/.modelarts/config.json)", "session"),
    Setting(CA_BUNDLE, "CA bundle for TLS verification", "session"),
    Setting(REQUESTS_CA_BUNDLE, "CA bundle, after MODELARTS_CA_BUNDLE", "session"),
    Setting(CURL_CA_BUNDLE, "CA bundle, after REQUESTS_CA_BUNDLE", "session"),
    Setting(PROTECT, "default protected names: comma-separated globs", "choose"),
    Setting(LANGUAGE, "language of the kernel's messages (zh-CN, en)", "i18n"),
    Setting(NOT_FOUND_CODES, "error codes that mean no such config, besides HTTP 404", "configs"),
    Setting(TRASH_DIR, "folder of the backups", "trash"),
    Setting(TRASH_KEEP_DAYS, "days a backup is kept", "trash"),
    Setting(TRASH_KEEP_FILES, "backups kept at least", "trash"),
    # Read by transport.py from the session's environ, lower-case names first.
    Setting("HTTPS_PROXY", "proxy for https URLs", "transport"),
    Setting("HTTP_PROXY", "proxy for http URLs", "transport"),
    Setting("ALL_PROXY", "proxy for any URL", "transport"),
    Setting("NO_PROXY", "hosts reached without a proxy", "transport"),
    # Jupyter's own, read by the doctor (frontend.py) when jupyter_core is not installed, and
    # the server that started the kernel.
    Setting(JUPYTER_DATA_DIR, "Jupyter's data folder", "frontend"),
    Setting(JUPYTER_CONFIG_DIR, "Jupyter's config folder", "frontend"),
    Setting(JUPYTER_RUNTIME_DIR, "Jupyter's runtime folder", "frontend"),
    Setting(XDG_DATA_HOME, "base of Jupyter's data folder on Linux", "frontend"),
    Setting(APPDATA, "base of Jupyter's data folder on Windows", "frontend"),
    Setting(JPY_PARENT_PID, "pid of the server that started the kernel", "frontend"),
    # The locale, when MODELARTS_LANGUAGE is unset (i18n.py reads these itself: the SDK imports it).
    Setting("LC_ALL", "locale", "i18n"),
    Setting("LC_MESSAGES", "locale of messages", "i18n"),
    Setting("LANG", "locale", "i18n"),
)
NAMES = frozenset(s.name for s in SETTINGS)


def get(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The value of the variable ``name`` in ``environ`` (default ``os.environ``); None when unset.

    Raises ``KeyError`` for a name that is not in :data:`SETTINGS`.
    """
    if name not in NAMES:
        raise KeyError(name)
    return (os.environ if environ is None else environ).get(name)
