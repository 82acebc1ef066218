"""Issue 12, the widget's Python side: consent, page writes, options, already gone, interrupts."""

from __future__ import annotations

import _thread
import threading
from pathlib import Path
from typing import Any

import pytest

from modelarts_widgets import JobConfigTable
from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import Session
from modelarts_widgets.sdk import bulk as bulk_module
from modelarts_widgets.sdk.trash import Trash

from .conftest import CTRL_C, Background, Recorder, front, main_thread_waits, wait_until, waited

GONE = {"is_success": True, "already_gone": True}


@pytest.fixture
def table(session: Session, tmp_path: Path) -> JobConfigTable:
    widget = JobConfigTable(session=session, protect=["prod-*"], backup=Trash(tmp_path / "trash"))
    widget.wait_loaded(10)
    return widget


def _plain(emulator: Emulator, n: int) -> list[str]:
    return sorted(x for x in emulator.store.names() if not x.startswith("prod-"))[:n]


def page_writes(widget: JobConfigTable, state: dict[str, Any]) -> None:
    """Deliver a state update as the page's ``model.save_changes()`` does, through the comm."""
    widget._handle_msg(
        {"content": {"data": {"method": "update", "state": state, "buffer_paths": []}}, "buffers": []}
    )


# -- 4. the confirmation is the contract -----------------------------------------------------------


def test_a_selection_changed_by_a_cell_while_confirming_deletes_nothing(
    emulator: Emulator, table: JobConfigTable
) -> None:
    a, b, other = _plain(emulator, 3)
    table.selected = [a, b]  # the page showed "Delete 2 configs (a, b)?"
    table.selected = [other]  # a cell changes the selection while the confirmation is open
    recorder = Recorder(table)
    before = emulator.store.names()
    front(table, {"type": "delete", "names": [a, b], "token": "c-1"})
    assert not table.running
    assert emulator.store.names() == before
    assert emulator.count("DELETE") == 0
    assert any("selection changed" in m.get("rejected", "") for m in recorder.messages)
    # Confirming what is now selected works.
    front(table, {"type": "delete", "names": [other], "token": "c-2"})
    wait_until(lambda: not table.running and bool(table.results))
    assert emulator.store.names() == before - {other}


@pytest.mark.parametrize("confirmed", ["subset", "superset", "duplicates"])
def test_a_confirmation_must_name_exactly_the_selection(
    emulator: Emulator, table: JobConfigTable, confirmed: str
) -> None:
    a, b, c = _plain(emulator, 3)
    table.selected = [a, b]
    names = {"subset": [a], "superset": [a, b, c], "duplicates": [a, a, b]}[confirmed]
    before = emulator.store.names()
    front(table, {"type": "delete", "names": names, "token": f"x-{confirmed}"})
    assert not table.running
    assert emulator.store.names() == before


# -- 5. the page owns only the selection ---------------------------------------------------------------


def test_page_writes_to_other_traits_are_refused(emulator: Emulator, table: JobConfigTable) -> None:
    rows, phase = list(table.rows), table.phase
    page_writes(table, {"rows": [], "phase": "error", "error": {"message": "forged"}, "undo_count": 9})
    assert table.rows == rows
    assert table.phase == phase
    assert table.error == {}
    assert table.undo_count == 0
    name = _plain(emulator, 1)[0]
    page_writes(table, {"selected": [name]})
    assert table.selected == [name]


def test_a_page_writing_running_false_cannot_start_a_second_run(
    emulator: Emulator, table: JobConfigTable
) -> None:
    first, second = _plain(emulator, 1), _plain(emulator, 2)[1:]
    emulator.hold("get", "delete")  # the first run stays in flight until released
    table.selected = first
    front(table, {"type": "delete", "names": first, "token": "r-1"})
    assert table.running
    page_writes(table, {"running": False})
    assert table.running
    table.selected = first + second  # the page may still tick
    front(table, {"type": "delete", "names": first + second, "token": "r-2"})
    assert table.delete_selected(wait=False) == {}
    emulator.release()
    wait_until(lambda: not table.running, timeout=20)
    assert set(table.results) == set(first)
    assert emulator.count("DELETE", second[0]) == 0


# -- 6. options are checked ---------------------------------------------------------------------------


def test_a_mistyped_option_raises_naming_the_valid_ones(emulator: Emulator, session: Session) -> None:
    with pytest.raises(TypeError) as caught:
        JobConfigTable(session=session, protected=["prod-*"])  # type: ignore[call-arg]
    message = str(caught.value)
    assert "'protected'" in message
    assert "did you mean 'protect'?" in message
    assert "protect, concurrency, backup, selected, autoload" in message
    with pytest.raises(TypeError, match="'rows'"):
        JobConfigTable(session=session, rows=[{"name": "forged"}], autoload=False)  # type: ignore[call-arg]
    assert emulator.count("GET") == 0  # nothing was loaded for the refused tables
    ok = JobConfigTable(session=session, autoload=False, layout={"width": "500px"}, tooltip="configs")
    assert ok.layout.width == "500px"


# -- 1 and 8 in the widget --------------------------------------------------------------------------


def test_a_second_table_deleting_the_same_names_says_already_gone(
    emulator: Emulator, session: Session, tmp_path: Path
) -> None:
    names = _plain(emulator, 6)
    one = JobConfigTable(session=session, backup=Trash(tmp_path / "t1"))
    two = JobConfigTable(session=session, backup=Trash(tmp_path / "t2"))
    one.wait_loaded(10)
    two.wait_loaded(10)
    one.selected = two.selected = names
    assert one.delete_selected() == {key: {"is_success": True} for key in names}
    assert two.delete_selected() == dict.fromkeys(names, GONE)
    assert {two._statuses[n][0] for n in names} == {"already gone"}
    assert two.selected == []
    assert two.undo_count == 0  # nothing was backed up by that run: nothing it could restore
    assert one.undo_count == 6


def test_undo_includes_names_gone_after_this_run_backed_them_up(
    emulator: Emulator, table: JobConfigTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = _plain(emulator, 2)
    real_delete = emulator.store.delete

    def delete(name: str) -> dict[str, Any]:
        if name == a and a in emulator.store.names():
            real_delete(a)  # removed elsewhere between our backup and our DELETE
        return real_delete(name)

    monkeypatch.setattr(emulator.store, "delete", delete)
    table.selected = [a, b]
    assert table.delete_selected() == {a: GONE, b: {"is_success": True}}
    assert table.undo_count == 2
    monkeypatch.setattr(emulator.store, "delete", real_delete)
    table.undo(wait=True)
    assert {a, b} <= emulator.store.names()


def test_an_invalid_listed_name_fails_alone_in_the_widget(emulator: Emulator, session: Session) -> None:
    emulator.store.replace(
        [{"config_name": n, "create_time": 1_700_000_000_000} for n in ("ok-1", "bad name", "ok-2")]
    )
    widget = JobConfigTable(session=session)
    widget.wait_loaded(10)
    widget.selected = ["ok-1", "bad name", "ok-2"]
    results = widget.delete_selected()
    assert results["ok-1"] == results["ok-2"] == {"is_success": True}
    assert results["bad name"]["error_code"] == "Client.InvalidName"
    assert emulator.store.names() == {"bad name"}


# -- 9. interrupts never strand state ---------------------------------------------------------------


class Interrupt:
    """Raise KeyboardInterrupt from ``target.attr`` the first time it is called."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, target: Any, attr: str, *, after: bool = False
    ) -> None:
        original = getattr(target, attr)
        self.fired = False

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self.fired:
                return original(*args, **kwargs)
            self.fired = True
            if after:
                original(*args, **kwargs)
            raise KeyboardInterrupt

        monkeypatch.setattr(target, attr, wrapper)


@pytest.mark.parametrize(
    "where",
    ["send", "bulk start before", "bulk start after", "flush", "track", "wait", "wait twice"],
)
def test_ctrl_c_anywhere_in_delete_selected_leaves_the_table_usable(
    emulator: Emulator, table: JobConfigTable, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    first, second = _plain(emulator, 2)
    if where == "send":
        Interrupt(monkeypatch, table, "send")
    elif where == "bulk start before":
        Interrupt(monkeypatch, bulk_module.BulkDelete, "start")
    elif where == "bulk start after":
        Interrupt(monkeypatch, bulk_module.BulkDelete, "start", after=True)
    elif where == "flush":
        Interrupt(monkeypatch, table, "_flush")
    elif where == "track":
        Interrupt(monkeypatch, table, "_track", after=True)
    presses = None
    if where.startswith("wait"):
        # Ctrl-C while its first request (the backup read) is held in flight; once the table
        # has stopped, let it go, or (twice) press again while it waits for what is in flight
        # and then let it go (a signal landing just before that wait blocks is acted on when the
        # wait ends, as with a slow answer).
        emulator.hold("get", "delete")
        stopped = threading.Event()
        stop = table.stop

        def stop_and_tell() -> None:
            stop()
            stopped.set()

        monkeypatch.setattr(table, "stop", stop_and_tell)

        def held_and_waiting() -> None:
            emulator.wait_held(1, timeout=10)
            wait_until(main_thread_waits)

        if where == "wait twice":
            # The second press ends the waiting while the read is still held, also when it comes
            # as interrupt_main() (a kernel's interrupt message), which wakes no blocked wait.
            second = _thread.interrupt_main
            presses = Background(held_and_waiting, CTRL_C, waited(stopped), held_and_waiting, second)
        else:
            presses = Background(held_and_waiting, CTRL_C, waited(stopped), emulator.release)
    table.selected = [first]
    held_at_return = -1

    def delete_and_look() -> None:
        nonlocal held_at_return
        try:
            table.delete_selected()
        finally:
            held_at_return = emulator.injector.held

    try:
        with pytest.raises(KeyboardInterrupt):
            delete_and_look()
    finally:
        emulator.release()
    if where == "wait twice":
        assert held_at_return == 1
    if presses is not None:
        presses.join()
    wait_until(lambda: not table.running, timeout=20)
    # Usable: the next delete runs, and the first name has one true status.
    table.selected = [n for n in (first, second) if n in emulator.store.names()]
    table.delete_selected()
    assert not table.running
    assert second not in emulator.store.names()
    assert first not in emulator.store.names() or table._statuses[first][0] in ("cancelled", "failed")


@pytest.mark.parametrize("where", ["send", "flush", "track", "thread start"])
def test_ctrl_c_anywhere_in_undo_leaves_the_table_usable(
    emulator: Emulator, table: JobConfigTable, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    names = _plain(emulator, 2)
    table.selected = names
    table.delete_selected()
    assert table.undo_count == 2
    original = threading.Thread.start
    if where == "send":
        Interrupt(monkeypatch, table, "send")
    elif where == "flush":
        Interrupt(monkeypatch, table, "_flush")
    elif where == "track":
        Interrupt(monkeypatch, table, "_track", after=True)
    else:

        def start(thread: threading.Thread) -> None:
            if thread.name == "modelarts-bulk-restore":  # the restore job's coordinator
                raise KeyboardInterrupt
            original(thread)

        monkeypatch.setattr(threading.Thread, "start", start)
    with pytest.raises(KeyboardInterrupt):
        table.undo(wait=True)
    wait_until(lambda: not table.running, timeout=20)
    monkeypatch.setattr(threading.Thread, "start", original)
    monkeypatch.setattr(table, "send", JobConfigTable.send.__get__(table))
    monkeypatch.setattr(table, "_flush", JobConfigTable._flush.__get__(table))
    monkeypatch.setattr(table, "_track", JobConfigTable._track.__get__(table))
    table.undo(wait=True)
    assert not table.running
    assert set(names) <= emulator.store.names()
