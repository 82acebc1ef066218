"""Listing every page and deleting many configs, with faults injected, over real HTTP."""

from __future__ import annotations

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import BulkDelete, Session, delete_job_configs
from modelarts_widgets.sdk.bulk import FINAL_STATES, iter_config_pages, list_all_configs

from .conftest import Background, wait_until


def test_all_pages_are_listed_once(emulator: Emulator, session: Session) -> None:
    pages = list(iter_config_pages(session, per_page=7))
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    names = [c["config_name"] for page in pages for c in page]
    assert sorted(names) == sorted(emulator.store.names())
    assert emulator.count("GET") == 5


def test_listing_passes_search_and_sort_to_the_server(emulator: Emulator, session: Session) -> None:
    configs = list_all_configs(session, search_content="prod", sort_by="create_time", order="asc")
    assert configs
    assert all("prod" in c["config_name"] for c in configs)
    times = [c["create_time"] for c in configs]
    assert times == sorted(times)


def test_bulk_delete_removes_exactly_the_chosen_names(emulator: Emulator, session: Session) -> None:
    before = emulator.store.names()
    chosen = sorted(before)[:12]
    seen: list[tuple[str, str]] = []
    results = delete_job_configs(session, chosen, on_status=lambda n, s, r: seen.append((n, s)))
    assert list(results) == chosen
    assert all(r == {"is_success": True} for r in results.values())
    assert emulator.store.names() == before - set(chosen)
    assert {n for n, s in seen if s == "deleted"} == set(chosen)


def test_bulk_delete_with_faults_reports_the_truth(emulator: Emulator, session: Session) -> None:
    emulator.store.replace([{"config_name": f"cfg-{i:03d}", "create_time": i} for i in range(300)])
    emulator.faults.seed = 11
    emulator.injector.update({"error_rate": 0.15, "retry_after": 0, "seed": 11})
    before = emulator.store.names()
    chosen = sorted(before)[:200]
    bulk = BulkDelete(session, chosen, concurrency=6)
    results = bulk.run()
    deleted = {n for n, r in results.items() if r["is_success"]}
    failed = {n for n, r in results.items() if not r["is_success"]}
    assert set(results) == set(chosen)
    assert deleted | failed == set(chosen)
    assert all(bulk.states[n] in FINAL_STATES for n in chosen)
    emulator.faults.error_rate = 0
    assert emulator.store.names() == before - deleted
    for name in failed:  # a failure is true: the config is still there, or the message says unknown
        assert name in emulator.store.names() or "unknown" in results[name]["error_msg"]
    assert all(results[n]["error_code"] and results[n]["error_msg"] for n in failed)


def test_lost_answer_counts_as_deleted_and_is_not_resent(emulator: Emulator, session: Session) -> None:
    name = sorted(emulator.store.names())[0]
    emulator.faults.drop_after_names = [name]
    results = delete_job_configs(session, [name])
    assert results[name] == {"is_success": True}
    assert name not in emulator.store.names()
    assert emulator.count("DELETE", name) == 1
    assert emulator.count("GET", name) == 2  # the backup, then the check


def test_dropped_before_the_work_is_resent_after_a_check(emulator: Emulator, session: Session) -> None:
    name = sorted(emulator.store.names())[0]
    emulator.injector.update({"error_rate": 1.0, "kinds": ["drop"], "fault_methods": ["DELETE"], "seed": 1})
    # The faults stop once the first DELETE was dropped.
    stop = Background(
        lambda: wait_until(lambda: emulator.injector.injected["drop"] > 0),
        lambda: emulator.injector.update({"error_rate": 0.0}),
    )
    result = delete_job_configs(session, [name])[name]
    stop.join()
    # The first DELETE never arrived; whatever was sent after it, the final status must match
    # the store.
    assert result["is_success"] is (name not in emulator.store.names())


def test_cancel_stops_what_was_not_sent(emulator: Emulator, session: Session) -> None:
    emulator.hold("delete")  # the first two DELETEs stay in flight until released
    before = emulator.store.names()
    chosen = sorted(before)
    bulk = BulkDelete(session, chosen, concurrency=2, backup=False).start()
    emulator.wait_held(2)
    bulk.cancel()
    emulator.release()
    results = bulk.wait(10)
    assert bulk.finished.is_set()
    cancelled = {n for n, r in results.items() if r.get("error_code") == "Client.Cancelled"}
    deleted = {n for n, r in results.items() if r["is_success"]}
    assert cancelled
    assert deleted
    assert deleted | cancelled == set(chosen)
    assert emulator.store.names() == before - deleted
    # Only the two in flight were sent, and they finished: nothing was sent after cancel().
    assert emulator.count("DELETE") == len(deleted) == 2


def test_skipped_names_are_never_sent(emulator: Emulator, session: Session) -> None:
    a, b = sorted(emulator.store.names())[:2]
    results = delete_job_configs(session, [a, b], skip={b: "protected by prod-*"})
    assert results[a] == {"is_success": True}
    assert results[b]["error_code"] == "Client.Protected"
    assert b in emulator.store.names()
    assert emulator.count("DELETE", b) == 0


def test_throttled_server_slows_the_run_down_but_it_finishes(emulator: Emulator, session: Session) -> None:
    emulator.injector.update({"rate_limit": 40, "retry_after": 1})
    chosen = sorted(emulator.store.names())[:25]
    results = delete_job_configs(session, chosen, concurrency=8)
    assert all(r["is_success"] for r in results.values())
    assert not set(chosen) & emulator.store.names()


def test_listing_sees_an_interrupt_message_while_it_waits_for_a_page(
    emulator: Emulator, session: Session
) -> None:
    """The magic lists on the kernel's main thread: a kernel's interrupt message (interrupt_main(),
    which wakes no blocked wait) must stop it while it waits for a later page, not after it."""
    import _thread
    import threading

    import pytest

    from .conftest import main_thread_waits, waited

    emulator.hold("list")
    seen = threading.Event()
    presses = Background(
        lambda: emulator.wait_held(1, timeout=10),
        lambda: emulator.release(keep_holding=True),  # the first page goes; the next are held
        lambda: emulator.wait_held(1, timeout=10),
        lambda: wait_until(main_thread_waits),
        _thread.interrupt_main,
        waited(seen, 5),  # the held page is let go only once the listing has raised
    )
    try:
        with pytest.raises(KeyboardInterrupt):
            list_all_configs(session, per_page=10)
        seen.set()
    finally:
        emulator.release()
    presses.join()
