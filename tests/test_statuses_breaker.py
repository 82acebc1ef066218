"""Issue 12, found while trying to break it: a 404 that is not about the config, a name the
server's search left out, a listing that names a config twice. Real HTTP against the emulator."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.emulator.store import ApiFailure
from modelarts_widgets.sdk import Session, delete_job_configs
from modelarts_widgets.sdk.bulk import list_all_configs

NOW_MS = int(time.time() * 1000)
DAY_MS = 86_400_000
GATEWAY_404 = [404, "APIGW.0101", "The API does not exist or has not been published"]


def _config(name: str, desc: str = "") -> dict[str, Any]:
    return {"config_name": name, "config_desc": desc, "create_time": NOW_MS - 90 * DAY_MS}


@pytest.fixture
def ip(emulator_env: dict[str, str]) -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "modelarts_widgets")
    yield shell
    shell.user_ns.pop("r", None)


def magic(ip: InteractiveShell, line: str) -> Any:
    return ip.run_line_magic("modelarts_delete", line)


# -- a 404 that says nothing about the config is not "already gone" ---------------------------------


@pytest.mark.parametrize(
    "answer",
    [GATEWAY_404, [404, "", "Not Found"]],  # the gateway's "no such API"; a 404 without error details
    ids=["gateway", "no-details"],
)
@pytest.mark.parametrize("backup", [True, False])
def test_a_404_not_from_the_configs_api_is_a_failure(
    emulator: Emulator, session: Session, answer: list[Any], backup: bool
) -> None:
    emulator.store.replace([_config("a"), _config("b")])
    emulator.faults.fail_names = {"a": answer}
    results = delete_job_configs(session, ["a", "b"], backup=backup)
    assert emulator.store.names() == {"a"}
    assert results["b"] == {"is_success": True}
    assert results["a"]["is_success"] is False, results["a"]
    assert "already_gone" not in results["a"]


def test_the_magic_does_not_count_a_gateway_404_as_already_gone(
    emulator: Emulator, ip: InteractiveShell
) -> None:
    emulator.store.replace([_config("a"), _config("b")])
    emulator.faults.fail_names = {"a": GATEWAY_404}
    report = magic(ip, "a b --yes --no-backup")
    assert report.buckets() == {"a": "failed", "b": "deleted"}
    assert repr(report).splitlines()[0] == "Deleted 1 of 2, 1 failed."


def test_a_gateway_404_on_the_check_after_a_5xx_is_not_deleted(
    emulator: Emulator, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.store.replace([_config("a")])
    emulator.faults.fail_names = {"a": [500, "ModelArts.0010", "Internal error"]}

    def gateway_get(config: str, config_type: str | None = None) -> dict[str, Any]:
        raise ApiFailure(*GATEWAY_404)

    monkeypatch.setattr(emulator.store, "get", gateway_get)
    results = delete_job_configs(session, ["a"], backup=False)
    assert emulator.store.names() == {"a"}
    assert results["a"]["is_success"] is False, results["a"]
    assert "unknown" in results["a"]["error_msg"]


# -- a name the server's search left out is not "not found" ----------------------------------------


def test_a_named_config_outside_the_search_is_not_called_not_found(
    emulator: Emulator, ip: InteractiveShell
) -> None:
    emulator.store.replace([_config("x1", desc="hello"), _config("y1", desc="other")])
    for line in ("y1 --search hello", "y1 --search hello --yes"):
        report = magic(ip, line)
        assert "y1" not in report.not_found, line
        assert report.buckets().get("y1") != "not found", line
        assert "no config of this name" not in repr(report), line
        assert "y1" in emulator.store.names()
    # A name that really is absent is still reported as not found, with --search too.
    report = magic(ip, "nope-1 --search hello")
    assert report.buckets() == {"nope-1": "not found"}


# -- a listing that names a config twice --------------------------------------------------------------


def _listing_repeats_first(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    real_list = emulator.store.list

    def repeating(params: Mapping[str, str]) -> bytes:
        body = json.loads(real_list(params))
        body["configs"] = body["configs"] + body["configs"][:1]
        return json.dumps(body).encode()

    monkeypatch.setattr(emulator.store, "list", repeating)


def test_a_config_listed_twice_is_listed_once(
    emulator: Emulator, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.store.replace([_config("x1"), _config("y1")])
    _listing_repeats_first(emulator, monkeypatch)
    assert sorted(c["config_name"] for c in list_all_configs(session)) == ["x1", "y1"]


def test_the_magic_ends_when_the_listing_names_a_config_twice(
    emulator: Emulator, ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.store.replace([_config("x1"), _config("y1")])
    _listing_repeats_first(emulator, monkeypatch)
    box: dict[str, Any] = {}

    def run() -> None:
        box["r"] = magic(ip, "--match * --yes --no-backup")

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(15)
    assert not worker.is_alive(), "the magic never returned"
    report = box["r"]
    assert report.buckets() == {"x1": "deleted", "y1": "deleted"}
    assert repr(report).splitlines()[0] == "Deleted 2 of 2."


# -- names after "--" (a valid name may begin with '-') ------------------------------------------------


def test_names_after_a_double_dash_are_names(emulator: Emulator, ip: InteractiveShell) -> None:
    emulator.store.replace([_config("-tmp"), _config("--old"), _config("b")])
    report = magic(ip, "-- -tmp")
    assert [c["config_name"] for c in report.planned] == ["-tmp"]
    report = magic(ip, "b --match '*' -- --old -tmp")
    assert sorted(c["config_name"] for c in report.planned) == ["--old", "-tmp", "b"]
    report = magic(ip, "--yes --no-backup -- -tmp")
    assert report.buckets() == {"-tmp": "deleted"}
    assert emulator.store.names() == {"--old", "b"}


# -- the undo hint promises only what the backup file can undo ----------------------------------------


def test_no_undo_hint_when_the_backup_holds_none_of_the_removed_names(
    emulator: Emulator, ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.store.replace([_config("a"), _config("b")])
    emulator.faults.fail_names = {"a": [403, "ModelArts.0108", "no"]}  # backed up, then refused
    real_get = emulator.store.get

    def get(config: str, config_type: str | None = None) -> dict[str, Any]:
        if config == "b":  # removed elsewhere just before its backup read
            emulator.store.delete("b")
        return real_get(config, config_type)

    monkeypatch.setattr(emulator.store, "get", get)
    report = magic(ip, "a b --yes")
    assert report.buckets() == {"a": "failed", "b": "already gone"}
    assert report.backup  # the file holds a, which is still there
    text = repr(report)
    assert "undo with" not in text
    assert "--restore" not in text
    assert f"{report.backup} holds only configs still there" in text
    assert "no backup file was written" not in text


# -- "Retry failed" repeats a delete, never turns a failed restore into a delete ----------------------


@pytest.mark.parametrize("via", ["page", "python"])
def test_retry_after_a_failed_undo_deletes_nothing(
    emulator: Emulator, session: Session, tmp_path: Path, via: str
) -> None:
    from modelarts_widgets import JobConfigTable
    from modelarts_widgets.sdk.trash import Trash

    from .conftest import Recorder, front, wait_until

    emulator.store.replace([_config("a"), _config("b")])
    table = JobConfigTable(session=session, backup=Trash(tmp_path / "trash"))
    table.wait_loaded(10)
    table.selected = ["a"]
    assert table.delete_selected() == {"a": {"is_success": True}}
    emulator.faults.deny = ["create"]  # the Undo fails: its create is refused
    table.undo(wait=True)
    assert table.results["a"]["is_success"] is False
    emulator.faults.deny = []
    emulator.store.replace([_config("a", desc="someone else's new a"), _config("b")])
    deletes = emulator.count("DELETE")
    recorder = Recorder(table)
    if via == "page":
        front(table, {"type": "retry"})  # "Retry failed" after the failed Undo (our page hides it)
        wait_until(lambda: any(m.get("rejected") for m in recorder.messages))
    else:
        assert table.retry_failed(wait=True) == {}
    time.sleep(0.3)
    assert not table.running
    assert emulator.count("DELETE") == deletes
    assert emulator.store.names() == {"a", "b"}


# -- log lines stay on their line -----------------------------------------------------------------------


def test_restore_log_lines_escape_names_from_a_backup_file(
    emulator: Emulator, session: Session, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from modelarts_widgets.sdk.restore import BulkRestore
    from modelarts_widgets.sdk.trash import Trash

    emulator.store.replace([_config("a")])
    trash = Trash(tmp_path / "trash")
    run_backup = delete_job_configs(session, ["a"], backup=trash)
    assert run_backup == {"a": {"is_success": True}}
    path = trash.headers()[0].path
    hostile = "x\n  restored    prod-main\x1b[2K"
    with path.open("a") as file:
        file.write(json.dumps({"config_name": hostile, "details": {"config_name": hostile}}) + "\n")

    def broken_callback(name: str, state: str, result: Any) -> None:
        raise RuntimeError("callback bug")

    job = BulkRestore(session, path, on_status=broken_callback, trash=trash)
    results = job.run()
    assert results[hostile]["is_success"] is False
    for record in caplog.records:
        assert "\n" not in record.getMessage(), record.getMessage()
        assert "\x1b" not in record.getMessage()
