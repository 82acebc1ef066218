"""The trash is robust to odd files: odd entries and lines fail their name only, files over the
cap, symlinks and FIFOs are never read, `latest` is by recorded time, the first format still
restores, and bad retention settings are named. All against the emulator."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from modelarts_widgets import JobConfigTable
from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import BulkDelete, Session
from modelarts_widgets.sdk import trash as trash_module
from modelarts_widgets.sdk.trash import (
    FORMAT_LINES,
    BackupFile,
    BackupInfo,
    Trash,
    create_body,
    restore,
)
from tests.helpers_trash import _REQUIRED

FIXTURES = Path(__file__).parent / "fixtures"


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


# -- found by the breaker ----------------------------------------------------------------------


def test_trash_view_restore_of_every_listed_name_restores_the_sound_ones(
    emulator: Emulator, session: Session, isolated_env: Path
) -> None:
    """The Trash view lists a file's unsound entries too; ticking them all must not refuse the rest."""
    folder = isolated_env / ".modelarts_widgets" / "trash"
    names = sorted(emulator.store.names())[:3]
    run = BulkDelete(session, names, backup=Trash(folder))
    assert all(r["is_success"] for r in run.run().values())
    assert run.backup_path is not None
    with open(run.backup_path, "a", encoding="utf-8") as stream:
        stream.write(json.dumps({"config_name": "bad name!", "details": {"config_name": "bad name!"}}) + "\n")
        stream.write('{"config_name": "cut-off", "details": {"config_na')
    widget = JobConfigTable(session=session)
    widget.wait_loaded(10)
    listed = widget.list_trash()[0]
    assert listed["file"] == run.backup_path.name
    assert "bad name!" in listed["names"]
    results = widget.restore_from_trash(listed["file"], listed["names"], wait=True)
    assert set(results) == set(listed["names"])
    assert all(results[n]["is_success"] for n in names), results
    odd = set(listed["names"]) - set(names)
    assert odd
    assert all(results[n]["error_code"] == "Client.BadBackupEntry" for n in odd), results
    assert set(names) <= emulator.store.names()
    assert not any(s[0] in ("restoring", "queued") for s in widget._statuses.values())


@pytest.mark.parametrize("version", [None, [2], {"v": 2}, 2.5, "x"])
def test_a_header_with_an_odd_version_is_skipped_not_raised(
    emulator: Emulator, session: Session, isolated_env: Path, version: Any
) -> None:
    names = sorted(emulator.store.names())[:2]
    run = BulkDelete(session, names)
    assert all(r["is_success"] for r in run.run().values())
    assert run.backup_path is not None
    header = {
        "format": FORMAT_LINES,
        "version": version,
        "project_id": session.project_id,
        "region": session.region_name,
        "created_at": "2099-01-01T00:00:00+00:00",  # newer than the real one
    }
    (run.backup_path.parent / "backup-odd.jsonl").write_text(json.dumps(header) + "\n")
    widget = JobConfigTable(session=session)
    widget.wait_loaded(10)
    assert [f["file"] for f in widget.list_trash()] == [run.backup_path.name]
    assert not widget.error
    results = restore(session, "latest")
    assert all(results[n]["is_success"] for n in names), results


def test_a_backup_with_only_its_header_is_never_latest(emulator: Emulator, session: Session) -> None:
    trash = Trash()
    with trash.create(session) as writer:
        writer.append(
            "kept", {"config_name": "kept", "app_url": "/a/", "boot_file_url": "/a/t.py", **_REQUIRED}
        )
    real = writer.path
    # A run that stopped right after creating its file (a crash): header, no config.
    crashed = trash.create(session)
    assert trash.latest(session) == real
    assert crashed.path not in trash.files()
    crashed.close(remove_if_empty=False)


@pytest.mark.parametrize(
    ("variable", "value"), [("MODELARTS_TRASH_KEEP_DAYS", "abc"), ("MODELARTS_TRASH_KEEP_FILES", "-3")]
)
def test_a_bad_retention_setting_is_named(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=rf"\${variable} must be a number of .*, not '{value}'"):
        Trash()
