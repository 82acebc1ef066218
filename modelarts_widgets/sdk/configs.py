"""The training-job-config contract on the client side: fields, bodies, name resolution, delete.

Everything that builds or checks what is sent for a config lives here, and the estimator, the
bulk operations and the trash use it (spec §2, §2b):

* field tables of the list, details, create and update calls;
* :func:`create_body` / :func:`update_body`: the documented bodies, one data source, and of
  the fields the create page does not list only the pool and mounts a stored config already
  has (:data:`CARRIED_FIELDS`); an update is a read-modify-write of the whole config;
* :class:`Catalog`: flavor (``spec_code``) and engine (name + version) names resolved to
  ``spec_id`` / ``engine_id`` through ``GET /v1/{project_id}/job/resource-specs`` and
  ``.../job/ai-engines`` (``job_type=train``), each fetched once per session;
* the single delete-and-check :func:`delete_config` and :func:`config_exists`.
"""

from __future__ import annotations

import difflib
import secrets
import threading
import weakref
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from modelarts_widgets.i18n import t

from . import errors, settings
from .names import check_config_name
from .session import Session
from .transport import UNCERTAIN_STATUSES

Status = dict[str, Any]
CONFIGS = "/training-job-configs"
RESOURCE_SPECS = "/job/resource-specs"
AI_ENGINES = "/job/ai-engines"
LIST_FIELDS = (
    "config_name",
    "config_desc",
    "create_time",
    "engine_type",
    "engine_name",
    "engine_id",
    "engine_version",
    "user_image_url",
    "user_command",
)
# The REST list's sort keys (§2.2); the official SDK's documented default, job_name, is not one.
SORT_KEYS = ("config_name", "config_desc", "create_time")
SDK_DEFAULT_SORT = "job_name"
# The create body's fields besides config_name and the data source (§2.4), as documented.
CREATE_FIELDS = (
    "config_desc",
    "worker_server_num",
    "app_url",
    "boot_file_url",
    "model_id",
    "parameter",
    "spec_id",
    "engine_id",
    "train_url",
    "log_url",
    "user_image_url",
    "user_command",
)
DATA_FIELDS = ("data_url", "dataset_id", "dataset_version_id", "data_source")
# Details fields (§2.3) that the create page does not list but live create bodies are seen to
# send (§2.4, OPENI): a restore or an update carries them back so that the config keeps its
# dedicated pool and its mounts (the update replaces the whole config). Not `flavor`: spec_id is
# its documented counterpart, and the two could disagree.
CARRIED_FIELDS = ("pool_id", "volumes")
# Fields the update page marks mandatory (§2b), sent even when the stored value is empty.
UPDATE_REQUIRED = ("worker_server_num", "app_url", "boot_file_url", "model_id", "spec_id", "engine_id")
# No config-specific "not found" code is documented; 404 always counts, plus these codes.
DEFAULT_NOT_FOUND_CODES = ("ModelArts.0015",)
RESEND_ATTEMPTS = 3
INCOMPLETE = errors.INCOMPLETE  # defined in .errors; importable from here too


def not_found_codes() -> frozenset[str]:
    """Codes counted as "no such config": ``MODELARTS_NOT_FOUND_CODES`` (comma-separated) or the default."""
    configured = settings.get(settings.NOT_FOUND_CODES)
    if configured is None:
        return frozenset(DEFAULT_NOT_FOUND_CODES)
    return frozenset(code.strip() for code in configured.split(",") if code.strip())


# A 404 with these code prefixes is not about the config: the gateway's APIGW.0101 means no such
# API (wrong host, method or path), and HTTP.404 (no error details) is not the configs API answering.
_NOT_ABOUT_THE_CONFIG = ("APIGW.", "APIG.", "HTTP.")


def is_not_found(exc: errors.ModelArtsError) -> bool:
    """True when the answer says the config is not there: a code in :func:`not_found_codes`, or
    a 404 from the configs API (not the gateway's "no such API", not a 404 without error details)."""
    code = exc.error_code or ""
    if code in not_found_codes():
        return True
    return exc.status == 404 and not code.startswith(_NOT_ABOUT_THE_CONFIG)


def config_path(name: str) -> str:
    """The path of one config (the name is checked first)."""
    return f"{CONFIGS}/{check_config_name(name)}"


def outcome_uncertain(exc: errors.ModelArtsError) -> bool:
    """True when a DELETE may have been carried out although no success answer arrived."""
    if exc.status in UNCERTAIN_STATUSES:
        return True
    return isinstance(exc, errors.TransportError) and exc.error_code in (
        errors.CONNECTION,
        errors.TIMEOUT,
        errors.BAD_RESPONSE,
    )


def config_exists(session: Session, name: str) -> bool:
    """Ask the details call whether ``name`` exists; raises when the answer says neither."""
    try:
        session.call("GET", config_path(name))
    except errors.ModelArtsError as exc:
        if is_not_found(exc):
            return False
        raise
    return True


def delete_config(session: Session, name: str, *, gone_ok: bool = False) -> Status:
    """Delete one config; after a lost or uncertain answer, check before sending again.

    A config that is gone after an uncertain DELETE counts as deleted: the DELETE took effect
    and only its answer was lost. With ``gone_ok`` (the bulk paths), a DELETE answered "not
    found" (:func:`is_not_found`) returns ``{"is_success": True, "already_gone": True}``: the
    config is not there, whoever removed it. Without it, that answer is returned as it is.
    """
    path = config_path(name)
    for _ in range(RESEND_ATTEMPTS):
        try:
            session.call("DELETE", path)
        except errors.ModelArtsError as exc:
            if gone_ok and is_not_found(exc):
                return {"is_success": True, "already_gone": True}
            if not outcome_uncertain(exc):
                return exc.as_status()
            last = exc
        else:
            return {"is_success": True}
        try:
            if not config_exists(session, name):
                return {"is_success": True}
        except errors.ModelArtsError:
            return errors.failure(last.error_code or "", t("configs.delete_unknown", error=last.error_msg))
    return errors.failure(
        last.error_code or "", t("configs.still_exists", error=last.error_msg, attempts=RESEND_ATTEMPTS)
    )


_NAME_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_names_lock = threading.Lock()
_names_given: dict[str, set[str]] = {}  # the second's stamp -> suffixes this process gave out


def generated_name(now: datetime | None = None) -> str:
    """A config name from the date, as the official SDK makes one: 20 characters, e.g.
    ``cfg-261207-164500-a3`` (UTC date and time plus two random characters against clashes).

    Names this process makes within one second never repeat (up to 1,296 a second), so a loop
    of unnamed creates does not clash with itself; other processes differ by the random part.
    """
    stamp = (now or datetime.now(timezone.utc)).strftime("%y%m%d-%H%M%S")
    with _names_lock:
        given = _names_given.setdefault(stamp, set())
        for old in [s for s in _names_given if s != stamp]:
            del _names_given[old]
        if len(given) >= len(_NAME_ALPHABET) ** 2:
            raise RuntimeError(t("configs.too_many_names", count=len(given)))
        while True:
            suffix = secrets.choice(_NAME_ALPHABET) + secrets.choice(_NAME_ALPHABET)
            if suffix not in given:
                given.add(suffix)
                return f"cfg-{stamp}-{suffix}"


def list_query(
    per_page: int = 10,
    page: int = 1,
    sort_by: str | None = None,
    order: str | None = None,
    search_content: str | None = None,
    config_type: str | None = None,
) -> list[tuple[str, object]]:
    """The list call's query parameters, checked against the documented ranges (ValueError).

    Unset parameters are left out, so the server's documented defaults apply (sortBy
    ``config_name``, order ``desc``). The official SDK's documented default sort key ``job_name``
    belongs to the training-job list and is refused here with a clear error.
    """
    if not 1 <= int(per_page) <= 1000:
        raise ValueError(t("configs.per_page", value=per_page))
    if int(page) < 1:
        raise ValueError(t("configs.page", value=page))
    if sort_by == SDK_DEFAULT_SORT:
        raise ValueError(t("configs.sort_job_name", keys=", ".join(SORT_KEYS)))
    if sort_by is not None and sort_by not in SORT_KEYS:
        raise ValueError(t("configs.sort_by", keys=", ".join(SORT_KEYS), value=repr(sort_by)))
    if order is not None and order not in ("asc", "desc"):
        raise ValueError(t("configs.order", value=repr(order)))
    if config_type is not None and config_type not in ("custom", "sample"):
        raise ValueError(t("configs.config_type", value=repr(config_type)))
    if config_type == "sample" and sort_by == "create_time":
        raise ValueError(t("configs.sample_create_time"))
    params: Iterable[tuple[str, object]] = (
        ("per_page", int(per_page)),
        ("page", int(page)),
        ("sortBy", sort_by),
        ("order", order),
        ("search_content", search_content or None),
        ("config_type", config_type),
    )
    return [(k, v) for k, v in params if v is not None]


# -- flavors and engines by name ---------------------------------------------------------------


class UnknownNameError(ValueError):
    """A flavor or engine name that the project's catalog does not have; lists close matches."""


class Catalog:
    """The project's flavors and engines, read once per session (``job_type=train``).

    ``spec_id("modelarts.vm.gpu.p100")`` and ``engine_id("PyTorch", "PyTorch-1.0.0-python3.6")``
    return the ids the create and update bodies need; an unknown name raises
    :class:`UnknownNameError` naming the close matches. API failures raise ``ModelArtsError``.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._lock = threading.Lock()
        self._specs: list[dict[str, Any]] | None = None
        self._engines: list[dict[str, Any]] | None = None

    def specs(self) -> list[dict[str, Any]]:
        with self._lock:
            if self._specs is None:
                answer = self._session.call("GET", RESOURCE_SPECS, query=[("job_type", "train")])
                self._specs = [s for s in answer.get("specs") or [] if isinstance(s, dict)]
            return self._specs

    def engines(self) -> list[dict[str, Any]]:
        with self._lock:
            if self._engines is None:
                answer = self._session.call("GET", AI_ENGINES, query=[("job_type", "train")])
                self._engines = [e for e in answer.get("engines") or [] if isinstance(e, dict)]
            return self._engines

    def spec_id(self, spec_code: str) -> int:
        codes = {str(s.get("spec_code")): s for s in self.specs()}
        found = codes.get(spec_code)
        if found is None:
            raise UnknownNameError(_unknown("train_instance_type", spec_code, codes))
        return int(found["spec_id"])

    def engine_id(self, framework_type: str, framework_version: str | None = None) -> int:
        engines = self.engines()
        names = {str(e.get("engine_name")) for e in engines}
        if framework_type not in names:
            raise UnknownNameError(_unknown("framework_type", framework_type, names))
        versions = {
            str(e.get("engine_version")): e for e in engines if e.get("engine_name") == framework_type
        }
        if framework_version is None:
            if len(versions) == 1:
                return int(next(iter(versions.values()))["engine_id"])
            raise UnknownNameError(
                t("configs.several_versions", type=repr(framework_type), versions=", ".join(sorted(versions)))
            )
        found = versions.get(framework_version)
        if found is None:
            raise UnknownNameError(
                _unknown(t("configs.version_of", type=framework_type), framework_version, versions)
            )
        return int(found["engine_id"])


def _unknown(what: str, name: str, known: Iterable[str]) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
    if close:
        hint = t("configs.close_matches", names=", ".join(close))
    else:
        hint = t("configs.known", names=", ".join(known[:20]))
    return t("configs.unknown", what=what, name=repr(name), hint=hint)


_catalogs: weakref.WeakKeyDictionary[Session, Catalog] = weakref.WeakKeyDictionary()
_catalogs_lock = threading.Lock()


def catalog(session: Session) -> Catalog:
    """The session's :class:`Catalog` (one per session, so each list is fetched once)."""
    with _catalogs_lock:
        found = _catalogs.get(session)
        if found is None:
            found = _catalogs[session] = Catalog(session)
        return found


# -- bodies ------------------------------------------------------------------------------------


def data_fields(
    inputs: str | None = None,
    dataset_id: str | None = None,
    dataset_version_id: str | None = None,
    data_source: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The one data source given, as body fields; ValueError when several or half a dataset."""
    given = [
        inputs is not None,
        dataset_id is not None or dataset_version_id is not None,
        data_source is not None,
    ]
    if sum(given) > 1:
        raise ValueError(t("configs.one_source"))
    if (dataset_id is None) != (dataset_version_id is None):
        raise ValueError(t("configs.dataset_pair"))
    if inputs is not None:
        return {"data_url": inputs}
    if dataset_id is not None:
        return {"dataset_id": dataset_id, "dataset_version_id": dataset_version_id}
    if data_source is not None:
        return {"data_source": data_source}
    return {}


def stored_data(details: Mapping[str, Any]) -> dict[str, Any]:
    """The data source a config's details describe, as one body field set (or none).

    Details can show two views of one OBS input (``data_url`` and a one-entry ``data_source``
    that repeats it); then the simple form is used, otherwise ``data_source``, else the dataset
    ids, else ``data_url``.
    """
    source = details.get("data_source")
    mirror = [{"type": "obs", "data_url": details.get("data_url")}]
    if source and source != mirror:
        return {"data_source": source}
    if details.get("dataset_id") and details.get("dataset_version_id"):
        return {"dataset_id": details["dataset_id"], "dataset_version_id": details["dataset_version_id"]}
    if details.get("data_url"):
        return {"data_url": details["data_url"]}
    return {}


def create_body(details: Mapping[str, Any]) -> dict[str, Any]:
    """The create call's body for a config described by ``details`` (e.g. saved details).

    The documented create fields are sent, with one data source, and the :data:`CARRIED_FIELDS`
    the config has (its pool and mounts; not ``flavor`` nor the legacy ``nas_*`` fields); empty
    values are left out so the server applies its defaults.
    """
    body: dict[str, Any] = {"config_name": check_config_name(details.get("config_name"))}
    for key in (*CREATE_FIELDS, *CARRIED_FIELDS):
        value = details.get(key)
        if value not in (None, "", [], {}):
            body[key] = value
    body.update(stored_data(details))
    return body


def update_body(details: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The update call's full body: the stored config with ``changes`` applied (read-modify-write).

    ``details`` is the details answer; ``changes`` holds create fields and at most one data
    source (which replaces the stored one). Mandatory fields (§2b) are sent even when empty, and
    the :data:`CARRIED_FIELDS` the config has are kept; raises ``ValueError`` naming a mandatory
    field the config does not have.
    """
    body: dict[str, Any] = {}
    for key in (*CREATE_FIELDS, *CARRIED_FIELDS):
        value = details.get(key)
        if key in UPDATE_REQUIRED or key == "config_desc":
            if value is not None:
                body[key] = value
        elif value not in (None, "", [], {}):
            body[key] = value
    new_data = {k: v for k, v in changes.items() if k in DATA_FIELDS}
    body.update({k: v for k, v in changes.items() if k in CREATE_FIELDS})
    body.update(new_data or stored_data(details))
    if body.get("model_id") is None and body.get("app_url"):
        body["model_id"] = 0  # a config with its own code has no built-in model; 0 is "none"
    missing = [key for key in UPDATE_REQUIRED if body.get(key) is None]
    if missing:
        raise ValueError(t("configs.update_fields", fields=", ".join(missing)))
    if not any(k in body for k in DATA_FIELDS):
        raise ValueError(t("configs.no_source"))
    return body


def read_modify_write(session: Session, name: str, changes: Mapping[str, Any]) -> Status:
    """Read ``name``'s details, apply ``changes`` and send the full update body; the status dict."""
    path = config_path(name)
    try:
        details = session.call("GET", path)
    except errors.ModelArtsError as exc:
        return exc.as_status()
    try:
        body = update_body(details, changes)
    except ValueError as exc:
        return errors.failure(INCOMPLETE, t("configs.nothing_sent", error=exc))
    try:
        answer = session.call("PUT", path, json_body=body)
    except errors.ModelArtsError as exc:
        return exc.as_status()
    except ValueError as exc:  # e.g. a NaN in the details, which JSON cannot carry
        return errors.failure(errors.INVALID_ARGUMENT, str(exc))
    return {"is_success": True, **{k: v for k, v in answer.items() if k != "is_success"}}
