"""The config contract on the client side: documented create and update bodies, names resolved to ids."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

import pytest

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import BulkDelete, Estimator, Session, configs, estimator
from modelarts_widgets.sdk.trash import create_body as trash_create_body
from modelarts_widgets.sdk.trash import restore

DOCUMENTED_CREATE = {"config_name", *configs.CREATE_FIELDS, *configs.DATA_FIELDS}
SENT = {*DOCUMENTED_CREATE, *configs.CARRIED_FIELDS}  # and what live create bodies carry (§2.4)


def official_example(session: Session) -> Estimator:
    """The official SDK's create example (spec §1.3.1), as its page writes it."""
    return Estimator(
        modelarts_session=session,
        framework_type="PyTorch",
        framework_version="PyTorch-1.0.0-python3.6",
        code_dir="/obs-bucket-name/src/",
        boot_file="/obs-bucket-name/src/pytorch_sentiment.py",
        log_url="/obs-bucket-name/log/",
        hyperparameters=[{"label": "dataset_name", "value": "aclImdb"}],
        output_path="/obs-bucket-name/output/",
        train_instance_type="modelarts.vm.gpu.p100",
        train_instance_count=1,
    )


def sent(emulator: Emulator, method: str) -> list[dict[str, Any]]:
    return [body for m, _, body in emulator.received if m == method]


# -- 2. create -----------------------------------------------------------------------------------


def test_the_official_create_example_sends_the_documented_body(emulator: Emulator, session: Session) -> None:
    made = official_example(session).create_job_configs(
        config_name="sdk-example", config_desc="from the docs", inputs="/obs-bucket-name/data/"
    )
    assert made.config_name == "sdk-example"
    (body,) = sent(emulator, "POST")
    assert set(body) <= DOCUMENTED_CREATE
    assert body == {
        "config_name": "sdk-example",
        "config_desc": "from the docs",
        "worker_server_num": 1,
        "app_url": "/obs-bucket-name/src/",
        "boot_file_url": "/obs-bucket-name/src/pytorch_sentiment.py",
        "log_url": "/obs-bucket-name/log/",
        "parameter": [{"label": "dataset_name", "value": "aclImdb"}],
        "train_url": "/obs-bucket-name/output/",
        "spec_id": 5,
        "engine_id": 2,
        "data_url": "/obs-bucket-name/data/",
    }
    # The Engine cell of the list shows the framework that was asked for.
    listed = Estimator.get_job_configs_list(session, per_page=100, search_content="sdk-example")["configs"]
    assert (listed[0]["engine_name"], listed[0]["engine_version"]) == ("PyTorch", "PyTorch-1.0.0-python3.6")


def test_flavors_and_engines_are_read_once_per_session(emulator: Emulator, session: Session) -> None:
    example = official_example(session)
    for index in range(3):
        example.create_job_configs(config_name=f"once-{index}", inputs="/b/data/")
    assert emulator.count("GET") == 0  # the configs API was not asked
    lookups = [p for m, p, _ in emulator.requests if m == "GET" and "/job/" in p]
    assert len(lookups) == 2
    assert {p.partition("?")[2] for p in lookups} == {"job_type=train"}
    # A new session reads them again: what one project offers is not another's.
    official_example(Session(environ=emulator.env())).create_job_configs(config_name="once-3", inputs="/b/d/")
    assert len([p for m, p, _ in emulator.requests if m == "GET" and "/job/" in p]) == 4


@pytest.mark.parametrize(
    ("settings", "close"),
    [
        ({"train_instance_type": "modelarts.vm.gpu.p10"}, "modelarts.vm.gpu.p100"),
        ({"framework_type": "Pytorch"}, "PyTorch"),
        ({"framework_version": "PyTorch-1.0.0-python3.7"}, "PyTorch-1.0.0-python3.6"),
    ],
)
def test_an_unknown_name_lists_close_matches_and_sends_nothing(
    emulator: Emulator, session: Session, settings: dict[str, str], close: str
) -> None:
    example = official_example(session)
    for key, value in settings.items():
        setattr(example, key, value)
    before = emulator.store.names()
    with pytest.raises(configs.UnknownNameError, match=re.escape(close)) as caught:
        example.create_job_configs(config_name="never-made", inputs="/b/data/")
    assert "nothing was sent" in str(caught.value)
    assert sent(emulator, "POST") == []
    assert emulator.store.names() == before


def test_a_framework_with_several_versions_needs_the_version(emulator: Emulator, session: Session) -> None:
    example = official_example(session)
    example.framework_version = None
    with pytest.raises(configs.UnknownNameError, match=re.escape("PyTorch-1.8.0-python3.7")):
        example.create_job_configs(config_name="never-made", inputs="/b/data/")
    assert sent(emulator, "POST") == []


def test_create_without_a_name_makes_one_from_the_date(emulator: Emulator, session: Session) -> None:
    made = official_example(session).create_job_configs(inputs="/b/data/")
    assert re.fullmatch(r"cfg-\d{6}-\d{6}-[0-9a-z]{2}", made.config_name)
    assert 1 <= len(made.config_name) <= 20
    assert made.config_name in emulator.store.names()


def test_unnamed_creates_in_one_second_all_succeed(
    emulator: Emulator, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A loop of unnamed creates runs many times a second; the names, made from the date to the
    # second, must still differ, or a create fails as a duplicate.
    frozen = datetime(2026, 12, 7, 16, 45, 0, tzinfo=timezone.utc)

    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Clock:  # type: ignore[override]
            return cls.fromtimestamp(frozen.timestamp(), tz)

    monkeypatch.setattr(configs, "datetime", Clock)
    estimator = official_example(session)
    made = [estimator.create_job_configs(inputs="/b/data/").config_name for _ in range(60)]
    assert len(set(made)) == 60
    assert all(name.startswith("cfg-261207-164500-") for name in made)
    assert set(made) <= emulator.store.names()


def test_restore_builds_its_bodies_with_the_same_code(emulator: Emulator, session: Session) -> None:
    assert estimator.CREATE_FIELDS is configs.CREATE_FIELDS
    name = sorted(emulator.store.names())[0]
    details = session.call("GET", f"/training-job-configs/{name}")
    details["flavor"] = {"code": "modelarts.vm.cpu.8u"}  # fields live servers add are not sent back
    assert trash_create_body(details) == configs.create_body(details)
    assert set(configs.create_body(details)) <= SENT
    assert "flavor" not in configs.create_body(details)


def test_restore_recreates_a_config_with_the_documented_body(
    emulator: Emulator, session: Session, tmp_path: Any
) -> None:
    from modelarts_widgets.sdk import BulkDelete
    from modelarts_widgets.sdk.trash import Trash

    name = sorted(emulator.store.names())[0]
    original = emulator.store.snapshot()[name]
    run = BulkDelete(session, [name], backup=Trash(tmp_path))
    run.run()
    assert restore(session, run.backup_path) == {name: {"is_success": True}}  # type: ignore[arg-type]
    (body,) = sent(emulator, "POST")
    assert set(body) <= DOCUMENTED_CREATE
    again = emulator.store.snapshot()[name]
    assert {k: again[k] for k in ("engine_name", "engine_version", "spec_code", "train_url")} == {
        k: original[k] for k in ("engine_name", "engine_version", "spec_code", "train_url")
    }


# -- 1. update -----------------------------------------------------------------------------------


def test_update_sends_the_whole_config_with_the_change(emulator: Emulator, session: Session) -> None:
    name = sorted(emulator.store.names())[0]
    before = emulator.store.snapshot()[name]
    status = Estimator(modelarts_session=session, config_name=name).update_job_configs(config_desc="x")
    assert status == {"is_success": True}
    (body,) = sent(emulator, "PUT")
    assert set(configs.UPDATE_REQUIRED) <= set(body)
    assert "config_name" not in body
    assert set(body) <= DOCUMENTED_CREATE
    assert sum(k in body for k in ("data_url", "dataset_id", "data_source")) == 1
    after = emulator.store.snapshot()[name]
    assert after["config_desc"] == "x"
    unchanged = [*configs.CREATE_FIELDS, *configs.DATA_FIELDS, "engine_name", "spec_code"]
    assert {k: after.get(k) for k in unchanged if k != "config_desc"} == {
        k: before.get(k) for k in unchanged if k != "config_desc"
    }


POOL = {
    "pool_id": "pool9928813f",
    "volumes": [
        {
            "nfs": {
                "id": "43b37236",
                "src_path": "192.168.8.150:/",
                "dest_path": "/home/work/nas",
                "read_only": False,
            }
        },
        {"host_path": {"src_path": "/root/data", "dest_path": "/home/work/data", "read_only": True}},
    ],
}


def _on_a_pool(emulator: Emulator) -> str:
    """A stored config on a dedicated pool with an NFS and a host-path mount (§2.3's fields)."""
    snapshot = emulator.store.snapshot()
    name = sorted(snapshot)[0]
    snapshot[name].update(json.loads(json.dumps(POOL)))
    emulator.store.replace(snapshot.values())
    return name


def test_update_keeps_the_configs_pool_and_mounts(emulator: Emulator, session: Session) -> None:
    name = _on_a_pool(emulator)
    status = Estimator(modelarts_session=session, config_name=name).update_job_configs(config_desc="x")
    assert status == {"is_success": True}
    (body,) = sent(emulator, "PUT")
    assert {k: body.get(k) for k in POOL} == POOL  # the whole config is replaced: nothing left behind
    assert {k: emulator.store.snapshot()[name].get(k) for k in POOL} == POOL


def test_a_restore_brings_back_the_configs_pool_and_mounts(emulator: Emulator, session: Session) -> None:
    name = _on_a_pool(emulator)
    run = BulkDelete(session, [name])
    run.run()
    assert name not in emulator.store.names()
    assert restore(session, run.backup_path)[name] == {"is_success": True}  # type: ignore[arg-type]
    (body,) = sent(emulator, "POST")
    assert {k: body.get(k) for k in POOL} == POOL
    assert {k: emulator.store.snapshot()[name].get(k) for k in POOL} == POOL


def test_update_with_a_new_data_source_replaces_the_stored_one(emulator: Emulator, session: Session) -> None:
    name = sorted(emulator.store.names())[1]
    config = Estimator(modelarts_session=session, config_name=name)
    status = config.update_job_configs(dataset_id="ds-1", dataset_version_id="v-1")
    assert status == {"is_success": True}
    (body,) = sent(emulator, "PUT")
    assert (body["dataset_id"], body["dataset_version_id"]) == ("ds-1", "v-1")
    assert "data_url" not in body
    assert "data_source" not in body
    after = emulator.store.snapshot()[name]
    assert (after["dataset_id"], after["data_url"], after["data_source"]) == ("ds-1", "", [])


def test_update_of_a_config_without_a_mandatory_field_sends_nothing(
    emulator: Emulator, session: Session
) -> None:
    name = sorted(emulator.store.names())[2]
    config = emulator.store.snapshot()[name]
    del config["spec_id"]
    emulator.store.replace([config])
    status = Estimator(modelarts_session=session, config_name=name).update_job_configs(config_desc="x")
    assert status["is_success"] is False
    assert status["error_code"] == configs.INCOMPLETE
    assert "spec_id" in status["error_msg"]
    assert sent(emulator, "PUT") == []


def test_update_of_a_missing_config_is_the_not_found_failure(emulator: Emulator, session: Session) -> None:
    status = Estimator(modelarts_session=session, config_name="not-there").update_job_configs(config_desc="x")
    assert (status["is_success"], status["error_code"]) == (False, "ModelArts.0015")
    assert sent(emulator, "PUT") == []


# -- 6. list parity ------------------------------------------------------------------------------


def test_list_defaults_are_the_official_sdks(emulator: Emulator, session: Session) -> None:
    page = Estimator.get_job_configs_list(session)
    assert len(page["configs"]) == 10
    names = [c["config_name"] for c in page["configs"]]
    assert names == sorted(emulator.store.names())[:10]  # order asc, the server's config_name key
    (query,) = [p.partition("?")[2] for m, p, _ in emulator.requests if m == "GET"]
    assert query == "order=asc&page=1&per_page=10"


@pytest.mark.parametrize("key", ["config_name", "config_desc", "create_time"])
def test_every_documented_sort_key_is_accepted(session: Session, key: str) -> None:
    page = Estimator.get_job_configs_list(session, per_page=50, sort_by=key, order="asc")
    values = [c[key] for c in page["configs"]]
    assert values == sorted(values)


def test_the_sdks_documented_default_sort_key_gives_a_clear_error_and_sends_nothing(
    emulator: Emulator, session: Session
) -> None:
    result = Estimator.get_job_configs_list(session, sort_by="job_name")
    assert result["is_success"] is False
    # A refusal made here, not by the server, must not wear a server's code.
    assert result["error_code"].startswith("Client."), result
    assert "the official SDK's documented default" in result["error_msg"]
    assert "config_name" in result["error_msg"]
    with pytest.raises(ValueError, match="job_name"):
        Estimator.get_job_configs_object_list(session, sortBy="job_name")
    assert emulator.requests == []


# -- 7. one module ---------------------------------------------------------------------------------


def test_estimator_re_exports_the_contract_for_existing_importers() -> None:
    for name in (
        "delete_config",
        "config_exists",
        "is_not_found",
        "config_path",
        "not_found_codes",
        "outcome_uncertain",
        "list_query",
    ):
        assert getattr(estimator, name) is getattr(configs, name), name


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_number_json_cannot_carry_is_refused_before_anything_is_sent(
    emulator: Emulator, session: Session, value: float
) -> None:
    estimator = Estimator(
        session,
        train_instance_type="modelarts.vm.cpu.2u",
        code_dir="/b/code/",
        boot_file="/b/code/train.py",
        output_path="/b/out/",
        hyperparameters=[{"label": "lr", "value": value}],
        train_instance_count=1,
    )
    with pytest.raises(ValueError, match="JSON"):
        estimator.create_job_configs(config_name="not-json", inputs="/b/data/")
    assert emulator.count("POST") == 0
    assert "not-json" not in emulator.store.names()


def test_a_saved_config_json_cannot_carry_fails_alone_in_a_restore(
    emulator: Emulator, session: Session, tmp_path: Any
) -> None:
    # A backup holds what the server answered; Python's json reads NaN in an answer and writes
    # it to the file. Restoring it must fail for that config only, as a result, not as a raise.
    from modelarts_widgets.sdk import BulkDelete
    from modelarts_widgets.sdk.trash import Trash

    first, second = sorted(emulator.store.names())[:2]
    run = BulkDelete(session, [first, second], backup=Trash(tmp_path))
    run.run()
    path = run.backup_path
    assert path is not None
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for entry in lines[1:]:  # after the header, one line per config
        if entry["config_name"] == first:
            entry["details"]["parameter"] = [{"label": "lr", "value": float("nan")}]
    path.write_text("".join(json.dumps(entry) + "\n" for entry in lines), encoding="utf-8")
    results = restore(session, path)
    assert results[second] == {"is_success": True}
    assert results[first]["is_success"] is False
    assert results[first]["error_code"] == "Client.InvalidArgument"
    assert first not in emulator.store.names()


def test_an_update_of_details_json_cannot_carry_is_a_failure_result(
    emulator: Emulator, session: Session
) -> None:
    name = sorted(emulator.store.names())[0]
    emulator.store._configs[name]["parameter"] = [{"label": "lr", "value": float("inf")}]
    result = Estimator(session, config_name=name).update_job_configs(config_desc="x")
    assert result["is_success"] is False
    assert result["error_code"] == "Client.InvalidArgument"
    assert emulator.count("PUT") == 0
