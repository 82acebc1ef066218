"""The emulator as an independent counterpart: create and update bodies checked as the reference says, and
bodies it must not take or choke on (not JSON, a bad Content-Length)."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
import requests

from modelarts_widgets.emulator import Emulator, contract
from modelarts_widgets.sdk import Session, signer

GOOD_BODY: dict[str, Any] = {
    "config_name": "body-check",
    "worker_server_num": 1,
    "app_url": "/b/code/",
    "boot_file_url": "/b/code/train.py",
    "spec_id": 1,
    "engine_id": 1,
    "data_url": "/b/data/",
}


# -- body validation --------------------------------------------------------------------------------


def _post(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    from modelarts_widgets.sdk import ModelArtsError

    try:
        return session.call("POST", "/training-job-configs", json_body=body)
    except ModelArtsError as exc:
        return {"status": exc.status, "error_code": exc.error_code, "error_msg": exc.error_msg}


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"worker_server_num": "abc"}, "worker_server_num must be an integer"),
        ({"worker_server_num": True}, "worker_server_num must be an integer"),
        ({"worker_server_num": 0}, "worker_server_num"),
        ({"worker_server_num": 999}, "worker_server_num"),
        ({"spec_id": None}, "spec_id"),
        ({"spec_id": 12345}, "spec_id"),
        ({"engine_id": 777}, "engine_id"),
        ({"data_url": None}, "exactly one data source"),
        ({"dataset_id": "d1", "dataset_version_id": "v1"}, "exactly one data source"),
        ({"data_url": None, "dataset_id": "d1"}, "go together"),
        ({"config_name": "bad name"}, "config_name"),
        ({"config_desc": "x" * 257}, "config_desc"),
        ({"app_url": None}, "app_url and boot_file_url"),
        ({"parameter": [{"label": "lr", "value": None}]}, "parameter"),
        ({"data_url": None, "data_source": [{"type": "s3", "data_url": "/x/"}]}, "data_source"),
    ],
)
def test_create_bodies_are_checked_as_the_reference_says(
    emulator: Emulator, session: Session, change: dict[str, Any], needle: str
) -> None:
    body = {k: v for k, v in {**GOOD_BODY, **change}.items() if v is not None}
    before = emulator.store.names()
    answer = _post(session, body)
    assert answer.get("status") == 400, answer
    assert answer["error_code"] in ("ModelArts.0104", "ModelArts.0107")
    assert needle in answer["error_msg"]
    assert emulator.store.names() == before


def test_a_valid_create_gets_engine_and_flavor_fields_from_the_ids(
    emulator: Emulator, session: Session
) -> None:
    assert _post(session, {**GOOD_BODY, "engine_id": 2, "spec_id": 5}) == {"is_success": True}
    stored = emulator.store.snapshot()["body-check"]
    assert (stored["engine_name"], stored["engine_version"], stored["engine_type"]) == (
        "PyTorch",
        "PyTorch-1.0.0-python3.6",
        10,
    )
    assert stored["spec_code"] == "modelarts.vm.gpu.p100"


# The details page's pool and mount fields (§2.3), which live create bodies send (§2.4).
VOLUMES = [
    {"nfs": {"id": "43b3", "src_path": "192.168.8.150:/", "dest_path": "/home/work/nas", "read_only": False}},
    {"host_path": {"src_path": "/root/work", "dest_path": "/home/mind", "read_only": False}},
]


@pytest.mark.parametrize(
    "change",
    [
        {"pool_id": 123},
        {"pool_id": ["pool1"]},
        {"volumes": "/home/work/nas"},
        {"volumes": {"nfs": VOLUMES[0]["nfs"]}},
        {"volumes": [1]},
        {"volumes": [{}]},
        {"volumes": [{"s3": {"src_path": "/a", "dest_path": "/b"}}]},
        {"volumes": [{**VOLUMES[0], **VOLUMES[1]}]},
        {"volumes": [{"host_path": "/root/work"}]},
        {"volumes": [{"nfs": {**VOLUMES[0]["nfs"], "src_path": 1}}]},
        {"volumes": [{"host_path": {"src_path": "/root/work"}}]},
        {"volumes": [{"nfs": {**VOLUMES[0]["nfs"], "read_only": "no"}}]},
        {"volumes": [{"nfs": {**VOLUMES[0]["nfs"], "id": 7}}]},
        {"flavor": "modelarts.vm.cpu.8u"},
        {"flavor": {"code": 8}},
    ],
)
def test_the_pool_mount_and_flavor_fields_are_checked_by_their_documented_types(
    emulator: Emulator, session: Session, change: dict[str, Any]
) -> None:
    # Fields the create page does not list but live bodies carry are typed by the details page:
    # a client that sends them wrong is told so, create and update alike, and nothing is stored.
    (key,) = change
    before = emulator.store.snapshot()
    answer = _post(session, {**GOOD_BODY, **change})
    assert answer.get("status") == 400, answer
    assert answer["error_code"] == "ModelArts.0104"
    assert key in answer["error_msg"]
    name = sorted(before)[0]
    update = {k: v for k, v in GOOD_BODY.items() if k != "config_name"}
    from modelarts_widgets.sdk import ModelArtsError

    with pytest.raises(ModelArtsError, match=key) as caught:
        session.call("PUT", f"/training-job-configs/{name}", json_body={**update, "model_id": 0, **change})
    assert caught.value.status == 400
    assert emulator.store.snapshot() == before


def test_the_documented_pool_and_mounts_are_taken_and_shown(emulator: Emulator, session: Session) -> None:
    body = {
        **GOOD_BODY,
        "pool_id": "pool9928813f",
        "volumes": VOLUMES,
        "flavor": {"code": "modelarts.vm.cpu.8u"},
    }
    assert _post(session, body) == {"is_success": True}
    details = session.call("GET", "/training-job-configs/body-check")
    assert (details["pool_id"], details["volumes"]) == ("pool9928813f", VOLUMES)
    # Empty values are a config without a pool or mounts.
    assert _post(session, {**GOOD_BODY, "config_name": "no-pool", "pool_id": "", "volumes": []}) == {
        "is_success": True
    }


OPTIONAL_FIELDS = (
    "config_desc",
    "model_id",
    "parameter",
    "engine_id",
    "train_url",
    "log_url",
    "user_image_url",
    "user_command",
    "dataset_id",
    "dataset_version_id",
    "data_source",
)


@pytest.mark.parametrize("key", OPTIONAL_FIELDS)
def test_an_optional_field_sent_as_null_counts_as_absent(
    emulator: Emulator, session: Session, key: str
) -> None:
    # JSON null for an optional field is the field left out: the server's default applies
    # (engine_id 1), details show no null, and the answer is an answer, not a dropped connection.
    from modelarts_widgets.sdk import ModelArtsError

    assert _post(session, {**GOOD_BODY, "config_name": "without"}) == {"is_success": True}
    assert _post(session, {**GOOD_BODY, "config_name": "with-null", key: None}) == {"is_success": True}
    name = sorted(emulator.store.names())[0]
    update = {k: v for k, v in GOOD_BODY.items() if k != "config_name"}
    body = {**update, "model_id": 0, key: None}
    if key in contract.UPDATE_REQUIRED:  # mandatory for update: null is missing
        with pytest.raises(ModelArtsError, match="mandatory fields missing"):
            session.call("PUT", f"/training-job-configs/{name}", json_body=body)
    else:
        session.call("PUT", f"/training-job-configs/{name}", json_body=body)
    configs = emulator.store.snapshot()
    ignore = ("config_name", "create_time")
    with_null = {k: v for k, v in configs["with-null"].items() if k not in ignore}
    assert with_null == {k: v for k, v in configs["without"].items() if k not in ignore}
    assert None not in configs[name].values()


def test_update_needs_the_mandatory_fields(emulator: Emulator, session: Session) -> None:
    from modelarts_widgets.sdk import ModelArtsError

    name = sorted(emulator.store.names())[0]
    before = emulator.store.snapshot()[name]
    with pytest.raises(ModelArtsError, match="mandatory fields missing") as caught:
        session.call("PUT", f"/training-job-configs/{name}", json_body={"config_desc": "x"})
    assert caught.value.status == 400
    assert emulator.store.snapshot()[name] == before


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_body_that_is_not_json_is_refused_even_where_python_reads_it(
    emulator: Emulator, constant: str
) -> None:
    # Python's json module reads NaN and Infinity; JSON (RFC 8259) has no such values, and a
    # server that stored one would answer details that strict JSON parsers cannot read.
    text = json.dumps({**GOOD_BODY, "parameter": [{"label": "lr", "value": 0.5}]}).replace("0.5", constant)
    path = f"/v1/{emulator.project_id}/training-job-configs"
    headers = signer.sign(
        access_key=next(iter(emulator.identities.keys)),
        secret_key=next(iter(emulator.identities.keys.values())),
        method="POST",
        host=emulator.endpoint.split("//", 1)[1],
        path=path,
        headers={"Content-Type": "application/json"},
        body=text.encode(),
    )
    answer = requests.post(f"{emulator.endpoint}{path}", data=text.encode(), headers=headers, timeout=10)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == "ModelArts.0101"
    assert GOOD_BODY["config_name"] not in emulator.store.names()


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", ""])
def test_a_bad_content_length_gets_a_400_not_a_dropped_or_hung_connection(
    emulator: Emulator, length: str
) -> None:
    path = f"/v1/{emulator.project_id}/training-job-configs"
    with socket.create_connection((emulator.host, emulator.port), timeout=5) as conn:
        conn.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{{}}".encode())
        received = b""
        while chunk := conn.recv(4096):  # the emulator closes the connection after answering
            received += chunk
    answer = received.decode("latin-1")
    assert answer.startswith("HTTP/1.1 400"), answer
    assert '"ModelArts.0101"' in answer
