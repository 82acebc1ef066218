"""Finding credentials: explicit arguments, then the automatic chain that ``Session()`` walks.

Each source either yields credentials or says why it did not apply; when none applies, the
error lists every source and its reason. Nothing here may block for long off-cloud.
"""

from __future__ import annotations

import configparser
import importlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

from modelarts_widgets.i18n import t

from . import errors, settings
from .credentials import (
    AccessKeyCredentials,
    Credentials,
    RefreshingAccessKeyCredentials,
    TemporaryKey,
    Token,
)
from .endpoints import first
from .transport import ApiClient, decoded_json, new_http_session, send

NOTEBOOK_SDK_DIRS = (
    "/modelarts/tools/sdk",
    "/opt/huawei/modelarts-dev/modelarts-sdk",
    "/modelarts/authoring/notebook-conda/envs/jp3/lib/python3.9/site-packages",
)
METADATA_ENDPOINT = "http://169.254.169.254"
METADATA_TIMEOUT = (0.5, 0.8)  # each exchange ends within 1.3 s, however the service answers


@dataclass
class Found:
    """Credentials and whatever else the source knew about the project."""

    credentials: Credentials
    source: str
    project_id: str | None = None
    region: str | None = None
    iam_endpoint: str | None = None


class NotApplicable(errors.AuthenticationError):
    """A source that has no credentials to give (or, later, could not renew them); says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, errors.AUTH)


def password_identity(account: str | None, username: str, password: str) -> dict[str, Any]:
    """The ``auth.identity`` object of an IAM password-token request."""
    user = {"name": username, "password": password, "domain": {"name": account or username}}
    return {"methods": ["password"], "password": {"user": user}}


def fetch_token(
    iam: ApiClient, identity: Mapping[str, Any], project_id: str | None, region: str | None
) -> Token:
    """``POST /v3/auth/tokens`` for a project-scoped token."""
    if project_id:
        scope: dict[str, Any] = {"project": {"id": project_id}}
    elif region:
        scope = {"project": {"name": region}}
    else:
        raise errors.AuthenticationError(t("credentials.password_scope"), errors.AUTH)
    response = iam.request(
        "POST",
        "/v3/auth/tokens",
        query=[("nocatalog", "true")],
        json_body={"auth": {"identity": identity, "scope": scope}},
    )
    if response.status_code != 201 or not response.headers.get("X-Subject-Token"):
        try:
            body = decoded_json(response)
        except ValueError:
            body = {}
        err = body.get("error", body) if isinstance(body, dict) else {}
        err = err if isinstance(err, dict) else {"message": str(err)}
        message = str(err.get("message") or err.get("error_msg") or t("credentials.iam_refused"))
        code = str(err.get("code") or err.get("error_code") or f"HTTP.{response.status_code}")
        raise errors.AuthenticationError(message, code, status=response.status_code)
    try:
        body = decoded_json(response)
    except ValueError:  # the token is in the header; its details are optional
        body = None
    token_body = body.get("token") if isinstance(body, dict) else None
    token_body = token_body if isinstance(token_body, dict) else {}
    project = token_body.get("project")
    return Token(
        value=response.headers["X-Subject-Token"],
        expires_at=_parse_time(token_body.get("expires_at")),
        project_id=project.get("id") if isinstance(project, dict) else None,
    )


def _parse_time(value: object) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def from_environment(env: Mapping[str, str]) -> Found:
    ak, sk = first(env, settings.AK), first(env, settings.SK)
    if not ak and not sk:
        raise NotApplicable(t("credentials.reason.no_keys"))
    if not (ak and sk):
        missing = settings.SK if ak else settings.AK
        raise NotApplicable(t("credentials.reason.one_key", missing=missing))
    token = first(env, settings.SECURITY_TOKEN)
    return Found(
        AccessKeyCredentials(ak, sk, token),
        "environment variables",
        project_id=first(env, settings.PROJECT_ID, settings.NOTEBOOK_PROJECT_ID),
    )


def from_profile(env: Mapping[str, str]) -> Found:
    path = Path(first(env, settings.CREDENTIALS_FILE) or Path.home() / ".huaweicloud" / "credentials")
    if not path.is_file():
        raise NotApplicable(t("credentials.reason.no_file", path=path))
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise NotApplicable(t("credentials.reason.bad_ini", path=path, error=type(exc).__name__)) from None
    if not parser.has_section("basic"):
        raise NotApplicable(t("credentials.reason.no_basic", path=path))
    section = parser["basic"]
    ak, sk = section.get("ak", "").strip(), section.get("sk", "").strip()
    if not (ak and sk):
        raise NotApplicable(t("credentials.reason.basic_keys", path=path))
    return Found(
        AccessKeyCredentials(ak, sk, section.get("security_token", "").strip() or None),
        f"profile file {path}",
        project_id=section.get("project_id", "").strip() or None,
        iam_endpoint=section.get("iam_endpoint", "").strip() or None,
    )


def _is_sdk_dir(folder: str) -> bool:
    """A folder holding a real ``modelarts`` package (not a bare ``modelarts/`` namespace folder)."""
    package = Path(folder or ".") / "modelarts"
    return (package / "__init__.py").is_file() or (package / "session.py").is_file()


def _forget_modelarts() -> None:
    for name in [m for m in sys.modules if m == "modelarts" or m.startswith("modelarts.")]:
        del sys.modules[name]


def _import_official_sdk(env: Mapping[str, str]) -> Any:
    """Import ``modelarts.session`` from sys.path or from the notebook's install folders.

    Only a folder with a real ``modelarts`` package counts: an empty ``modelarts/`` folder in the
    working directory would otherwise be imported as a namespace package and hide the SDK. A
    failed import is forgotten (``sys.modules``), so a later ``Session()`` tries again.
    """
    configured = first(env, settings.SDK_PATHS)
    dirs = configured.split(os.pathsep) if configured else list(NOTEBOOK_SDK_DIRS)
    loaded = sys.modules.get("modelarts")
    if loaded is not None and getattr(loaded, "__file__", None):
        try:  # the real package, imported already (by the user or an earlier Session())
            return importlib.import_module("modelarts.session")
        except Exception as exc:
            raise NotApplicable(t("credentials.reason.sdk_import", error=type(exc).__name__)) from None
    importlib.invalidate_caches()
    found = next((d for d in [*sys.path, *dirs] if isinstance(d, str) and _is_sdk_dir(d)), None)
    if found is None:
        raise NotApplicable(t("credentials.reason.no_sdk", dirs=", ".join(dirs)))
    if found not in sys.path:
        sys.path.append(found)  # the SDK's own imports of its siblings need it
    _forget_modelarts()  # a namespace package or a half-imported SDK from an earlier try
    try:
        spec = importlib.machinery.PathFinder.find_spec("modelarts", [found or os.getcwd()])
        if spec is None or spec.loader is None:
            raise ImportError("no modelarts package")
        package = importlib.util.module_from_spec(spec)
        sys.modules["modelarts"] = package
        spec.loader.exec_module(package)
        return importlib.import_module("modelarts.session")
    except Exception as exc:  # an SDK built for another Python can fail in many ways
        _forget_modelarts()
        raise NotApplicable(t("credentials.reason.sdk_import", error=type(exc).__name__)) from None


def from_notebook(env: Mapping[str, str]) -> Found:
    module = _import_official_sdk(env)

    def official() -> Any:
        try:
            return module.Session()
        except Exception as exc:
            raise NotApplicable(t("credentials.reason.sdk_session", error=type(exc).__name__)) from None

    first_session = official()
    unused = [first_session]

    def fetch() -> TemporaryKey:
        # Renewal builds a new official Session, which picks up rotated agency credentials.
        current = unused.pop() if unused else official()
        ak, sk = getattr(current, "access_key", None), getattr(current, "secret_key", None)
        if not (ak and sk):
            raise NotApplicable(t("credentials.reason.sdk_keys"))
        return TemporaryKey(str(ak), str(sk), getattr(current, "security_token", None) or None)

    return Found(
        RefreshingAccessKeyCredentials(fetch),
        "ModelArts notebook (official SDK session)",
        project_id=getattr(first_session, "project_id", None) or first(env, settings.NOTEBOOK_PROJECT_ID),
        region=getattr(first_session, "region_name", None),
    )


def _metadata_get(http: requests.Session, base: str, path: str, token: str | None) -> requests.Response:
    headers = {"X-Metadata-Token": token} if token else {}
    # Direct (no proxy may see this link-local call), no redirect, and a total deadline.
    return send(http, "GET", base + path, headers=headers, timeout=METADATA_TIMEOUT, proxies={})


def _metadata_token(http: requests.Session, base: str) -> str | None:
    response = send(
        http,
        "PUT",
        base + "/meta-data/latest/api/token",
        headers={"X-Metadata-Token-Ttl-Seconds": "21600"},
        timeout=METADATA_TIMEOUT,
        proxies={},
    )
    if response.status_code in (404, 405, 503):
        return None
    if response.status_code != 200:
        raise NotApplicable(t("credentials.reason.metadata_token", status=response.status_code))
    return response.text.strip() or None


def _parse_security_key(body: Any) -> TemporaryKey:
    cred = body.get("credential") or body.get("credentials") if isinstance(body, dict) else None
    if not isinstance(cred, dict):
        raise NotApplicable(t("credentials.reason.metadata_empty"))

    def pick(*names: str) -> Any:
        return next((cred[n] for n in names if cred.get(n)), None)

    access, secret = pick("access", "Access"), pick("secret", "Secret")
    if not (access and secret):
        raise NotApplicable(t("credentials.reason.metadata_keys"))
    return TemporaryKey(
        str(access),
        str(secret),
        pick("securitytoken", "securityToken", "security_token"),
        _parse_time(pick("expires_at", "expiresAt")),
    )


def from_metadata(env: Mapping[str, str]) -> Found:
    if first(env, settings.METADATA_DISABLED) in ("1", "true", "yes"):
        raise NotApplicable(t("credentials.reason.metadata_disabled"))
    base = (first(env, settings.METADATA_ENDPOINT) or METADATA_ENDPOINT).rstrip("/")
    http = new_http_session(pool_size=2)
    # The hardened-mode session token lives for hours: ask once, and again only after a 401.
    session_token: list[str | None] = []

    def token(renew: bool = False) -> str | None:
        if renew or not session_token:
            session_token[:] = [_metadata_token(http, base)]
        return session_token[0]

    def fetch() -> TemporaryKey:
        try:
            response = _metadata_get(http, base, "/openstack/latest/securitykey", token())
            if response.status_code == 401 and session_token[0]:
                response = _metadata_get(http, base, "/openstack/latest/securitykey", token(renew=True))
        except errors.TransportError as exc:
            raise NotApplicable(
                t("credentials.reason.metadata_down", base=base, error=exc.error_code)
            ) from None
        if response.status_code == 401 and "Cloud Service Agency" in response.text:
            raise NotApplicable(t("credentials.reason.metadata_agency"))
        if response.status_code != 200:
            raise NotApplicable(t("credentials.reason.metadata_http", status=response.status_code))
        try:
            return _parse_security_key(decoded_json(response))
        except ValueError:
            raise NotApplicable(t("credentials.reason.metadata_json")) from None

    credentials = RefreshingAccessKeyCredentials(fetch)
    project_id, region = first(env, settings.NOTEBOOK_PROJECT_ID), None
    try:
        meta = _metadata_get(http, base, "/openstack/latest/meta_data.json", token())
        if meta.status_code == 200:
            info = decoded_json(meta)
            project_id = project_id or info.get("project_id")
            region = info.get("region_id")
    except (errors.ModelArtsError, ValueError, AttributeError):
        pass
    return Found(credentials, f"metadata service ({base})", project_id=project_id, region=region)


def legacy_config_path(env: Mapping[str, str]) -> Path:
    return Path(first(env, settings.CONFIG_FILE) or Path.home() / ".modelarts" / "config.json")


def read_legacy_config(env: Mapping[str, str]) -> dict[str, Any]:
    path = legacy_config_path(env)
    if not path.is_file():
        raise NotApplicable(t("credentials.reason.no_file", path=path))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise NotApplicable(t("credentials.reason.bad_json", path=path)) from None
    if not isinstance(data, dict) or not (data.get("username") and data.get("password")):
        raise NotApplicable(t("credentials.reason.no_password", path=path))
    return data
