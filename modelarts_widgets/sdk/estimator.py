"""``Estimator`` and job-config objects: the official SDK's training-job-config calls.

Every call returns the documented dict: ``is_success``, and on failure ``error_code`` and
``error_msg``. Only bad arguments raise, before anything is sent. What is sent is built by
:mod:`modelarts_widgets.sdk.configs`, the config contract; its names are re-exported here for
modules that import them from this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelarts_widgets.i18n import t

from . import errors
from .configs import (
    CONFIGS,
    CREATE_FIELDS,
    DATA_FIELDS,
    DEFAULT_NOT_FOUND_CODES,
    LIST_FIELDS,
    RESEND_ATTEMPTS,
    SORT_KEYS,
    Status,
    UnknownNameError,
    catalog,
    config_exists,
    config_path,
    data_fields,
    delete_config,
    generated_name,
    is_not_found,
    list_query,
    not_found_codes,
    outcome_uncertain,
    read_modify_write,
)
from .names import check_config_name
from .session import Session

__all__ = [
    "CONFIGS",
    "CREATE_FIELDS",
    "DATA_FIELDS",
    "DEFAULT_NOT_FOUND_CODES",
    "LIST_FIELDS",
    "RESEND_ATTEMPTS",
    "SORT_KEYS",
    "Estimator",
    "JobConfig",
    "Status",
    "UnknownNameError",
    "config_exists",
    "config_path",
    "delete_config",
    "is_not_found",
    "list_query",
    "not_found_codes",
    "outcome_uncertain",
]


def _call_status(session: Session, method: str, path: str, body: Mapping[str, Any] | None = None) -> Status:
    try:
        answer = session.call(method, path, json_body=body)
    except errors.ModelArtsError as exc:
        return exc.as_status()
    return {"is_success": True, **{k: v for k, v in answer.items() if k != "is_success"}}


class _ConfigCalls:
    """The calls on one named config, shared by ``Estimator`` and ``JobConfig``."""

    _session: Session
    config_name: str | None

    def _name(self) -> str:
        if not self.config_name:
            raise ValueError(t("estimator.no_name"))
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
        """Update the config's description and data; returns ``is_success`` and any error.

        The API replaces the whole config, so this reads the details, applies the changes and
        sends the full body (every mandatory field and the other stored fields unchanged). A new
        data source replaces the stored one. Raises ValueError for conflicting data arguments.
        """
        name = check_config_name(config_name) if config_name else self._name()
        changes: dict[str, Any] = data_fields(inputs, dataset_id, dataset_version_id, data_source)
        if config_desc is not None:
            changes["config_desc"] = config_desc
        return read_modify_write(self._session, name, changes)


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
        if framework_version is not None and framework_type is None:
            raise ValueError(t("estimator.version_needs_type"))
        if engine_id is not None and framework_type is not None:
            raise ValueError(t("estimator.type_or_engine"))
        self.train_instance_type = train_instance_type
        self.engine_id = engine_id
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
            }.items()
            if value is not None
        }

    def _resolved(self) -> dict[str, Any]:
        """``spec_id`` and ``engine_id`` for this estimator, names looked up in the session's catalog."""
        ids: dict[str, Any] = {}
        flavor = self.train_instance_type
        if isinstance(flavor, int) and not isinstance(flavor, bool):
            ids["spec_id"] = flavor
        elif isinstance(flavor, str) and flavor.isdigit():
            ids["spec_id"] = int(flavor)
        elif flavor:
            ids["spec_id"] = catalog(self._session).spec_id(str(flavor))
        if self.engine_id is not None:
            ids["engine_id"] = self.engine_id
        elif self.framework_type:
            ids["engine_id"] = catalog(self._session).engine_id(self.framework_type, self.framework_version)
        return ids

    def create_job_configs(
        self,
        config_name: str | None = None,
        config_desc: str | None = None,
        inputs: str | None = None,
        dataset_id: str | None = None,
        dataset_version_id: str | None = None,
    ) -> JobConfig:
        """Create a config from this estimator's settings and return it as a :class:`JobConfig`.

        Without a name (here or on the estimator) one is made from the date, as the official SDK
        does (20 characters, e.g. ``cfg-261207-164500-a3``). ``train_instance_type`` (a flavor's
        ``spec_code``, or a ``spec_id``) and ``framework_type`` + ``framework_version`` are looked
        up in the project's resource specs and engines; an unknown name raises
        :class:`UnknownNameError` listing close matches, and nothing is created. The server's
        refusal raises ``ModelArtsError``.
        """
        name = check_config_name(config_name or self.config_name or generated_name())
        body = {
            "config_name": name,
            **self._body,
            **self._resolved(),
            **data_fields(inputs, dataset_id, dataset_version_id),
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
        order: str | None = "asc",
        search_content: str | None = None,
        config_type: str | None = None,
        sort_by: str | None = None,
    ) -> Status:
        """One page of configs: ``is_success``, ``config_total_count`` and ``configs``.

        Defaults as the official SDK documents them: ``per_page=10``, ``page=1``, ``order="asc"``.
        The SDK's documented default sort key, ``job_name``, does not exist for configs: with no
        ``sort_by`` the server's own default (``config_name``) applies, and ``sort_by="job_name"``
        gives a failure dict without sending anything. ``sortBy`` and ``sort_by`` are the same.
        """
        try:
            query = list_query(per_page, page, sort_by or sortBy, order, search_content, config_type)
        except ValueError as exc:
            return errors.failure(errors.INVALID_ARGUMENT, str(exc))
        return _call_status_query(modelarts_session, query)

    @staticmethod
    def get_job_configs_object_list(
        modelarts_session: Session,
        is_show: bool = True,
        per_page: int = 10,
        page: int = 1,
        sortBy: str | None = None,
        order: str | None = "asc",
        search_content: str | None = None,
        config_type: str | None = None,
        sort_by: str | None = None,
    ) -> list[JobConfig]:
        """One page of configs as objects with ``delete_job_configs()``; prints them if ``is_show``.

        Parameters and defaults as :meth:`get_job_configs_list`; bad ones raise ValueError.
        """
        query = list_query(per_page, page, sort_by or sortBy, order, search_content, config_type)
        body = modelarts_session.call("GET", CONFIGS, query=query)
        objects = [JobConfig(modelarts_session, item) for item in body.get("configs") or []]
        if is_show:
            for obj in objects:
                print(f"{obj.config_name}\t{obj.config_desc}")
        return objects

    def __repr__(self) -> str:
        return f"Estimator(config_name={self.config_name!r})"


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
