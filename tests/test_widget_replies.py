"""Issue 16: a page request that can be refused is answered by a reply tied to its request id,
not by a field riding on the statuses messages."""

from __future__ import annotations

import re
from pathlib import Path

import anywidget
import pytest

from modelarts_widgets import JobConfigTable
from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import Session
from modelarts_widgets.sdk.trash import Trash
from modelarts_widgets.widget import PageRequest, ReplyMessage, StatusesMessage

from .conftest import Recorder, front, wait_until


@pytest.fixture
def table(session: Session, tmp_path: Path) -> JobConfigTable:
    widget = JobConfigTable(session=session, backup=Trash(tmp_path / "trash"))
    widget.wait_loaded(10)
    return widget


def _replies(recorder: Recorder) -> list[dict[str, object]]:
    return [m for m in recorder.messages if m.get("type") == "reply"]


def test_a_refused_delete_is_answered_with_its_request_id(emulator: Emulator, table: JobConfigTable) -> None:
    a, b = sorted(emulator.store.names())[:2]
    table.selected = [b]
    recorder = Recorder(table)
    front(table, {"type": "delete", "id": "q-7", "names": [a], "token": "t-1"})
    assert emulator.count("DELETE") == 0
    [reply] = _replies(recorder)
    assert reply["id"] == "q-7"
    assert reply["request"] == "delete"
    assert reply["ok"] is False
    assert reply["reason"] == "changed"
    assert "selection changed" in str(reply["rejected"])
    assert not any("rejected" in m for m in recorder.messages if m.get("type") == "statuses")


def test_a_started_delete_is_answered_ok_with_its_request_id(
    emulator: Emulator, table: JobConfigTable
) -> None:
    a = sorted(emulator.store.names())[0]
    table.selected = [a]
    recorder = Recorder(table)
    front(table, {"type": "delete", "id": "q-8", "names": [a], "token": "t-2"})
    wait_until(lambda: not table.running and bool(table.results))
    assert a not in emulator.store.names()
    assert _replies(recorder) == [{"type": "reply", "id": "q-8", "request": "delete", "ok": True}]


def test_retry_and_restore_from_the_page_are_answered_too(emulator: Emulator, table: JobConfigTable) -> None:
    recorder = Recorder(table)
    front(table, {"type": "retry", "id": "q-9"})  # nothing failed: nothing to retry
    front(table, {"type": "restore", "id": "q-10", "file": "no-such.jsonl", "names": ["x"], "token": "r-1"})
    wait_until(lambda: len(_replies(recorder)) == 2)
    replies = {str(r["id"]): r for r in _replies(recorder)}
    assert replies["q-9"]["ok"] is False
    assert replies["q-9"]["reason"] == "retry"
    assert replies["q-10"]["ok"] is False
    assert replies["q-10"]["reason"] == "restore"
    assert emulator.count("POST") == 0


def test_undo_from_the_page_is_answered_and_a_vanished_backup_raises_nowhere(
    emulator: Emulator, table: JobConfigTable, tmp_path: Path
) -> None:
    a = sorted(emulator.store.names())[0]
    table.selected = [a]
    table.delete_selected()
    assert table.undo_count == 1
    for backup in (tmp_path / "trash").iterdir():
        backup.unlink()  # removed by hand, or pruned by another kernel
    recorder = Recorder(table)
    front(table, {"type": "undo", "id": "q-11"})  # the comm handler must not raise (conftest)
    wait_until(lambda: len(_replies(recorder)) == 1)
    [reply] = _replies(recorder)
    assert reply["id"] == "q-11"
    assert reply["request"] == "undo"
    assert reply["ok"] is False
    assert reply["reason"] == "restore"
    assert table.error["code"] == "Client.RestoreRefused"
    assert emulator.count("POST") == 0


def test_undo_from_the_page_while_a_job_runs_is_refused_with_its_id(
    emulator: Emulator, table: JobConfigTable
) -> None:
    a, b = sorted(emulator.store.names())[:2]
    table.selected = [a]
    table.delete_selected()
    emulator.hold("delete")
    table.selected = [b]
    recorder = Recorder(table)
    front(table, {"type": "delete", "id": "q-12", "names": [b], "token": "t-3"})
    emulator.wait_held(1)
    try:
        front(table, {"type": "undo", "id": "q-13"})
        wait_until(lambda: len(_replies(recorder)) == 2)
    finally:
        emulator.release()
    replies = {str(r["id"]): r for r in _replies(recorder)}
    assert replies["q-12"]["ok"] is True
    assert replies["q-13"]["ok"] is False
    assert replies["q-13"]["reason"] == "restore"
    wait_until(lambda: not table.running)
    assert a not in emulator.store.names()  # the refused undo re-created nothing


def _own_synced_traits() -> set[str]:
    base = set(anywidget.AnyWidget.class_traits(sync=True))
    return set(JobConfigTable.class_traits(sync=True)) - base


def test_the_contract_in_widget_py_and_the_page_types_name_every_synced_trait() -> None:
    root = Path(__file__).resolve().parents[1]
    source = (root / "modelarts_widgets" / "widget.py").read_text(encoding="utf-8")
    block = source[source.index("# Synced traits") : source.index("# Custom messages")]
    documented = set(re.findall(r"^#   (\w+)\s{2,}", block, re.MULTILINE))
    assert documented == _own_synced_traits()
    js = (root / "js" / "widget.js").read_text(encoding="utf-8")
    traits = js[js.index("* The synced traits.") : js.index("}} Traits")]
    assert set(re.findall(r"(\w+): ", traits)) == _own_synced_traits()


def test_the_page_requests_in_widget_py_and_the_page_types_agree() -> None:
    root = Path(__file__).resolve().parents[1]
    js = (root / "js" / "widget.js").read_text(encoding="utf-8")
    typedef = js[js.index("* A custom message to Python.") : js.index("}} PageRequest") + 1]
    js_asks: dict[str, bool] = {}  # type -> whether the page sends it with an id
    for kinds, fields in re.findall(r"\{type: ([^,}]+)([^}]*)\}", typedef):
        for kind in re.findall(r'"(\w+)"', kinds):
            js_asks[kind] = "id: string" in fields
    source = (root / "modelarts_widgets" / "widget.py").read_text(encoding="utf-8")
    block = source[
        source.index("# Custom messages, page -> kernel") : source.index("# Custom messages, kernel")
    ]
    py_asks: dict[str, bool] = {}  # type -> whether the kernel answers it with a ReplyMessage
    # A row: "#   kind | kind   fields -> answer", maybe continued on more indented lines.
    for kinds, rest in re.findall(r"^#   (\w[\w |]*?)\s{2,}(.*(?:\n#  {4,}.*)*)", block, re.MULTILINE):
        for kind in kinds.split("|"):
            py_asks[kind.strip()] = "-> a ReplyMessage" in rest
    assert js_asks == py_asks
    assert set(re.findall(r"(\w+)\??: ", typedef)) == set(PageRequest.__annotations__)


def test_the_kernel_messages_in_widget_py_and_the_page_types_agree() -> None:
    js = (Path(__file__).resolve().parents[1] / "js" / "widget.js").read_text(encoding="utf-8")
    for message in (StatusesMessage, ReplyMessage):
        name = message.__name__
        typedef = js[js.rindex("@typedef {{", 0, js.index(f"}} {name}")) : js.index(f"}} {name}")]
        assert set(re.findall(r"(\w+)\??: ", typedef)) == set(message.__annotations__), name


def test_retry_from_the_page_while_a_job_runs_says_a_job_is_running(
    emulator: Emulator, table: JobConfigTable
) -> None:
    a, b = sorted(emulator.store.names())[:2]
    emulator.faults.fail_names = {a: [500, "ModelArts.0010", "internal error"]}
    table.selected = [a]
    table.delete_selected()  # a fails: there is something to retry
    emulator.faults.fail_names = {}
    emulator.hold("delete")
    table.selected = [b]
    try:
        table.delete_selected(wait=False)
        emulator.wait_held(1)
        recorder = Recorder(table)
        front(table, {"type": "retry", "id": "q-12"})
        [reply] = _replies(recorder)
    finally:
        emulator.release()
    wait_until(lambda: not table.running)
    assert reply == {
        "type": "reply",
        "id": "q-12",
        "request": "retry",
        "ok": False,
        "reason": "busy",
        "rejected": reply["rejected"],
    }
    assert "running" in str(reply["rejected"])
    assert a in emulator.store.names()  # the retry sent nothing


def test_the_statuses_say_which_job_they_belong_to(emulator: Emulator, table: JobConfigTable) -> None:
    """An Undo whose configs all exist again ends with no name restored or restoring: the page
    cannot tell it from a delete by the counts (it said "Deleted 0 of 1" and offered "Retry
    failed"), so each statuses message names its job."""
    a = sorted(emulator.store.names())[0]
    table.selected = [a]
    recorder = Recorder(table)
    table.delete_selected()
    deleting = [m for m in recorder.messages if m.get("type") == "statuses"]
    assert deleting
    assert {m.get("job") for m in deleting} == {"delete"}
    emulator.store.replace([*emulator.store.snapshot().values(), {"config_name": a}])  # re-created meanwhile
    recorder.messages.clear()
    table.undo(wait=True)
    assert table._statuses[a][0] == "skipped"
    restoring = [m for m in recorder.messages if m.get("type") == "statuses"]
    assert restoring
    assert {m.get("job") for m in restoring} == {"restore"}
    recorder.messages.clear()
    front(table, {"type": "hello", "language": "en"})  # a view opened afterwards
    [hello] = recorder.messages
    assert hello["job"] == "restore"
    assert hello["counts"] == {"skipped": 1}


@pytest.mark.parametrize(
    "request_",
    [
        {"type": "delete", "id": "q-20", "names": "abc", "token": "t-20"},
        {"type": "delete", "id": "q-21", "names": ["abc"]},
        {"type": "restore", "id": "q-22", "file": "x.jsonl", "names": None, "token": "t-22"},
    ],
)
def test_a_malformed_confirmation_is_refused_with_its_request_id(
    emulator: Emulator, table: JobConfigTable, request_: dict[str, object]
) -> None:
    a = sorted(emulator.store.names())[0]
    table.selected = [a]
    recorder = Recorder(table)
    front(table, {**request_, "names": [a] if request_["names"] == ["abc"] else request_["names"]})
    [reply] = _replies(recorder)
    assert reply["id"] == request_["id"]
    assert reply["ok"] is False
    assert emulator.count("DELETE") == 0
    assert emulator.count("POST") == 0
    assert a in emulator.store.names()


def test_a_confirmation_sent_twice_acts_and_answers_once(emulator: Emulator, table: JobConfigTable) -> None:
    a = sorted(emulator.store.names())[0]
    table.selected = [a]
    recorder = Recorder(table)
    for _ in range(2):
        front(table, {"type": "delete", "id": "q-30", "names": [a], "token": "t-30"})
    wait_until(lambda: not table.running and bool(table.results))
    assert _replies(recorder) == [{"type": "reply", "id": "q-30", "request": "delete", "ok": True}]
    assert emulator.count("DELETE", a) == 1
