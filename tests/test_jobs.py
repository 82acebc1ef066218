"""The shared job model (sdk/jobs.Job) as a caller uses it: start, cancel and wait from
several threads at once still run each name once."""

from __future__ import annotations

import _thread
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import BulkDelete, Session
from modelarts_widgets.sdk.restore import BulkRestore
from modelarts_widgets.sdk.trash import Trash
from tests.conftest import Background, wait_until


def _at_once(count: int, action: Callable[[], object]) -> list[BaseException]:
    """Run ``action`` on ``count`` threads released together; the exceptions they raised."""
    barrier = threading.Barrier(count)
    raised: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            action()
        except BaseException as exc:
            raised.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return raised


def test_two_starts_at_once_start_one_delete(emulator: Emulator, session: Session) -> None:
    names = sorted(emulator.store.names())[:20]
    for name in names:  # one job a name: each try is a fresh race
        job = BulkDelete(session, [name], backup=False)
        raised = _at_once(2, job.start)
        job.wait(20)
        assert [type(exc) for exc in raised] == [RuntimeError]
        assert emulator.count("DELETE", name) == 1
        assert job.results[name]["is_success"]


def test_two_waits_at_once_start_one_delete(emulator: Emulator, session: Session) -> None:
    names = sorted(emulator.store.names())[:20]
    for name in names:
        job = BulkDelete(session, [name], backup=False)
        assert _at_once(2, lambda job=job: job.wait(20)) == []
        assert emulator.count("DELETE", name) == 1


def test_two_restore_starts_at_once_create_each_config_once(
    emulator: Emulator, session: Session, tmp_path: Path
) -> None:
    trash = Trash(tmp_path / "trash")
    names = sorted(emulator.store.names())[:10]
    deleted = BulkDelete(session, names, backup=trash)
    deleted.run()
    assert deleted.backup_path is not None
    for name in names:
        job = BulkRestore(session, deleted.backup_path, [name])
        raised = _at_once(2, job.start)
        job.wait(20)
        assert [type(exc) for exc in raised] == [RuntimeError]
        assert job.results[name] == {"is_success": True}
    creates = [p for m, p, _ in emulator.requests if m == "POST"]
    assert len(creates) == len(names)


def test_a_skipped_name_ends_skipped_even_when_the_job_is_stopped_first(
    emulator: Emulator, session: Session
) -> None:
    kept, other = sorted(emulator.store.names())[:2]
    seen: list[tuple[str, str]] = []
    job = BulkDelete(
        session,
        [kept, other],
        skip={kept: "protected by 'prod-*'"},
        on_status=lambda name, state, _result: seen.append((name, state)),
    )
    job.cancel()
    results = job.wait(5)
    assert results[kept] == {
        "is_success": False,
        "error_code": "Client.Protected",
        "error_msg": "protected by 'prod-*'",
    }
    assert job.states[kept] == "skipped"
    assert results[other]["error_code"] == "Client.Cancelled"
    assert sorted(seen) == [(kept, "skipped"), (other, "cancelled")]
    assert emulator.count("DELETE") == 0
    assert emulator.count("GET", kept) == 0


def test_both_jobs_are_imported_from_the_sdk_alike() -> None:
    from modelarts_widgets import sdk
    from modelarts_widgets.sdk.jobs import Job

    assert issubclass(sdk.BulkDelete, Job)
    assert sdk.BulkRestore is BulkRestore
    assert issubclass(sdk.BulkRestore, Job)


def test_run_sees_an_interrupt_message_at_once(emulator: Emulator, session: Session) -> None:
    """A kernel's interrupt message arrives as interrupt_main(), which wakes no blocked wait."""
    first, second = sorted(emulator.store.names())[:2]
    emulator.hold("delete")
    job = BulkDelete(session, [first, second], concurrency=1, backup=False)
    # Ctrl-C while the first DELETE is held; the second is released only once run() has seen it.
    presses = Background(
        lambda: emulator.wait_held(1, timeout=10),
        _thread.interrupt_main,
        lambda: wait_until(job._cancel.is_set, timeout=5),
        emulator.release,
    )
    try:
        with pytest.raises(KeyboardInterrupt):
            job.run()
    finally:
        emulator.release()
    presses.join()
    assert job.states == {first: "deleted", second: "cancelled"}
    assert emulator.count("DELETE", second) == 0
    assert second in emulator.store.names()


def test_run_interrupted_while_it_starts_the_job_stops_the_job(
    emulator: Emulator, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C can land anywhere in run(), also in start() once the coordinator is off (say in
    Thread.start, which waits for the new thread): the job must stop, not delete on unattended."""
    from modelarts_widgets.sdk.jobs import Job

    first, second = sorted(emulator.store.names())[:2]
    emulator.hold("delete")
    launch = Job._launch

    def launch_then_ctrl_c(job: Job) -> None:
        launch(job)
        emulator.wait_held(1, timeout=10)  # the job is sending: its first DELETE is held
        raise KeyboardInterrupt  # as a Ctrl-C landing in start() after the thread started

    monkeypatch.setattr(Job, "_launch", launch_then_ctrl_c)
    job = BulkDelete(session, [first, second], concurrency=1, backup=False)
    # The first DELETE is let go once run() has seen the Ctrl-C.
    presses = Background(lambda: wait_until(job._cancel.is_set, timeout=5), emulator.release)
    try:
        with pytest.raises(KeyboardInterrupt):
            job.run()
    finally:
        emulator.release()
    wait_until(job.finished.is_set)
    assert job.states == {first: "deleted", second: "cancelled"}
    assert emulator.count("DELETE", second) == 0
    assert second in emulator.store.names()
    presses.join()


def test_wait_with_a_timeout_sees_an_interrupt_message_at_once(emulator: Emulator, session: Session) -> None:
    """As run() and wait() without one: a kernel's interrupt message (interrupt_main()) wakes no
    blocked wait, so a long timeout must not hold the Ctrl-C back until the job ends."""
    from .conftest import main_thread_waits, waited

    first = sorted(emulator.store.names())[0]
    emulator.hold("delete")
    job = BulkDelete(session, [first], concurrency=1, backup=False).start()
    seen = threading.Event()
    # The held DELETE is let go only once wait() has raised (TimeoutError in join() if not).
    calling = threading.Event()  # the main thread waits in wait() alone, not in Thread.start
    presses = Background(
        lambda: emulator.wait_held(1, timeout=10),
        waited(calling),
        lambda: wait_until(main_thread_waits),  # Ctrl-C once wait() waits
        _thread.interrupt_main,
        waited(seen, timeout=5),
    )
    try:
        calling.set()  # no threading wait until job.wait(): the Ctrl-C comes in there
        with pytest.raises(KeyboardInterrupt):
            job.wait(timeout=60)
        seen.set()
    finally:
        emulator.release()
    presses.join()
    job.wait()
    assert job.states == {first: "deleted"}
