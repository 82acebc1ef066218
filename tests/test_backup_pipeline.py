"""Pipelined, durable backups: no delete before its backup line is on disk, and a failed write,
a failed fsync, a size cap, odd text or odd details, or another run's pruning never leave a
deleted config unrestorable. All against the emulator."""

from __future__ import annotations

import errno
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import BulkDelete, Session, bulk
from modelarts_widgets.sdk import trash as trash_module
from modelarts_widgets.sdk.estimator import delete_config
from modelarts_widgets.sdk.trash import (
    BackupFile,
    Trash,
    restore,
)
from tests.conftest import wait_until

# -- pipelined, durable backups -------------------------------------------------------------------


def test_no_delete_is_sent_before_its_backup_line_is_on_disk_and_deletes_start_early(
    emulator: Emulator, session: Session, monkeypatch: pytest.MonkeyPatch
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

    monkeypatch.setattr(bulk, "delete_tolerating_gone", checked_delete)  # checks the disk first
    run = BulkDelete(session, names, concurrency=2)
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


# -- found by the breaker ----------------------------------------------------------------------


def test_a_failed_write_never_leaves_a_deleted_config_unrestorable(
    emulator: Emulator, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write cut short (disk full) must not glue the torn line to the next config's line."""
    names = sorted(emulator.store.names())[:8]
    real_write = os.write
    lines = Counter[str]()

    def disk_full_on_the_third_line(fd: int, data: Any) -> int:
        if bytes(data).startswith(b'{"config_name"'):
            lines["n"] += 1
            if lines["n"] == 3:
                real_write(fd, bytes(data[:20]))
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(trash_module.os, "write", disk_full_on_the_third_line)
    run = BulkDelete(session, names, concurrency=1)
    results = run.run()
    monkeypatch.undo()
    deleted = {n for n, r in results.items() if r.get("is_success")}
    assert deleted, "the configs backed up before the failure are deleted"
    assert len(deleted) < len(names)
    for name in set(names) - deleted:
        assert results[name]["error_code"] == "Client.BackupFailed", name
        assert name in emulator.store.names(), name
    assert run.backup_path is not None
    assert deleted <= set(BackupFile.load(run.backup_path).configs)
    restored = restore(session, run.backup_path, sorted(deleted))
    assert all(r.get("is_success") for r in restored.values()), restored
    assert set(names) <= emulator.store.names()


def test_after_a_failed_fsync_no_later_append_counts_as_on_disk(session: Session) -> None:
    """An fsync error may have dropped lines written before it; a later fsync can't prove them."""
    real_fsync = os.fsync
    with Trash().create(session) as writer:
        writer.append("first", {"config_name": "first"})
        trash_module.os.fsync = _raise_eio  # type: ignore[assignment]
        try:
            with pytest.raises(OSError):
                writer.append("second", {"config_name": "second"})
        finally:
            trash_module.os.fsync = real_fsync
        with pytest.raises(OSError):
            writer.append("third", {"config_name": "third"})


def _raise_eio(fd: int) -> None:
    raise OSError(errno.EIO, "Input/output error")


def test_a_run_never_writes_a_backup_too_big_to_restore(
    emulator: Emulator, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = sorted(emulator.store.names())
    monkeypatch.setattr(trash_module, "MAX_BACKUP_BYTES", 6000)  # room for a few configs only
    run = BulkDelete(session, names)
    results = run.run()
    deleted = {n for n, r in results.items() if r.get("is_success")}
    assert deleted
    assert len(deleted) < len(names)
    for name in set(names) - deleted:
        assert results[name]["error_code"] == "Client.BackupFailed", name
        assert "MB" in results[name]["error_msg"], results[name]
    assert run.backup_path is not None
    assert run.backup_path.stat().st_size <= 6000
    restored = restore(session, run.backup_path)
    assert {n for n, r in restored.items() if r.get("is_success")} == deleted
    assert set(names) <= emulator.store.names()


def test_another_runs_pruning_never_removes_a_backup_still_being_written(
    emulator: Emulator, session: Session, tmp_path: Path
) -> None:
    """Retention of 0 days: a short run's pruning removed a long run's file while it was appended to."""
    retention = {"keep_days": 0.0}
    emulator.faults.latency = 0.03
    names = sorted(emulator.store.names())
    long_run = BulkDelete(session, names[:24], backup=Trash(tmp_path, **retention), concurrency=2).start()
    wait_until(lambda: long_run.backup_path is not None and long_run.states[names[0]] != "queued", 10)
    short = BulkDelete(session, names[24:26], backup=Trash(tmp_path, **retention)).run()  # prunes at its end
    assert all(r["is_success"] for r in short.values())
    results = long_run.wait(60)
    deleted = {n for n, r in results.items() if r.get("is_success")}
    assert len(deleted) == 24
    assert long_run.backup_path is not None
    assert long_run.backup_path.exists()
    assert deleted <= set(BackupFile.load(long_run.backup_path).configs)


def test_a_lone_surrogate_in_details_is_backed_up_and_read_back(session: Session) -> None:
    """JSON allows "\\udce9" escapes; json.loads keeps them, and UTF-8 cannot encode them."""
    details = {"config_name": "odd-text", "config_desc": "caf\udce9 \u6570\u636e"}
    with Trash().create(session) as writer:
        writer.append("odd-text", details)  # raised UnicodeEncodeError, killing a reader thread
    assert BackupFile.load(writer.path).configs == {"odd-text": details}


def test_a_details_answer_that_restore_would_refuse_is_not_followed_by_a_delete(
    emulator: Emulator, session: Session
) -> None:
    """Details without the config's own name saved an entry restore refuses, and then deleted it."""
    names = sorted(emulator.store.names())[:4]
    real_call = session.call

    def odd_details(method: str, path: str, **kwargs: Any) -> Any:
        answer = real_call(method, path, **kwargs)
        if method == "GET" and path.endswith("/" + names[0]):
            answer.pop("config_name", None)
        if method == "GET" and path.endswith("/" + names[1]):
            answer["config_name"] = "someone-else"
        return answer

    session.call = odd_details  # type: ignore[method-assign]
    run = BulkDelete(session, names)
    results = run.run()
    session.call = real_call  # type: ignore[method-assign]
    for name in names[:2]:
        assert results[name]["error_code"] == "Client.BackupFailed", results[name]
        assert name in emulator.store.names()
    assert run.backup_path is not None
    assert all(results[n]["is_success"] for n in names[2:])
    restored = restore(session, run.backup_path)
    assert all(restored[n]["is_success"] for n in names[2:]), restored
    assert set(names) <= emulator.store.names()
