"""The trash as a user and an attacker meet it: private files, tied to a project, odd files,
pipelined durable backups, and restore as a bulk job under faults. All against the emulator."""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from modelarts_widgets import JobConfigTable
from modelarts_widgets.emulator import DEFAULT_AK, DEFAULT_SK, Emulator
from modelarts_widgets.emulator.faults import FAULT_KINDS, MALFORMED_KINDS
from modelarts_widgets.sdk import BulkDelete, Session
from modelarts_widgets.sdk import trash as trash_module
from modelarts_widgets.sdk.estimator import delete_config
from modelarts_widgets.sdk.restore import FINAL_STATES, BulkRestore
from modelarts_widgets.sdk.trash import (
    FORMAT_LINES,
    BackupFile,
    BackupInfo,
    Trash,
    UnsafeTrashError,
    create_body,
    restore,
)
from tests.test_widget import wait_until

FIXTURES = Path(__file__).parent / "fixtures"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
OTHER_PROJECT = "b" * 32


def _same(now: dict[str, Any], saved: dict[str, Any]) -> bool:
    """The config holds every field its backup's create call sends."""
    wanted = create_body(saved)
    return {k: create_body(now).get(k) for k in wanted} == wanted


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def other() -> Iterator[Emulator]:
    """A second emulator: another project in another region."""
    with Emulator(configs=5, seed=11, project_id=OTHER_PROJECT, region="cn-east-3") as em:
        yield em


@pytest.fixture
def shell(emulator_env: dict[str, str]) -> InteractiveShell:
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "modelarts_widgets")
    return ip


# -- 1. private by construction ---------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_backups_are_private_whatever_the_umask(
    emulator: Emulator, session: Session, isolated_env: Path, umask: int
) -> None:
    names = sorted(emulator.store.names())[:3]
    old = os.umask(umask)
    try:
        run = BulkDelete(session, names)
        assert all(r["is_success"] for r in run.run().values())
    finally:
        os.umask(old)
    assert run.backup_path is not None
    assert _mode(run.backup_path) == 0o600
    assert _mode(run.backup_path.parent) == 0o700
    assert _mode(isolated_env / ".modelarts_widgets") == 0o700
    text = run.backup_path.read_text()
    assert DEFAULT_AK not in text
    assert DEFAULT_SK not in text


def test_an_open_trash_folder_is_tightened(emulator: Emulator, session: Session, tmp_path: Path) -> None:
    folder = tmp_path / "shared-trash"
    folder.mkdir()
    folder.chmod(0o777)
    path = Trash(folder).write(session, {"a": {"config_name": "a"}})
    assert _mode(folder) == 0o700
    assert _mode(path) == 0o600


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs chown (root)")
def test_a_trash_folder_of_another_user_is_refused_and_nothing_is_deleted(
    emulator: Emulator, session: Session, tmp_path: Path
) -> None:
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o700)
    os.chown(folder, 4321, 4321)
    names = sorted(emulator.store.names())[:2]
    with pytest.raises(UnsafeTrashError, match="belongs to another user"):
        Trash(folder).ensure_private()
    results = BulkDelete(session, names, backup=Trash(folder)).run()
    assert all("belongs to another user" in r["error_msg"] for r in results.values())
    assert emulator.count("DELETE") == 0
    assert list(folder.iterdir()) == []


def test_the_header_records_project_region_host_and_version_and_no_secret(
    emulator: Emulator, session: Session
) -> None:
    names = sorted(emulator.store.names())[:2]
    run = BulkDelete(session, names)
    run.run()
    assert run.backup_path is not None
    assert run.backup_path.suffix == ".jsonl"
    lines = run.backup_path.read_text().splitlines()
    header = json.loads(lines[0])
    assert header["format"] == FORMAT_LINES
    assert header["version"] == 2
    assert header["project_id"] == emulator.project_id
    assert header["region"] == emulator.region
    assert header["endpoint"] == session.endpoint.split("//", 1)[1].rstrip("/")
    assert header["created_at"].endswith("+00:00")
    assert "tool_version" in header
    assert {json.loads(line)["config_name"] for line in lines[1:]} == set(names)


# -- 2. tied to its project ---------------------------------------------------------------------


def _backup_of_other_project(other: Emulator, trash: Trash) -> tuple[Path, list[str]]:
    other_session = Session(environ=other.env(), backoff_factor=0.01)
    names = sorted(other.store.names())[:2]
    run = BulkDelete(other_session, names, backup=trash)
    run.run()
    assert run.backup_path is not None
    return run.backup_path, names


def test_latest_is_this_projects_newest_and_another_projects_backup_is_refused(
    emulator: Emulator, session: Session, other: Emulator, shell: InteractiveShell
) -> None:
    trash = Trash()
    mine = sorted(emulator.store.names())[0]
    report = shell.run_line_magic("modelarts_delete", f"{mine} --yes")
    theirs, their_names = _backup_of_other_project(other, trash)  # newer than ours
    assert trash.latest() == theirs
    assert trash.latest(session) == Path(report.backup)

    restored = shell.run_line_magic("modelarts_delete", "--restore latest")
    assert restored.restored == [mine]
    assert not set(their_names) & emulator.store.names()  # B's configs were not created in A

    with pytest.raises(ValueError, match=f"made for project {OTHER_PROJECT} \\(cn-east-3\\)"):
        restore(session, theirs)
    with pytest.raises(UsageError, match="--allow-other-project"):
        shell.run_line_magic("modelarts_delete", f"--restore {theirs}")
    assert not set(their_names) & emulator.store.names()
    requests_before = len(emulator.requests)
    with pytest.raises(ValueError):
        BulkRestore(session, theirs)
    assert len(emulator.requests) == requests_before  # refused before anything was sent

    forced = shell.run_line_magic("modelarts_delete", f"--restore {theirs} --allow-other-project")
    assert forced.restored == their_names
    assert set(their_names) <= emulator.store.names()


def test_allow_other_project_in_the_sdk(
    emulator: Emulator, session: Session, other: Emulator, shell: InteractiveShell
) -> None:
    theirs, names = _backup_of_other_project(other, Trash())
    results = restore(session, theirs, allow_other_project=True)
    assert results == {n: {"is_success": True} for n in names}
    with pytest.raises(UsageError, match="goes with --restore"):
        shell.run_line_magic("modelarts_delete", "x --allow-other-project")


def test_widget_trash_shows_this_project_and_refuses_another_unless_allowed(
    emulator: Emulator, session: Session, other: Emulator
) -> None:
    theirs, their_names = _backup_of_other_project(other, Trash())
    widget = JobConfigTable(session=session)
    widget.wait_loaded(10)
    assert widget.list_trash() == []
    assert widget.trash_scope == f"project {emulator.project_id} ({emulator.region})"
    files = widget.list_trash(all_projects=True)
    assert [f["file"] for f in files] == [theirs.name]
    assert files[0]["other"] is True
    assert files[0]["project"] == OTHER_PROJECT

    widget._handle_custom_msg(
        {"type": "restore", "file": theirs.name, "names": their_names, "token": "t1"}, []
    )
    wait_until(lambda: widget.error.get("code") == "Client.OtherProject")
    assert OTHER_PROJECT in widget.error["message"]
    assert not widget.running
    assert not set(their_names) & emulator.store.names()

    widget._handle_custom_msg(
        {
            "type": "restore",
            "file": theirs.name,
            "names": their_names,
            "token": "t2",
            "allow_other_project": True,
        },
        [],
    )
    wait_until(lambda: not widget.running and len(widget.results) == 2)
    assert set(their_names) <= emulator.store.names()
    assert widget.error == {}


# -- 3. robust to odd files ---------------------------------------------------------------------


def _v1(folder: Path, configs: dict[str, Any], emulator: Emulator, name: str = "backup-odd.json") -> Path:
    data = {
        "format": "modelarts-widgets/config-backup@1",
        "created_at": "2026-11-30T10:00:00+00:00",
        "project_id": emulator.project_id,
        "region": emulator.region,
        "endpoint": "http://127.0.0.1:1",
        "configs": configs,
    }
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / name
    path.write_text(json.dumps(data, indent=1))
    return path


# What a details read returns holds the create call's mandatory fields.
_REQUIRED = {"worker_server_num": 1, "spec_id": 1, "engine_id": 1}

ODD_ENTRIES: dict[str, Any] = {
    "good-one": {
        "config_name": "good-one",
        "app_url": "/a/",
        "boot_file_url": "/a/t.py",
        "data_url": "/d/",
        **_REQUIRED,
    },
    "a-list": [{"config_name": "a-list"}],
    "wrong-key": {"config_name": "someone-else", "app_url": "/a/"},
    "bad name!": {"config_name": "bad name!"},
    "a-string": "not a config",
    "good-two": {
        "config_name": "good-two",
        "user_image_url": "swr/x:1",
        "user_command": "python t.py",
        "data_url": "/d/",
        **_REQUIRED,
    },
}


def test_odd_entries_fail_their_name_and_the_others_are_restored(
    emulator: Emulator, session: Session, tmp_path: Path
) -> None:
    path = _v1(tmp_path / "t", ODD_ENTRIES, emulator)
    results = restore(session, path)  # never raises for a bad entry
    assert set(results) == set(ODD_ENTRIES)
    assert results["good-one"] == {"is_success": True}
    assert results["good-two"] == {"is_success": True}
    for name in ("a-list", "wrong-key", "bad name!", "a-string"):
        assert results[name]["error_code"] == "Client.BadBackupEntry", name
    assert "JSON list, not a config" in results["a-list"]["error_msg"]
    assert "'someone-else'" in results["wrong-key"]["error_msg"]
    assert "not a valid config name" in results["bad name!"]["error_msg"]
    assert {"good-one", "good-two"} <= emulator.store.names()
    assert "someone-else" not in emulator.store.names()


def test_odd_lines_of_the_new_format_fail_their_name(emulator: Emulator, session: Session) -> None:
    trash = Trash()
    with trash.create(session) as writer:
        writer.append(
            "fine",
            {
                "config_name": "fine",
                "app_url": "/a/",
                "boot_file_url": "/a/t.py",
                "data_url": "/d/",
                **_REQUIRED,
            },
        )
        writer.append("mismatch", {"config_name": "other"})
    with open(writer.path, "a", encoding="utf-8") as stream:
        stream.write(json.dumps({"config_name": "listy", "details": [1, 2]}) + "\n")
        stream.write('{"config_name": "cut-off", "details": {"config_na')  # a torn last line
    results = restore(session, writer.path)
    assert results["fine"] == {"is_success": True}
    assert results["mismatch"]["error_code"] == "Client.BadBackupEntry"
    assert results["listy"]["error_code"] == "Client.BadBackupEntry"
    assert any(k.startswith("line ") for k in results)


def test_widget_restore_of_an_odd_file_leaves_no_row_restoring(
    emulator: Emulator, session: Session, isolated_env: Path
) -> None:
    folder = isolated_env / ".modelarts_widgets" / "trash"
    path = _v1(folder, ODD_ENTRIES, emulator)
    widget = JobConfigTable(session=session)
    widget.wait_loaded(10)
    results = widget.restore_from_trash(path.name, wait=True)
    assert set(results) == set(ODD_ENTRIES)
    assert not any(s[0] in ("restoring", "queued") for s in widget._statuses.values())
    assert results["good-one"]["is_success"]
    assert not results["a-list"]["is_success"]


def test_a_file_over_the_cap_is_refused_before_it_is_read(
    emulator: Emulator, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _v1(tmp_path / "t", {"good-one": ODD_ENTRIES["good-one"]}, emulator)
    monkeypatch.setattr(trash_module, "MAX_BACKUP_BYTES", 100)
    with pytest.raises(ValueError, match=r"over the 0 MB|it was not read"):
        restore(session, path)
    assert emulator.count("POST") == 0


def test_listing_reads_headers_skips_symlinks_and_odd_files(
    emulator: Emulator, session: Session, tmp_path: Path
) -> None:
    trash = Trash(tmp_path / "t")
    good = trash.write(session, {"a": {"config_name": "a"}})
    # A header that is sound followed by a body that is not: listing does not read the body.
    headed = trash.folder / "backup-headed.jsonl"
    headed.write_bytes(good.read_bytes().splitlines(keepends=True)[0] + b"\x00not json at all" * 1000)
    outside = tmp_path / "elsewhere.jsonl"
    shutil.copy(good, outside)
    (trash.folder / "backup-link.jsonl").symlink_to(outside)
    (trash.folder / "backup-dangling.jsonl").symlink_to(tmp_path / "missing.jsonl")
    (trash.folder / "backup-dir.jsonl").mkdir()
    (trash.folder / "backup-text.json").write_text("hello")
    (trash.folder / "backup-array.json").write_text("[1, 2]")
    (trash.folder / "notes.txt").write_text("not ours")
    os.mkfifo(trash.folder / "backup-fifo.jsonl")  # opening it for reading would block
    assert sorted(p.name for p in trash.files()) == sorted([good.name, headed.name])
    with pytest.raises(ValueError):
        BackupFile.load(trash.folder / "backup-link.jsonl")  # never read through a symlink
    with pytest.raises(ValueError, match="not a regular file"):
        BackupFile.load(trash.folder / "backup-fifo.jsonl")
    # A dangling symlink never blocks a delete's backup, and pruning leaves links alone.
    names = sorted(emulator.store.names())[:2]
    results = BulkDelete(session, names, backup=trash).run()
    assert all(r["is_success"] for r in results.values())
    Trash(trash.folder, keep_files=1).prune()
    assert (trash.folder / "backup-dangling.jsonl").is_symlink()
    assert outside.exists()


def test_latest_is_by_recorded_time_not_file_name(
    emulator: Emulator, session: Session, tmp_path: Path
) -> None:
    trash = Trash(tmp_path / "t")
    newer = trash.write(session, {"a": {"config_name": "a"}})
    older = _v1(trash.folder, {"b": {"config_name": "b"}}, emulator, name="backup-99999999T999999.json")
    assert sorted(p.name for p in [newer, older])[-1] == older.name  # it sorts last by name
    assert trash.latest(session) == newer
    assert BackupInfo.read(older).created_at == "2026-11-30T10:00:00+00:00"


def test_a_first_format_file_still_restores(emulator: Emulator, session: Session, isolated_env: Path) -> None:
    fixture = next(FIXTURES.glob("backup-*.json"))
    folder = isolated_env / ".modelarts_widgets" / "trash"
    folder.mkdir(parents=True, mode=0o700)
    copy = folder / fixture.name
    shutil.copy(fixture, copy)
    info = BackupInfo.read(copy)
    assert (info.version, info.project_id, info.endpoint) == (1, emulator.project_id, "127.0.0.1:8443")
    assert Trash().latest(session) == copy
    results = restore(session, "latest")
    assert results == {"v1-obs": {"is_success": True}, "v1-image": {"is_success": True}}
    saved = json.loads(fixture.read_text())["configs"]
    for name, details in saved.items():
        now = create_body(session.call("GET", f"/training-job-configs/{name}"))
        assert {k: now.get(k) for k in create_body(details)} == create_body(details)


# -- pipelined, durable backups -------------------------------------------------------------------


def test_no_delete_is_sent_before_its_backup_line_is_on_disk_and_deletes_start_early(
    emulator: Emulator, session: Session
) -> None:
    emulator.faults.latency = 0.02
    names = sorted(emulator.store.names())
    violations: list[str] = []
    paths: list[Path] = []

    def checked_delete(s: Session, name: str) -> Any:
        path = paths[0] if paths else None
        if path is None or name not in BackupFile.load(path).configs:
            violations.append(name)
        return delete_config(s, name)

    run = BulkDelete(session, names, concurrency=2, delete=checked_delete)
    original_open = run._open_backup

    def remember(pending: list[str]) -> Any:
        writer = original_open(pending)
        if writer is not None:
            paths.append(writer.path)
        return writer

    run._open_backup = remember  # type: ignore[method-assign]
    assert all(r["is_success"] for r in run.run().values())
    assert violations == []
    methods = [m for m, p, _ in emulator.requests if "/training-job-configs/" in p]
    first_delete = methods.index("DELETE")
    last_get = len(methods) - 1 - methods[::-1].index("GET")
    assert first_delete < last_get  # pipelined: deletes began while reads were still going


# -- 4. restore is a bulk job ----------------------------------------------------------------------


def test_bulk_restore_reports_each_name_once_and_can_be_stopped(emulator: Emulator, session: Session) -> None:
    names = sorted(emulator.store.names())
    run = BulkDelete(session, names)
    run.run()
    emulator.faults.latency = 0.1
    seen: Counter[str] = Counter()
    job = BulkRestore(
        session,
        "latest",
        concurrency=2,
        on_status=lambda n, s, r: seen.update([n]) if s in FINAL_STATES else None,
    ).start()
    wait_until(lambda: len(job.results) >= 2)
    job.cancel()
    results = job.wait(20)
    assert set(results) == set(names)
    assert all(seen[n] == 1 for n in names)
    restored = {n for n, r in results.items() if r["is_success"]}
    cancelled = {n for n, r in results.items() if r.get("error_code") == "Client.Cancelled"}
    assert restored | cancelled == set(names)
    assert cancelled
    assert emulator.store.names() & set(names) == restored


def test_a_lost_create_answer_is_checked_not_resent(emulator: Emulator, session: Session) -> None:
    names = sorted(emulator.store.names())[:2]
    run = BulkDelete(session, names)
    run.run()
    emulator.faults.drop_after_names = [names[0]]  # created, then the connection drops
    emulator.faults.fail_names = {}
    results = restore(session, run.backup_path)  # type: ignore[arg-type]
    assert results == {n: {"is_success": True} for n in names}
    assert emulator.count("POST") == 2  # one each: the lost answer was checked, not resent
    assert emulator.count("GET", names[0]) == 3  # the backup read, exists?, and the check after
    assert set(names) <= emulator.store.names()


SOAK_MIXES = {
    # The example: 30% of requests answered 5xx or with the connection dropped.
    "5xx-and-lost-30pct": (0.30, ["500", "503", "drop", "drop_after"]),
    # The delete soak's mix: 10% of every fault kind, garbled answers included.
    "delete-soak-mix-10pct": (0.10, [*FAULT_KINDS, *MALFORMED_KINDS]),
}


@pytest.mark.parametrize("mix", sorted(SOAK_MIXES))
def test_restore_soak_under_faults_every_name_ends_with_one_true_status(
    emulator: Emulator, session: Session, mix: str
) -> None:
    emulator.store.replace(
        [
            {
                "config_name": f"soak-{i:04d}",
                "config_desc": f"config {i}",
                "app_url": "/code/",
                "boot_file_url": "/code/train.py",
                "data_url": f"/data/{i}/",
                "train_url": "/out/",
                "parameter": [{"label": "lr", "value": str(i)}],
                "create_time": i,
                **_REQUIRED,
            }
            for i in range(300)
        ]
    )
    names = sorted(emulator.store.names())
    run = BulkDelete(session, names)
    assert all(r["is_success"] for r in run.run().values())
    saved = BackupFile.load(run.backup_path).configs  # type: ignore[arg-type]
    rate, kinds = SOAK_MIXES[mix]
    emulator.injector.update({"error_rate": rate, "kinds": kinds, "retry_after": 0.1, "seed": 13})
    started = time.monotonic()
    finals: Counter[str] = Counter()
    requests_before = len(emulator.requests)
    results = BulkRestore(
        session,
        run.backup_path,  # type: ignore[arg-type]
        on_status=lambda n, s, r: finals.update([n]) if s in FINAL_STATES else None,
    ).run()
    elapsed = time.monotonic() - started
    injected = dict(emulator.injector.injected)
    emulator.injector.update({"error_rate": 0.0})
    store = emulator.store.snapshot()
    restored = {n for n, r in results.items() if r["is_success"]}
    failed = {n: r for n, r in results.items() if not r["is_success"]}
    mismatches = [
        n
        for n in names
        if ((n in restored) != (n in store) and not (n in failed and "unknown" in failed[n]["error_msg"]))
        or (n in store and not _same(store[n], saved[n]))
    ]
    summary = {
        "mix": mix,
        "configs": len(names),
        "faults_injected": injected,
        "restored": len(restored),
        "failed": len(failed),
        "failure_codes": dict(Counter(r["error_code"] for r in failed.values())),
        "requests": len(emulator.requests) - requests_before,
        "posts": emulator.count("POST"),
        "store_mismatches": len(mismatches),
        "names_without_one_final_status": sum(1 for n in names if finals[n] != 1),
        "seconds": round(elapsed, 2),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"restore-soak-{mix}.json").write_text(json.dumps(summary, indent=2))
    assert set(results) == set(names)
    assert summary["names_without_one_final_status"] == 0, summary
    assert mismatches == [], summary
    assert len(restored) >= 0.95 * len(names), summary
