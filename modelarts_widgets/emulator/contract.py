"""The API's contract as the emulator enforces it, written from the reference alone.

Nothing here comes from ``modelarts_widgets.sdk``: the emulator is the client's counterpart and
must not agree with it by construction. Sources: the v1 training-job-configs pages (create
modelarts_03_0058, update modelarts_03_0060, details modelarts_03_0062, list modelarts_03_0059),
the resource and engine specification pages (modelarts_03_0072, modelarts_03_0073) and the error
code table (modelarts_03_0095); see ``shared/spec/modelarts-api.md`` §2, §2b.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

CONFIG_NAME = re.compile(r"[0-9A-Za-z_-]{1,64}")
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

# Create body (modelarts_03_0058), by field: the JSON types it takes.
_STR = (str,)
_INT = (int,)
BODY_TYPES: dict[str, tuple[type, ...]] = {
    "config_name": _STR,
    "config_desc": _STR,
    "worker_server_num": _INT,
    "app_url": _STR,
    "boot_file_url": _STR,
    "model_id": _INT,
    "parameter": (list,),
    "spec_id": _INT,
    "data_url": _STR,
    "dataset_id": _STR,
    "dataset_version_id": _STR,
    "data_source": (list,),
    "engine_id": _INT,
    "train_url": _STR,
    "log_url": _STR,
    "user_image_url": _STR,
    "user_command": _STR,
}
DATA_FIELDS = ("data_url", "dataset_id", "dataset_version_id", "data_source")
# Fields the update page marks mandatory; the update body is the create body without config_name.
UPDATE_REQUIRED = ("worker_server_num", "app_url", "boot_file_url", "model_id", "spec_id", "engine_id")
# Fields live servers are seen to accept although the create page does not list them (OPENI
# sends them); checked by the types the details page gives them (modelarts_03_0062): pool_id a
# String, volumes an array of {nfs: {id, src_path, dest_path, read_only}} or {host_path: {src_path,
# dest_path, read_only}}; flavor, OPENI's {"code": ...}, an object.
TOLERATED = ("flavor", "pool_id", "volumes")

# GET /v1/{project_id}/job/ai-engines?job_type=train: one entry per engine version.
# (engine_id, engine_name, engine_version, engine_type); types as the engine page lists them.
ENGINES: tuple[tuple[int, str, str, int], ...] = (
    (1, "TensorFlow", "TF-1.4.0-python2.7", 1),
    (3, "TensorFlow", "TF-1.8.0-python2.7", 1),
    (16, "TensorFlow", "TF-2.1.0-python3.6", 1),
    (2, "PyTorch", "PyTorch-1.0.0-python3.6", 10),
    (21, "PyTorch", "PyTorch-1.4.0-python3.6", 10),
    (22, "PyTorch", "PyTorch-1.8.0-python3.7", 10),
    (9, "Spark_MLlib", "Spark-2.3.2-python3.6", 5),
    (11, "Scikit_Learn", "Scikit_Learn-0.18.1-python3.6", 6),
    (10, "XGBoost-Sklearn", "XGBoost-0.80-Sklearn-0.18.1-python3.6", 9),
    (35, "MindSpore-GPU", "MindSpore-1.1.0-python3.7", 17),
    (30, "Ascend-Powered-Engine", "Mindspore-1.2.0-c76-python3.7-euleros2.8-aarch64", 13),
)
# GET /v1/{project_id}/job/resource-specs?job_type=train.
# (spec_id, spec_code, cpu, core, gpu_num, gpu_type, max_num)
SPECS: tuple[tuple[int, str, str, str, int, str, int], ...] = (
    (1, "modelarts.vm.cpu.8u", "32", "8", 0, "", 10),
    (2, "modelarts.vm.cpu.2u", "8", "2", 0, "", 10),
    (4, "modelarts.vm.gpu.v100", "64", "8", 1, "nvidia-v100", 8),
    (5, "modelarts.vm.gpu.p100", "64", "8", 1, "nvidia-p100", 8),
    (6, "modelarts.vm.gpu.p100.8", "512", "64", 8, "nvidia-p100", 4),
    (7, "modelarts.bm.npu.arm.8snt9b3.d", "192", "192", 0, "", 4),
)

# The error code table (modelarts_03_0095 and the API Gateway pages): code -> HTTP status.
ERROR_STATUS: dict[str, int] = {
    "ModelArts.0101": 400,
    "ModelArts.0104": 400,
    "ModelArts.0107": 400,
    "ModelArts.0102": 400,
    "ModelArts.0015": 404,
    "ModelArts.0204": 400,
    "ModelArts.0201": 401,
    "ModelArts.0202": 401,
    "ModelArts.0203": 401,
    "ModelArts.0212": 401,
    "ModelArts.0205": 401,
    "ModelArts.0207": 401,
    "ModelArts.0208": 401,
    "ModelArts.0206": 403,
    "ModelArts.0210": 403,
    "ModelArts.0108": 403,
    "ModelArts.0112": 403,
    "ModelArts.4504": 401,
    "ModelArts.6201": 401,
    "ModelArts.6203": 401,
    "ModelArts.4116": 403,
    "ModelArts.4118": 403,
    "ModelArts.6100": 408,
    "ModelArts.6101": 429,
    "ModelArts.0010": 500,
    "ModelArts.6102": 500,
    "APIGW.0101": 404,
    "APIGW.0301": 401,
    "APIGW.0303": 401,
    "APIG.0303": 401,
    "APIG.0308": 429,
    "APIGW.0308": 429,
}

# Codes the table lists with a second status: 0203 as "401/403", 0206 in the 401 row of
# 0205-0208 and in a 403 row of its own.
OTHER_STATUS: dict[str, tuple[int, ...]] = {"ModelArts.0203": (403,), "ModelArts.0206": (401,)}


class ContractError(Exception):
    """A body the reference says the server refuses: HTTP 400 with this code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def engine(engine_id: int) -> dict[str, Any] | None:
    for eid, name, version, etype in ENGINES:
        if eid == engine_id:
            return {"engine_id": eid, "engine_name": name, "engine_version": version, "engine_type": etype}
    return None


def spec(spec_id: int) -> dict[str, Any] | None:
    for sid, code, cpu, core, gpu_num, gpu_type, _max in SPECS:
        if sid == spec_id:
            return {"spec_code": code, "cpu": cpu, "core": core, "gpu_num": gpu_num, "gpu_type": gpu_type}
    return None


def engines_answer() -> dict[str, Any]:
    return {
        "is_success": True,
        "engines": [
            {"engine_type": t, "engine_id": i, "engine_name": n, "engine_version": v}
            for i, n, v, t in ENGINES
        ],
    }


def specs_answer() -> dict[str, Any]:
    specs = [
        {
            "spec_id": sid,
            "core": core,
            "cpu": cpu,
            "gpu_num": gpu_num,
            "gpu_type": gpu_type,
            "spec_code": code,
            "max_num": max_num,
            "unit_num": 1,
            "storage": "",
            "interface_type": 1,
            "no_resource": False,
        }
        for sid, code, cpu, core, gpu_num, gpu_type, max_num in SPECS
    ]
    return {"is_success": True, "spec_total_count": len(specs), "specs": specs}


def _bad(message: str) -> ContractError:
    return ContractError("ModelArts.0104", f"Parameter error. {message}")


def _is_type(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # JSON true is not an Integer
        return False
    return isinstance(value, types)


def validate(body: Mapping[str, Any], *, update: bool) -> None:
    """Refuse a create (or update) body as the reference describes; raises :class:`ContractError`."""
    for key, types in BODY_TYPES.items():
        if key in body and body[key] is not None and not _is_type(body[key], types):
            kind = "an integer" if types == _INT else types[0].__name__
            raise _bad(f"{key} must be {kind}, not {body[key]!r}")
    if update:
        if "config_name" in body:
            raise _bad("config_name is part of the path, not of the update body")
        missing = [key for key in UPDATE_REQUIRED if body.get(key) is None]
        if missing:
            raise _bad(f"mandatory fields missing: {', '.join(missing)}")
    else:
        name = body.get("config_name")
        if not isinstance(name, str) or not CONFIG_NAME.fullmatch(name):
            raise _bad("config_name is 1-64 of [0-9A-Za-z_-].")
        missing = [key for key in ("worker_server_num", "spec_id") if body.get(key) is None]
        if missing:
            raise _bad(f"mandatory fields missing: {', '.join(missing)}")
    code = body.get("app_url") and body.get("boot_file_url")
    if not (code or body.get("model_id") or (body.get("user_image_url") and body.get("user_command"))):
        raise _bad("app_url and boot_file_url are needed, unless model_id or a custom image is given")
    if len(body.get("config_desc") or "") > 256:
        raise _bad("config_desc is at most 256 characters.")
    if body["worker_server_num"] < 1:
        raise ContractError(
            "ModelArts.0107", "The values of the request parameters (worker_server_num) are invalid."
        )
    found = spec(body["spec_id"])
    if found is None:
        raise ContractError(
            "ModelArts.0107", f"The values of the request parameters (spec_id,{body['spec_id']}) are invalid."
        )
    max_num = next(m for sid, *_rest, m in SPECS if sid == body["spec_id"])
    if body["worker_server_num"] > max_num:
        raise ContractError(
            "ModelArts.0107",
            f"The values of the request parameters (worker_server_num,{body['worker_server_num']})"
            " are invalid.",
        )
    if body.get("engine_id") is not None and engine(body["engine_id"]) is None:
        raise ContractError(
            "ModelArts.0107",
            f"The values of the request parameters (engine_id,{body['engine_id']}) are invalid.",
        )
    _validate_data(body)
    _validate_parameter(body.get("parameter"))
    _validate_tolerated(body)


def _validate_data(body: Mapping[str, Any]) -> None:
    has_url = bool(body.get("data_url"))
    has_dataset = bool(body.get("dataset_id")) or bool(body.get("dataset_version_id"))
    has_source = body.get("data_source") not in (None, [])
    if has_dataset and not (body.get("dataset_id") and body.get("dataset_version_id")):
        raise _bad("dataset_id and dataset_version_id go together")
    if has_url + has_dataset + has_source != 1:
        raise _bad("give exactly one data source: data_url, dataset_id + dataset_version_id, or data_source")
    for item in body.get("data_source") or []:
        if not isinstance(item, dict) or item.get("type") not in ("obs", "dataset"):
            raise _bad("data_source entries are objects with type obs or dataset")
        if item["type"] == "obs" and not isinstance(item.get("data_url"), str):
            raise _bad("an obs data_source entry needs data_url")
        if item["type"] == "dataset" and not (item.get("dataset_id") and item.get("dataset_version")):
            raise _bad("a dataset data_source entry needs dataset_id and dataset_version")


def _validate_parameter(parameter: Any) -> None:
    for item in parameter or []:
        if not isinstance(item, dict) or not isinstance(item.get("label"), str):
            raise _bad("parameter entries are objects with a label")
        value = item.get("value")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _bad(f"parameter {item['label']} needs a string or number value")


# Each mount kind's fields: (required strings, optional strings).
_MOUNTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "nfs": (("src_path", "dest_path"), ("id",)),
    "host_path": (("src_path", "dest_path"), ()),
}


def _validate_tolerated(body: Mapping[str, Any]) -> None:
    if "pool_id" in body and not isinstance(body["pool_id"], str):
        raise _bad(f"pool_id must be str, not {body['pool_id']!r}")
    flavor = body.get("flavor")
    if "flavor" in body and not (isinstance(flavor, dict) and isinstance(flavor.get("code", ""), str)):
        raise _bad(f"flavor must be an object with a string code, not {flavor!r}")
    volumes = body.get("volumes", [])
    if not isinstance(volumes, list):
        raise _bad(f"volumes must be list, not {volumes!r}")
    for item in volumes:
        kind = next(iter(item), None) if isinstance(item, dict) and len(item) == 1 else None
        mount = item.get(kind) if kind in _MOUNTS else None
        if not isinstance(mount, dict):
            raise _bad(f"volumes entries are objects with one of {', '.join(_MOUNTS)}, not {item!r}")
        required, optional = _MOUNTS[str(kind)]
        if not all(isinstance(mount.get(k), str) for k in required) or not all(
            isinstance(mount[k], str) for k in optional if k in mount
        ):
            raise _bad(f"a volumes {kind} entry needs string {', '.join(required)}, not {mount!r}")
        if not isinstance(mount.get("read_only", False), bool):
            raise _bad(f"volumes {kind} read_only must be true or false, not {mount['read_only']!r}")
