"""``Estimator`` and job-config objects: the official SDK's training-job-config calls.

Every call returns the documented dict: ``is_success``, and on failure ``error_code`` and
``error_msg``. Only bad arguments raise, before anything is sent.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from . import errors
from .names import check_config_name
from .session import Session
from .transport import UNCERTAIN_STATUSES

Status = dict[str, Any]
CONFIGS = "/training-job-configs"
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
SORT_KEYS = ("config_name", "config_desc", "create_time")
# What the create call accepts besides config_name (spec §2.4, plus flavor, pool_id and volumes,
# which working clients send), and its data fields, of which a config has one kind.
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
    "flavor",
    "pool_id",
    "volumes",
)
DATA_FIELDS = ("data_url", "dataset_id", "dataset_version_id", "data_source")
# No config-specific "not found" code is documented; 404 always counts, plus these codes.
DEFAULT_NOT_FOUND_CODES = ("ModelArts.0015",)
RESEND_ATTEMPTS = 3


def not_found_codes() -> frozenset[str]:
    configured = os.environ.get("MODELARTS_NOT_FOUND_CODES")
    if configured is None:
        return frozenset(DEFAULT_NOT_FOUND_CODES)
    return frozenset(code.strip() for code in configured.split(",") if code.strip())


def is_not_found(exc: errors.ModelArtsError) -> bool:
    return exc.status == 404 or (exc.error_code or "") in not_found_codes()


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
            return errors.failure(
                last.error_code or "",
                f"{last.error_msg}; whether the config was deleted is unknown (refresh the list to see)",
            )
    return errors.failure(
        last.error_code or "", f"{last.error_msg}; the config still exists after {RESEND_ATTEMPTS} attempts"
    )


def _call_status(session: Session, method: str, path: str, body: Mapping[str, Any] | None = None) -> Status:
    try:
        answer = session.call(method, path, json_body=body)
    except errors.ModelArtsError as exc:
        return exc.as_status()
    return {"is_success": True, **{k: v for k, v in answer.items() if k != "is_success"}}


def _data_fields(
    inputs: str | None,
    dataset_id: str | None,
    dataset_version_id: str | None,
    data_source: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    given = [
        inputs is not None,
        dataset_id is not None or dataset_version_id is not None,
        data_source is not None,
    ]
    if sum(given) > 1:
        raise ValueError("Give only one of inputs, dataset_id + dataset_version_id, or data_source")
    if (dataset_id is None) != (dataset_version_id is None):
        raise ValueError("dataset_id and dataset_version_id go together")
    if inputs is not None:
        return {"data_url": inputs}
    if dataset_id is not None:
        return {"dataset_id": dataset_id, "dataset_version_id": dataset_version_id}
    if data_source is not None:
        return {"data_source": data_source}
    return {}


class _ConfigCalls:
    """The calls on one named config, shared by ``Estimator`` and ``JobConfig``."""

    _session: Session
    config_name: str | None

    def _name(self) -> str:
        if not self.config_name:
            raise ValueError("This object has no config_name; pass config_name= to Estimator")
        return check_config_name(self.config_name)

    def delete_job_configs(self) -> Status:
        """Delete this config. Returns ``{"is_success": True}`` or the failure."""
        return delete_config(self._session, self._name())

    def get_job_configs_info(self) -> Status:
        """The config's details, with ``is_success``."""
        return _call_status(self._session, "GET", config_path(self._name()))

    def update_job_configs(
        self,
        config_name: str | None = None,
        config_desc: str | None = None,
        inputs: str | None = None,
        dataset_id: str | None = None,
        dataset_version_id: str | None = None,
        data_source: list[dict[str, Any]] | None = None,
    ) -> Status:
        """Update the config's description and data; returns ``is_success`` and any error."""
        name = check_config_name(config_name) if config_name else self._name()
        body: dict[str, Any] = _data_fields(inputs, dataset_id, dataset_version_id, data_source)
        if config_desc is not None:
            body["config_desc"] = config_desc
        return _call_status(self._session, "PUT", config_path(name), body)


class JobConfig(_ConfigCalls):
    """One training-job config as listed (``config_name`` plus the list fields), with its calls."""

    def __init__(self, modelarts_session: Session, fields: Mapping[str, Any]) -> None:
        self._session = modelarts_session
        self.fields: dict[str, Any] = dict(fields)
        self.config_name = str(fields["config_name"])
        self.config_desc: str = str(fields.get("config_desc") or "")
        self.create_time: int | None = fields.get("create_time")
        self.engine_name: str | None = fields.get("engine_name")
        self.engine_version: str | None = fields.get("engine_version")

    def __repr__(self) -> str:
        return f"JobConfig(config_name={self.config_name!r})"


class Estimator(_ConfigCalls):
    """The official SDK's ``Estimator``, for training-job configs.

    ``Estimator(modelarts_session=session, config_name="my_job_config").delete_job_configs()``
    deletes one config; the other parameters describe a config for ``create_job_configs``.
    """

    def __init__(
        self,
        modelarts_session: Session,
        config_name: str | None = None,
        train_instance_count: int | None = None,
        code_dir: str | None = None,
        boot_file: str | None = None,
        model_name: int | None = None,
        output_path: str | None = None,
        hyperparameters: list[dict[str, Any]] | None = None,
        log_url: str | None = None,
        train_instance_type: str | int | None = None,
        framework_type: str | None = None,
        framework_version: str | None = None,
        job_description: str | None = None,
        user_image_url: str | None = None,
        user_command: str | None = None,
        engine_id: int | None = None,
    ) -> None:
        self._session = modelarts_session
        self.config_name = check_config_name(config_name) if config_name is not None else None
        self.job_description = job_description
        self.framework_type = framework_type
        self.framework_version = framework_version
        self._body: dict[str, Any] = {
            key: value
            for key, value in {
                "worker_server_num": train_instance_count,
                "app_url": code_dir,
                "boot_file_url": boot_file,
                "model_id": model_name,
                "train_url": output_path,
                "parameter": hyperparameters,
                "log_url": log_url,
                "user_image_url": user_image_url,
                "user_command": user_command,
                "engine_id": engine_id,
            }.items()
            if value is not None
        }
        if isinstance(train_instance_type, int):
            self._body["spec_id"] = train_instance_type
        elif train_instance_type:
            self._body["flavor"] = {"code": train_instance_type}

    def create_job_configs(
        self,
        config_name: str | None = None,
        config_desc: str | None = None,
        inputs: str | None = None,
        dataset_id: str | None = None,
        dataset_version_id: str | None = None,
    ) -> JobConfig:
        """Create a config from this estimator's settings; raises ModelArtsError on failure."""
        name = check_config_name(config_name or self.config_name)
        body = {
            "config_name": name,
            **self._body,
            **_data_fields(inputs, dataset_id, dataset_version_id),
        }
        desc = config_desc if config_desc is not None else self.job_description
        if desc is not None:
            body["config_desc"] = desc
        self._session.call("POST", CONFIGS, json_body=body)
        return JobConfig(self._session, {"config_name": name, "config_desc": desc or ""})

    @staticmethod
    def get_job_configs_list(
        modelarts_session: Session,
        per_page: int = 10,
        page: int = 1,
        sortBy: str | None = None,
        order: str | None = None,
        search_content: str | None = None,
        config_type: str | None = None,
        sort_by: str | None = None,
    ) -> Status:
        """One page of configs: ``is_success``, ``config_total_count`` and ``configs``."""
        try:
            query = list_query(per_page, page, sort_by or sortBy, order, search_content, config_type)
        except ValueError as exc:
            return errors.failure("ModelArts.0101", str(exc))
        return _call_status_query(modelarts_session, query)

    @staticmethod
    def get_job_configs_object_list(
        modelarts_session: Session,
        is_show: bool = True,
        per_page: int = 10,
        page: int = 1,
        sortBy: str | None = None,
        order: str | None = None,
        search_content: str | None = None,
        config_type: str | None = None,
        sort_by: str | None = None,
    ) -> list[JobConfig]:
        """One page of configs as objects with ``delete_job_configs()``; prints them if ``is_show``."""
        query = list_query(per_page, page, sort_by or sortBy, order, search_content, config_type)
        body = modelarts_session.call("GET", CONFIGS, query=query)
        objects = [JobConfig(modelarts_session, item) for item in body.get("configs") or []]
        if is_show:
            for obj in objects:
                print(f"{obj.config_name}\t{obj.config_desc}")
        return objects

    def __repr__(self) -> str:
        return f"Estimator(config_name={self.config_name!r})"


def list_query(
    per_page: int = 10,
    page: int = 1,
    sort_by: str | None = None,
    order: str | None = None,
    search_content: str | None = None,
    config_type: str | None = None,
) -> list[tuple[str, object]]:
    """The list call's query parameters, checked against the documented ranges."""
    if not 1 <= int(per_page) <= 1000:
        raise ValueError(f"per_page must be between 1 and 1000, not {per_page}")
    if int(page) < 1:
        raise ValueError(f"page must be 1 or more, not {page}")
    if sort_by is not None and sort_by not in SORT_KEYS:
        raise ValueError(f"sort_by must be one of {', '.join(SORT_KEYS)}, not {sort_by!r}")
    if order is not None and order not in ("asc", "desc"):
        raise ValueError(f"order must be 'asc' or 'desc', not {order!r}")
    if config_type is not None and config_type not in ("custom", "sample"):
        raise ValueError(f"config_type must be 'custom' or 'sample', not {config_type!r}")
    params: Iterable[tuple[str, object]] = (
        ("per_page", int(per_page)),
        ("page", int(page)),
        ("sortBy", sort_by),
        ("order", order),
        ("search_content", search_content or None),
        ("config_type", config_type),
    )
    return [(k, v) for k, v in params if v is not None]


def _call_status_query(session: Session, query: list[tuple[str, object]]) -> Status:
    try:
        answer = session.call("GET", CONFIGS, query=query)
    except errors.ModelArtsError as exc:
        return exc.as_status()
    return {
        "is_success": True,
        "config_total_count": int(answer.get("config_total_count") or 0),
        "configs": [
            {k: item.get(k) for k in LIST_FIELDS if k in item} for item in answer.get("configs") or []
        ],
    }
