"""The trash is private by construction: backups 0600 in 0700 folders whatever the umask, open
folders tightened, another user's or a shared folder refused, and no secret in a header.
All against the emulator."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from modelarts_widgets.emulator import DEFAULT_AK, DEFAULT_SK, Emulator
from modelarts_widgets.sdk import BulkDelete, Session
from modelarts_widgets.sdk.trash import (
    FORMAT_LINES,
    Trash,
    UnsafeTrashError,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


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


# -- found by the breaker ----------------------------------------------------------------------


_UNDER_UMASK = """
import json, os, sys
os.umask(int(sys.argv[3], 8))
from modelarts_widgets.sdk import BulkDelete, Session
from modelarts_widgets.sdk.trash import Trash
run = BulkDelete(Session(environ=json.loads(sys.argv[1])), sys.argv[4:], backup=Trash(sys.argv[2]))
print(json.dumps({"results": run.run(), "path": str(run.backup_path)}))
"""


@pytest.mark.parametrize("umask", ["277", "377"])
def test_a_write_protecting_umask_still_makes_a_usable_private_trash(emulator: Emulator, umask: str) -> None:
    """Missing parents made under umask 0277 were 0500: the trash inside could not be made."""
    base = Path(tempfile.mkdtemp(prefix="umask-trash-"))
    try:
        base.chmod(0o777)
        folder = base / "home" / ".modelarts_widgets" / "trash"
        names = sorted(emulator.store.names())[:3]
        as_user: list[str] = []
        if os.geteuid() == 0:  # root ignores folder modes: run as an ordinary user
            if shutil.which("setpriv") is None:
                pytest.skip("needs setpriv to run as an ordinary user")
            as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        root = Path(__file__).resolve().parents[1]
        child_env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(root), "HOME": str(base)}
        command = [*as_user, sys.executable, "-c", _UNDER_UMASK, json.dumps(emulator.env())]
        done = subprocess.run(
            [*command, str(folder), umask, *names],
            check=False,
            env=child_env,
            cwd=base,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout.splitlines()[-1])
        assert all(r["is_success"] for r in answer["results"].values()), answer["results"]
        assert not set(names) & emulator.store.names()
        assert _mode(Path(answer["path"])) == 0o600
        for made in (folder, folder.parent, folder.parent.parent):
            assert _mode(made) == 0o700, made
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize(("mode", "content"), [(0o1777, None), (0o1777, "x.log"), (0o2775, "notes.txt")])
def test_a_shared_folder_is_refused_not_made_private(
    emulator: Emulator, session: Session, tmp_path: Path, mode: int, content: str | None
) -> None:
    """$MODELARTS_TRASH_DIR=/tmp (or a team's folder) was chmod-ed 0700: every other user broke."""
    shared = tmp_path / "shared"
    shared.mkdir()
    if content:
        (shared / content).write_text("theirs")
    shared.chmod(mode)
    names = sorted(emulator.store.names())[:2]
    results = BulkDelete(session, names, backup=Trash(shared)).run()
    assert all(r["error_code"] == "Client.BackupFailed" for r in results.values()), results
    assert all("shared" in r["error_msg"] for r in results.values()), results
    assert emulator.count("DELETE") == 0
    assert stat.S_IMODE(shared.stat().st_mode) == mode
    assert [p.name for p in shared.iterdir()] == ([content] if content else [])
