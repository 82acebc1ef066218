"""A backup is tied to its project: `latest` is this project's newest, and another project's
backup is refused unless allowed (SDK, magic and widget). All against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from modelarts_widgets import JobConfigTable
from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import BulkDelete, Session
from modelarts_widgets.sdk.restore import BulkRestore
from modelarts_widgets.sdk.trash import (
    Trash,
    restore,
)
from tests.conftest import wait_until

OTHER_PROJECT = "b" * 32


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
