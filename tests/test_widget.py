"""JobConfigTable's logic without a browser: loading, selection rules, protection, deletes."""

from __future__ import annotations

import json

import pytest

from modelarts_widgets import JobConfigTable
from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import Session
from modelarts_widgets.sdk.bulk import DEFAULT_DELETE_CONCURRENCY

from .conftest import Recorder, front, wait_until

__all__ = ["Recorder", "front", "wait_until"]  # imported from here by older test files


@pytest.fixture
def table(session: Session) -> JobConfigTable:
    widget = JobConfigTable(session=session, protect=["prod-*"])
    widget.wait_loaded(10)
    return widget


def test_loads_every_config_with_display_fields(emulator: Emulator, table: JobConfigTable) -> None:
    assert table.phase == "ready"
    assert table.project == emulator.project_id
    assert {r["name"] for r in table.rows} == emulator.store.names()
    row = table.rows[0]
    assert set(row) == {"name", "desc", "engine", "version", "created", "lock"}


def test_protected_rows_are_locked_and_never_selected(emulator: Emulator, table: JobConfigTable) -> None:
    prod = sorted(n for n in emulator.store.names() if n.startswith("prod-"))
    assert prod
    assert all(r["lock"] for r in table.rows if r["name"] in prod)
    other = sorted(emulator.store.names() - set(prod))[0]
    table.selected = [prod[0], other, "not-a-config"]
    assert table.selected == [other]


def test_protection_default_comes_from_the_environment(
    emulator: Emulator, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELARTS_PROTECT", "prod-*, yolov5-*")
    widget = JobConfigTable(session=session)
    widget.wait_loaded(10)
    assert widget.protect == ["prod-*", "yolov5-*"]
    locked = {r["name"] for r in widget.rows if r["lock"]}
    assert locked == {n for n in emulator.store.names() if n.startswith(("prod-", "yolov5-"))}


def test_confirmed_delete_from_the_page_deletes_exactly_the_selection_once(
    emulator: Emulator, table: JobConfigTable
) -> None:
    before = emulator.store.names()
    chosen = sorted(n for n in before if not n.startswith("prod-"))[:2]
    table.selected = chosen
    message = {"type": "delete", "names": chosen, "token": "t-1"}
    front(table, message)
    front(table, message)  # a double click, or a resent message
    wait_until(lambda: not table.running and len(table.results) == 2)
    assert emulator.store.names() == before - set(chosen)
    assert all(emulator.count("DELETE", n) == 1 for n in chosen)
    assert table.results == {n: {"is_success": True} for n in chosen}
    assert table.selected == []


def test_the_page_cannot_widen_the_choice(emulator: Emulator, table: JobConfigTable) -> None:
    names = sorted(n for n in emulator.store.names() if not n.startswith("prod-"))
    table.selected = names[:1]
    prod = next(n for n in emulator.store.names() if n.startswith("prod-"))
    before = emulator.store.names()
    recorder = Recorder(table)
    front(table, {"type": "delete", "names": [names[0], names[1], prod], "token": "t-2"})
    # Not even the selected name: a confirmation naming another set deletes nothing.
    assert not table.running
    assert not table.results
    assert emulator.store.names() == before
    assert emulator.count("DELETE") == 0
    assert any("selection changed" in m.get("rejected", "") for m in recorder.messages)


def test_delete_selected_reports_failures_and_retry_reruns_only_them(
    emulator: Emulator, table: JobConfigTable
) -> None:
    names = sorted(n for n in emulator.store.names() if not n.startswith("prod-"))[:3]
    emulator.faults.fail_names = {names[1]: [403, "ModelArts.0108", "You are not authorized."]}
    table.selected = names
    results = table.delete_selected()
    assert results[names[1]] == {
        "is_success": False,
        "error_code": "ModelArts.0108",
        "error_msg": "You are not authorized.",
    }
    assert results[names[0]] == results[names[2]] == {"is_success": True}
    assert table.selected == [names[1]]  # the failure stays selected; deleted ones drop out
    emulator.faults.fail_names = {}
    sent_before = emulator.count("DELETE")
    table.retry_failed(wait=True)
    assert emulator.count("DELETE") == sent_before + 1
    assert table.results == {names[1]: {"is_success": True}}
    assert not set(names) & emulator.store.names()


def test_statuses_reach_the_page_in_batches(emulator: Emulator, session: Session) -> None:
    emulator.store.replace([{"config_name": f"c-{i:04d}", "create_time": i} for i in range(200)])
    widget = JobConfigTable(session=session)
    widget.wait_loaded(10)
    recorder = Recorder(widget)
    widget.selected = [r["name"] for r in widget.rows]
    widget.delete_selected()
    statuses = [m for m in recorder.messages if m.get("type") == "statuses"]
    final: dict[str, list[str]] = {}
    for message in statuses:
        final.update(message["updates"])
    assert {n for n, s in final.items() if s[0] == "deleted"} == {f"c-{i:04d}" for i in range(200)}
    assert len(statuses) < 60  # batched, not one message per state change (there are 400)
    assert statuses[-1]["counts"]["deleted"] == 200


def test_stop_keeps_what_was_not_sent(emulator: Emulator, session: Session) -> None:
    table = JobConfigTable(session=session, protect=["prod-*"], backup=False)
    table.wait_loaded(10)
    emulator.hold("delete")  # the first DELETEs stay in flight until released
    names = sorted(n for n in emulator.store.names() if not n.startswith("prod-"))
    table.selected = names
    table.delete_selected(wait=False)
    emulator.wait_held(DEFAULT_DELETE_CONCURRENCY)
    front(table, {"type": "stop"})
    emulator.release()
    wait_until(lambda: not table.running, 15)
    deleted = {n for n, r in table.results.items() if r["is_success"]}
    cancelled = {n for n, r in table.results.items() if r.get("error_code") == "Client.Cancelled"}
    assert deleted
    assert cancelled
    assert deleted | cancelled == set(names)
    assert emulator.store.names() >= cancelled
    assert not deleted & emulator.store.names()
    # Only those in flight at Stop were sent: nothing is sent after it.
    assert emulator.count("DELETE") == len(deleted) == DEFAULT_DELETE_CONCURRENCY


def test_refresh_clears_marks_and_drops_vanished_names(emulator: Emulator, table: JobConfigTable) -> None:
    names = sorted(n for n in emulator.store.names() if not n.startswith("prod-"))[:3]
    table.selected = names
    emulator.store.delete(names[0])  # deleted elsewhere meanwhile
    table.refresh()
    table.wait_loaded(10)
    assert table.selected == names[1:]
    assert names[0] not in {r["name"] for r in table.rows}


def test_no_credentials_show_in_the_banner(monkeypatch: pytest.MonkeyPatch) -> None:
    widget = JobConfigTable()
    widget.wait_loaded(10)
    assert widget.phase == "error"
    assert widget.error["code"] == "Client.NoCredentials"
    assert "environment variables" in widget.error["message"]
    assert widget.error["hint"]


def test_missing_list_permission_shows_the_code_and_what_to_do(emulator: Emulator, session: Session) -> None:
    emulator.faults.deny = ["list"]
    widget = JobConfigTable(session=session)
    widget.wait_loaded(10)
    assert widget.phase == "error"
    assert widget.error["code"] == "ModelArts.0108"
    assert "modelarts:trainConfig:list" in widget.error["hint"]


def test_unreachable_endpoint_is_a_banner_not_a_traceback(emulator: Emulator) -> None:
    env = {**emulator.env(), "MODELARTS_ENDPOINT": "http://127.0.0.1:9"}
    widget = JobConfigTable(session=Session(environ=env, max_retries=0))
    widget.wait_loaded(10)
    assert widget.error["code"] == "Client.Unreachable"
    assert "refused" in widget.error["message"]


def test_no_secret_in_synced_state(emulator: Emulator, table: JobConfigTable) -> None:
    state = json.dumps(table.get_state(), default=str)
    secret = emulator.env()["HUAWEICLOUD_SDK_SK"]
    assert secret not in state
    assert secret not in repr(table)


def test_wait_loaded_sees_an_interrupt_message_at_once(emulator: Emulator, session: Session) -> None:
    """A kernel's interrupt message comes as interrupt_main(), which wakes no blocked join: the
    quick-start's table.wait_loaded() must still stop at once on a slow listing."""
    import _thread
    import threading

    from .conftest import Background, main_thread_waits, waited

    emulator.hold("list")
    seen = threading.Event()
    table = JobConfigTable(session=session)
    # Ctrl-C once wait_loaded() waits; the held listing is let go only once it has raised
    # (TimeoutError in join() if not).
    calling = threading.Event()  # the main thread waits in wait_loaded() alone, not in Thread.start
    presses = Background(
        lambda: emulator.wait_held(1, timeout=10),
        waited(calling),
        lambda: wait_until(main_thread_waits),
        _thread.interrupt_main,
        waited(seen, 5),
    )
    try:
        calling.set()  # no threading wait until table.wait_loaded(): the Ctrl-C comes in there
        with pytest.raises(KeyboardInterrupt):
            table.wait_loaded(60)
        seen.set()
    finally:
        emulator.release()
    presses.join()
    table.wait_loaded(10)
    assert table.phase == "ready"
    assert len(table.rows) == len(emulator.store.names())
