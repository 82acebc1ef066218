"""The emulator's config store: what the documented list, details, create, update and delete do."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from . import contract
from .contract import DATA_FIELDS, LIST_FIELDS, SORT_KEYS

# What a stored config keeps of a create or update body.
ACCEPTED = tuple(k for k in contract.BODY_TYPES if k != "config_name") + contract.TOLERATED


class ApiFailure(Exception):
    """An error answer: HTTP status plus the v1 envelope's code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class ConfigStore:
    """Thread-safe configs by name, with ``custom`` and ``sample`` kinds."""

    def __init__(self, configs: Iterable[Mapping[str, Any]] = (), samples: Iterable[Mapping[str, Any]] = ()):
        self._lock = threading.Lock()
        self._configs: dict[str, dict[str, Any]] = {c["config_name"]: dict(c) for c in configs}
        self._samples: dict[str, dict[str, Any]] = {c["config_name"]: dict(c) for c in samples}
        # Sorted views per (kind, sort key, order, search), dropped on every change: paging through
        # 10,000 configs must not sort them again for each page.
        self._views: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
        # Each config's list entry as JSON, dropped when the config changes, so that a page of
        # 1,000 is joined rather than encoded anew: the emulator is one Python process, and
        # encoding under its GIL made concurrent page requests wait on one another.
        self._entries: dict[tuple[str, str], bytes] = {}

    def _kind(self, config_type: str | None) -> dict[str, dict[str, Any]]:
        if config_type in (None, "", "custom"):
            return self._configs
        if config_type == "sample":
            return self._samples
        raise ApiFailure(400, "ModelArts.0101", "Invalid Argument. config_type must be custom or sample.")

    def names(self) -> set[str]:
        with self._lock:
            return set(self._configs)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: dict(config) for name, config in self._configs.items()}

    def replace(self, configs: Iterable[Mapping[str, Any]]) -> None:
        with self._lock:
            self._configs = {c["config_name"]: dict(c) for c in configs}
            self._views.clear()
            self._entries.clear()

    def list(self, params: Mapping[str, str]) -> bytes:
        """One page of the list answer, encoded as the JSON the server sends."""
        try:
            per_page = int(params.get("per_page", "10"))
            page = int(params.get("page", "1"))
        except ValueError:
            raise ApiFailure(
                400, "ModelArts.0101", "Invalid Argument. per_page and page are integers."
            ) from None
        if not 1 <= per_page <= 1000 or page < 1:
            raise ApiFailure(400, "ModelArts.0101", "Invalid Argument. per_page is 1-1000, page 1 or more.")
        sort_by = params.get("sortBy", "config_name")
        order = params.get("order", "desc")
        if sort_by not in SORT_KEYS or order not in ("asc", "desc"):
            raise ApiFailure(400, "ModelArts.0101", "Invalid Argument. Bad sortBy or order.")
        config_type = params.get("config_type")
        if config_type == "sample" and sort_by == "create_time":
            raise ApiFailure(
                400, "ModelArts.0101", "Invalid Argument. create_time sorting is not for samples."
            )
        search = params.get("search_content", "").lower()
        key = (config_type or "custom", sort_by, order, search)
        with self._lock:
            items = self._views.get(key)
            if items is None:
                items = [c for c in self._kind(config_type).values() if search in c["config_name"].lower()]
                items.sort(key=lambda c: (c.get(sort_by) or "", c["config_name"]), reverse=order == "desc")
                self._views[key] = items
            start = (page - 1) * per_page
            entries = [self._entry(key[0], c) for c in items[start : start + per_page]]
        head = f'{{"is_success": true, "config_total_count": {len(items)}, "configs": ['
        return head.encode() + b", ".join(entries) + b"]}"

    def _changed(self, name: str) -> None:
        self._views.clear()
        self._entries.pop(("custom", name), None)

    def _entry(self, kind: str, config: dict[str, Any]) -> bytes:
        key = (kind, config["config_name"])
        entry = self._entries.get(key)
        if entry is None:
            entry = json.dumps({k: config.get(k) for k in LIST_FIELDS}, ensure_ascii=False).encode()
            self._entries[key] = entry
        return entry

    def get(self, name: str, config_type: str | None = None) -> dict[str, Any]:
        with self._lock:
            config = self._kind(config_type).get(name)
        if config is None:
            raise ApiFailure(404, "ModelArts.0015", "The resource you requested is not exist")
        return {"is_success": True, **config}

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        body = _check(body, update=False)
        name = str(body["config_name"])
        # Details show every documented field; unset ones come back empty, model_id as 0.
        defaults = {"engine_id": 1, "config_desc": "", "model_id": 0, "parameter": [], "volumes": []}
        config = _stored({**defaults, **dict.fromkeys(_DETAIL_TEXT, "")}, body)
        config.update(config_name=name, create_time=int(time.time() * 1000))
        with self._lock:
            if name in self._configs:
                raise ApiFailure(
                    400, "ModelArts.0101", f"Invalid Argument. The config {name} already exists."
                )
            self._configs[name] = config
            self._changed(name)
        return {"is_success": True}

    def update(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            config = self._configs.get(name)
            if config is None:
                raise ApiFailure(404, "ModelArts.0015", "The resource you requested is not exist")
            self._configs[name] = _stored(config, _check(body, update=True))
            self._changed(name)
        return {"is_success": True}

    def delete(self, name: str) -> dict[str, Any]:
        with self._lock:
            if self._configs.pop(name, None) is None:
                raise ApiFailure(404, "ModelArts.0015", "The resource you requested is not exist")
            self._changed(name)
        return {"is_success": True}


_DETAIL_TEXT = (
    "app_url",
    "boot_file_url",
    "train_url",
    "log_url",
    "user_image_url",
    "user_command",
    "dataset_name",
    "dataset_version_name",
    "pool_id",
    "pool_name",
    "nas_mount_path",
    "nas_share_addr",
)


def _check(body: Mapping[str, Any], *, update: bool) -> dict[str, Any]:
    """The body without its null fields (null is a field left out), once the contract accepts it."""
    present = {k: v for k, v in body.items() if v is not None}
    try:
        contract.validate(present, update=update)
    except contract.ContractError as exc:
        raise ApiFailure(contract.ERROR_STATUS[exc.code], exc.code, exc.message) from None
    return present


def _stored(base: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with the body's fields over it; the engine and flavor fields follow the ids.

    The body carries exactly one data source, which replaces the stored one; details show an OBS
    input both as ``data_url`` and as a one-entry ``data_source``, as the documented example does.
    """
    config = {k: v for k, v in base.items() if k not in DATA_FIELDS}
    config.update({k: body[k] for k in ACCEPTED if k in body})
    for key in ("data_url", "dataset_id", "dataset_version_id"):
        config.setdefault(key, "")
    if config["data_url"] and not config.get("data_source"):
        config["data_source"] = [{"type": "obs", "data_url": config["data_url"]}]
    config.setdefault("data_source", [])
    config.update(contract.engine(int(config["engine_id"])) or {})
    config.update(contract.spec(int(config["spec_id"])) or {})
    config.setdefault("config_desc", "")
    return config
