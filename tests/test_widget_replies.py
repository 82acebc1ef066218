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
