"""The official SDK's calls, run as the seed page writes them, against the emulator."""

from __future__ import annotations

import pytest

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import Estimator, InvalidConfigNameError, Session


def test_seed_way_1_estimator_by_config_name(emulator: Emulator, emulator_env: dict[str, str]) -> None:
    name = sorted(emulator.store.names())[0]
    before = emulator.store.names()
    # The seed's snippet, with only the import changed:
    from modelarts_widgets.sdk import Estimator, Session

    session = Session()
    estimator = Estimator(modelarts_session=session, config_name=name)
    status = estimator.delete_job_configs()
    assert status == {"is_success": True}
    assert emulator.store.names() == before - {name}


def test_seed_way_2_object_from_create(emulator: Emulator, session: Session) -> None:
    estimator = Estimator(
        modelarts_session=session,
        train_instance_count=1,
        code_dir="/bucket/src/",
        boot_file="/bucket/src/boot.py",
        output_path="/bucket/out/",
        hyperparameters=[{"label": "learning_rate", "value": "0.01"}],
        train_instance_type=4,
    )
    job_config_instance = estimator.create_job_configs(
        config_name="my_job_config", config_desc="made here", inputs="/bucket/data/"
    )
    assert job_config_instance.config_name == "my_job_config"
    assert "my_job_config" in emulator.store.names()
    status = job_config_instance.delete_job_configs()
    assert status == {"is_success": True}
    assert "my_job_config" not in emulator.store.names()


def test_seed_way_3_object_list(
    emulator: Emulator, session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    job_config_instance_list = Estimator.get_job_configs_object_list(modelarts_session=session)
    assert len(job_config_instance_list) == 10  # the documented default page size
    assert job_config_instance_list[0].config_name in capsys.readouterr().out  # is_show=True prints
    name = job_config_instance_list[0].config_name
    status = job_config_instance_list[0].delete_job_configs()
    assert status == {"is_success": True}
    assert name not in emulator.store.names()


def test_failing_delete_returns_code_and_message(emulator: Emulator, session: Session) -> None:
    status = Estimator(modelarts_session=session, config_name="does-not-exist").delete_job_configs()
    assert status["is_success"] is False
    assert status["error_code"] == "ModelArts.0015"
    assert status["error_msg"]


def test_delete_without_permission_reports_the_iam_code(emulator: Emulator, session: Session) -> None:
    name = sorted(emulator.store.names())[0]
    emulator.faults.deny = ["delete"]
    status = Estimator(modelarts_session=session, config_name=name).delete_job_configs()
    assert status["error_code"] == "ModelArts.0108"
    assert name in emulator.store.names()


def test_list_details_and_update(emulator: Emulator, session: Session) -> None:
    page = Estimator.get_job_configs_list(session, per_page=5, page=2, sort_by="config_name", order="asc")
    assert page["is_success"] is True
    assert page["config_total_count"] == 30
    names = [c["config_name"] for c in page["configs"]]
    assert names == sorted(emulator.store.names())[5:10]
    info = Estimator(modelarts_session=session, config_name=names[0]).get_job_configs_info()
    assert info["is_success"] is True
    assert info["config_name"] == names[0]
    assert {"engine_name", "worker_server_num", "parameter", "train_url"} <= info.keys()
    result = Estimator(modelarts_session=session, config_name=names[0]).update_job_configs(config_desc="new")
    assert result == {"is_success": True}
    assert emulator.store.snapshot()[names[0]]["config_desc"] == "new"


def test_list_follows_every_change(emulator: Emulator, session: Session) -> None:
    def listed() -> dict[str, str]:
        page = Estimator.get_job_configs_list(session, per_page=100)
        return {c["config_name"]: c["config_desc"] for c in page["configs"]}

    first, second = sorted(listed())[:2]
    Estimator(modelarts_session=session, config_name=first).update_job_configs(config_desc="changed")
    Estimator(modelarts_session=session, config_name=second).delete_job_configs()
    Estimator(
        modelarts_session=session,
        code_dir="/b/src/",
        boot_file="/b/src/t.py",
        output_path="/b/out/",
        train_instance_count=1,
        train_instance_type="modelarts.vm.cpu.2u",
    ).create_job_configs(config_name="fresh-one", config_desc="new one", inputs="/b/data/")
    after = listed()
    assert after[first] == "changed"
    assert second not in after
    assert after["fresh-one"] == "new one"
    assert set(after) == emulator.store.names()


def test_search_is_passed_to_the_server(emulator: Emulator, session: Session) -> None:
    target = sorted(emulator.store.names())[3]
    page = Estimator.get_job_configs_list(session, per_page=100, search_content=target)
    assert target in [c["config_name"] for c in page["configs"]]
    assert all(target.lower() in c["config_name"].lower() for c in page["configs"])


def test_sortby_spelling_of_the_official_sdk_is_accepted(session: Session) -> None:
    page = Estimator.get_job_configs_list(session, per_page=3, sortBy="create_time", order="asc")
    times = [c["create_time"] for c in page["configs"]]
    assert times == sorted(times)


@pytest.mark.parametrize("name", ["", "has space", "semi;colon", "a" * 65, "中文", "../etc"])
def test_bad_names_raise_before_any_request(emulator: Emulator, session: Session, name: str) -> None:
    sent = len(emulator.requests)
    with pytest.raises(InvalidConfigNameError, match="Invalid config name"):
        Estimator(modelarts_session=session, config_name=name)
    assert len(emulator.requests) == sent


def test_bad_list_parameters_return_a_failure_without_a_request(emulator: Emulator, session: Session) -> None:
    sent = len(emulator.requests)
    result = Estimator.get_job_configs_list(session, per_page=5000)
    assert result["is_success"] is False
    assert "per_page" in result["error_msg"]
    assert len(emulator.requests) == sent
