"""Backups before deleting, and restoring from them: SDK, widget and magic, against the emulator."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from modelarts_widgets import JobConfigTable
from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import BulkDelete, Session, delete_job_configs
from modelarts_widgets.sdk.estimator import CREATE_FIELDS, DATA_FIELDS
from modelarts_widgets.sdk.trash import BackupFile, Trash, restore
from tests.conftest import wait_until

VARIED: list[dict[str, Any]] = [
    {
        "config_name": "restore-obs",
        "config_desc": "OBS input, two parameters",
        "worker_server_num": 2,
        "app_url": "/bucket/code/",
        "boot_file_url": "/bucket/code/train.py",
        "parameter": [{"label": "learning_rate", "value": "0.01"}, {"label": "batch_size", "value": "32"}],
        "spec_id": 4,
        "engine_id": 21,
        "data_url": "/bucket/data/",
        "train_url": "/bucket/out/",
        "log_url": "/bucket/log/",
    },
    {
        "config_name": "restore-dataset",
        "config_desc": "数据集输入",
        "worker_server_num": 1,
        "app_url": "/b/c/",
        "boot_file_url": "/b/c/main.py",
        "parameter": [{"label": "epochs", "value": 10}],
        "spec_id": 1,
        "engine_id": 3,
        "dataset_id": "38277e62-9e59-48f4-8d89-c8cf41622c24",
        "dataset_version_id": "2ff0d6ba-c480-45ae-be41-09a8369bfc90",
        "train_url": "/b/out/",
    },
    {
        "config_name": "restore-source",
        "config_desc": "data_source list",
        "worker_server_num": 4,
        "app_url": "/x/",
        "boot_file_url": "/x/run.py",
        "spec_id": 5,
        "engine_id": 22,
        "data_source": [
            {"type": "obs", "data_url": "/x/data/"},
            {"type": "dataset", "dataset_id": "d1", "dataset_version": "v2"},
        ],
        "train_url": "/x/out/",
        "log_url": "/x/log/",
    },
    {
        "config_name": "restore-image",
        "config_desc": "<b>custom image</b>",
        "worker_server_num": 1,
        "user_image_url": "swr.cn-north-4.myhuaweicloud.com/team/train:1.0",
        "user_command": "bash /home/work/run.sh --epochs 3",
        "data_url": "/img/data/",
        "train_url": "/img/out/",
        "spec_id": 7,
    },
    {
        "config_name": "restore-minimal",
        "config_desc": "",
        "worker_server_num": 1,
        "spec_id": 1,
        "app_url": "/m/",
        "boot_file_url": "/m/t.py",
        "data_url": "/m/d/",
        "train_url": "/m/o/",
        "flavor": {"code": "modelarts.vm.cpu.8u"},
    },
]
ACCEPTED = ("config_name", *CREATE_FIELDS, *DATA_FIELDS)


def _details(session: Session, name: str) -> dict[str, Any]:
    return session.call("GET", f"/training-job-configs/{name}")


@pytest.fixture
def varied(emulator: Emulator, session: Session) -> dict[str, dict[str, Any]]:
    for body in VARIED:
        session.call("POST", "/training-job-configs", json_body=body)
    return {body["config_name"]: _details(session, body["config_name"]) for body in VARIED}


def test_emulator_keeps_every_documented_field(varied: dict[str, dict[str, Any]]) -> None:
    for body in VARIED:
        details = varied[body["config_name"]]
        assert {k: details.get(k) for k in body} == body


def test_delete_then_restore_recreates_every_field_the_create_call_accepts(
    emulator: Emulator, session: Session, varied: dict[str, dict[str, Any]], isolated_env: Path
) -> None:
    names = sorted(varied)
    run = BulkDelete(session, names)
    results = run.run()
    assert all(r == {"is_success": True} for r in results.values())
    assert not set(names) & emulator.store.names()
    assert run.backup_path is not None
    assert run.backup_path.parent == isolated_env / ".modelarts_widgets" / "trash"
    backup = BackupFile.load(run.backup_path)
    assert backup.project_id == emulator.project_id
    assert backup.region == emulator.region
    assert sorted(backup.configs) == names

    restored = restore(session, run.backup_path)
    assert restored == {n: {"is_success": True} for n in names}
    for name, original in varied.items():
        again = _details(session, name)
        assert {k: again.get(k) for k in ACCEPTED} == {k: original.get(k) for k in ACCEPTED}, name


def test_restore_skips_only_the_names_that_exist_again(
    emulator: Emulator, session: Session, varied: dict[str, dict[str, Any]]
) -> None:
    names = sorted(varied)
    run = BulkDelete(session, names)
    run.run()
    again = {**VARIED[-1], "config_name": names[0], "config_desc": "new one"}
    session.call("POST", "/training-job-configs", json_body=again)
    results = restore(session, run.backup_path)  # type: ignore[arg-type]
    assert results[names[0]]["error_code"] == "Client.Exists"
    assert all(results[n] == {"is_success": True} for n in names[1:])
    assert emulator.store.snapshot()[names[0]]["config_desc"] == "new one"  # not overwritten


def test_a_config_whose_backup_fails_is_not_deleted(emulator: Emulator, session: Session) -> None:
    names = sorted(emulator.store.names())[:3]
    emulator.faults.deny = ["get"]
    results = delete_job_configs(session, names)
    assert all(r["error_code"] == "Client.BackupFailed" for r in results.values())
    assert all("Not deleted: its backup failed (ModelArts.0108" in r["error_msg"] for r in results.values())
    assert set(names) <= emulator.store.names()
    assert emulator.count("DELETE") == 0


def test_an_unwritable_trash_deletes_nothing(emulator: Emulator, session: Session, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the trash folder should be")
    names = sorted(emulator.store.names())[:2]
    results = delete_job_configs(session, names, backup=Trash(blocked))
    assert all("backup file could not be written" in r["error_msg"] for r in results.values())
    assert emulator.count("DELETE") == 0


def test_backups_can_be_turned_off(emulator: Emulator, session: Session, isolated_env: Path) -> None:
    names = sorted(emulator.store.names())[:2]
    run = BulkDelete(session, names, backup=False)
    assert all(r["is_success"] for r in run.run().values())
    assert run.backup_path is None
    assert not (isolated_env / ".modelarts_widgets").exists()
    assert emulator.count("GET") == 0


def test_backups_are_fetched_concurrently(emulator: Emulator, session: Session) -> None:
    emulator.hold("get")
    names = sorted(emulator.store.names())[:16]
    run = BulkDelete(session, names, concurrency=8).start()
    emulator.wait_held(8)  # 8 backup reads in flight at once, not one by one
    emulator.release()
    assert all(r["is_success"] for r in run.wait(20).values())


def test_stop_during_the_pipelined_backups_leaves_every_deleted_config_in_the_backup(
    emulator: Emulator, session: Session
) -> None:
    emulator.hold("delete")  # the first two DELETEs stay in flight, their backups written
    names = sorted(emulator.store.names())
    run = BulkDelete(session, names, concurrency=2).start()
    emulator.wait_held(2)
    run.cancel()
    emulator.release()
    results = run.wait(20)
    deleted = {n for n, r in results.items() if r["is_success"]}
    cancelled = {n for n, r in results.items() if r.get("error_code") == "Client.Cancelled"}
    assert deleted | cancelled == set(names)
    assert len(cancelled) > len(names) // 2
    assert emulator.count("DELETE") == len(deleted)
    assert emulator.store.names() == set(names) - deleted
    assert len(deleted) == 2
    if deleted:
        assert run.backup_path is not None
        assert deleted <= set(BackupFile.load(run.backup_path).configs)


def test_trash_folder_and_retention(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, session: Session
) -> None:
    monkeypatch.setenv("MODELARTS_TRASH_DIR", str(tmp_path / "bin"))
    monkeypatch.setenv("MODELARTS_TRASH_KEEP_FILES", "3")
    trash = Trash()
    assert trash.folder == tmp_path / "bin"
    paths = []
    for i in range(5):
        paths.append(trash.write(session, {f"c{i}": {"config_name": f"c{i}"}}))
    assert trash.files() == sorted(paths, reverse=True)[:3]
    old = trash.files()[-1]
    ancient = time.time() - 40 * 86_400
    os.utime(old, (ancient, ancient))
    trash.prune()
    assert old not in trash.files()
    # The newest file survives any setting: it is the last run's.
    latest = trash.latest()
    os.utime(latest, (ancient, ancient))
    Trash(tmp_path / "bin", keep_days=0, keep_files=0).prune()
    assert trash.files() == [latest]


def test_widget_undo_restores_what_the_last_delete_removed(emulator: Emulator, session: Session) -> None:
    widget = JobConfigTable(session=session)
    widget.wait_loaded(10)
    before = emulator.store.snapshot()
    names = sorted(before)[:3]
    widget.selected = names
    widget.delete_selected()
    assert widget.undo_count == 3
    assert not set(names) & emulator.store.names()
    widget._handle_custom_msg({"type": "undo"}, [])
    wait_until(lambda: not widget.running and widget.undo_count == 0)
    assert widget.results == {n: {"is_success": True} for n in names}
    assert {widget._statuses[n][0] for n in names} == {"restored"}
    after = emulator.store.snapshot()
    for name in names:
        assert {k: after[name].get(k) for k in ACCEPTED if before[name].get(k)} == {
            k: before[name].get(k) for k in ACCEPTED if before[name].get(k)
        }
    widget.selected = names  # restored configs can be chosen again
    assert widget.selected == names


def test_widget_trash_lists_backups_and_restores_chosen_configs(emulator: Emulator, session: Session) -> None:
    widget = JobConfigTable(session=session)
    widget.wait_loaded(10)
    names = sorted(emulator.store.names())[:4]
    widget.selected = names
    widget.delete_selected()
    widget._handle_custom_msg({"type": "trash"}, [])  # listed off the comm thread
    wait_until(lambda: len(widget.trash_files) == 1 and widget.trash_files[0]["names"] is not None)
    entry = widget.trash_files[0]
    assert entry["names"] == names
    widget._handle_custom_msg(
        {"type": "restore", "file": entry["file"], "names": names[:2], "token": "r1"}, []
    )
    wait_until(lambda: not widget.running and len(widget.results) == 2)
    assert set(names[:2]) <= emulator.store.names()
    assert not set(names[2:]) & emulator.store.names()
    with pytest.raises(ValueError, match="No backup file"):
        widget.restore_from_trash("../../etc/passwd")


def test_widget_without_backups_has_no_undo(emulator: Emulator, session: Session) -> None:
    widget = JobConfigTable(session=session, backup=False)
    widget.wait_loaded(10)
    assert widget.backups is False
    widget.selected = sorted(emulator.store.names())[:1]
    widget.delete_selected()
    assert widget.undo_count == 0
    assert widget.undo() == {}


@pytest.fixture
def shell(emulator_env: dict[str, str]) -> InteractiveShell:
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "modelarts_widgets")
    return ip


def test_magic_dry_run_says_where_the_backup_will_go(
    emulator: Emulator, shell: InteractiveShell, isolated_env: Path
) -> None:
    name = sorted(emulator.store.names())[0]
    report = shell.run_line_magic("modelarts_delete", name)
    assert f"would be saved in {isolated_env / '.modelarts_widgets' / 'trash'}" in repr(report)


def test_magic_delete_then_restore_latest(emulator: Emulator, shell: InteractiveShell) -> None:
    names = sorted(emulator.store.names())[:3]
    report = shell.run_line_magic("modelarts_delete", " ".join(names) + " --yes")
    assert "Backup: " in repr(report)
    assert Path(report.backup).is_file()
    assert BackupFile.load(report.backup).configs.keys() == set(names)
    one = shell.run_line_magic("modelarts_delete", f"--restore latest {names[0]}")
    assert one.restored == [names[0]]
    rest = shell.run_line_magic("modelarts_delete", "--restore latest")
    assert rest.restored == names[1:]
    assert "1 skipped (a config of that name exists again)" in repr(rest)
    assert set(names) <= emulator.store.names()


def test_magic_no_backup_and_bad_restore_arguments(emulator: Emulator, shell: InteractiveShell) -> None:
    name = sorted(emulator.store.names())[0]
    report = shell.run_line_magic("modelarts_delete", f"{name} --yes --no-backup")
    assert "Backups were off" in repr(report)
    with pytest.raises(UsageError, match="No backup files"):
        shell.run_line_magic("modelarts_delete", "--restore latest")
    with pytest.raises(UsageError, match="not a readable backup file"):
        shell.run_line_magic("modelarts_delete", "--restore /nonexistent.json")
    with pytest.raises(UsageError, match="--restore takes only config names"):
        shell.run_line_magic("modelarts_delete", "--restore latest --yes")
    # Options of a delete that a restore would silently ignore are refused the same way.
    for option in ("--no-backup", "--concurrency 2"):
        with pytest.raises(UsageError, match="--restore takes only config names"):
            shell.run_line_magic("modelarts_delete", f"--restore latest {option}")
    assert emulator.count("POST") == 0
