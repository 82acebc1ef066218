"""The emulator's hold fault: a request waits in flight until the test releases it, so stop and
cancel tests need no latency and no sleeps."""

from __future__ import annotations

import threading

import pytest

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import Session
from modelarts_widgets.sdk.configs import CONFIGS, delete_config


def test_a_held_delete_waits_until_released(emulator: Emulator, session: Session) -> None:
    name = sorted(emulator.store.names())[0]
    emulator.hold("delete")
    worker = threading.Thread(target=delete_config, args=(session, name))
    worker.start()
    emulator.wait_held(1)
    assert name in emulator.store.names()  # received, not yet performed
    assert worker.is_alive()
    emulator.release()
    worker.join(10)
    assert not worker.is_alive()
    assert name not in emulator.store.names()
    # Released: later requests are not held.
    other = sorted(emulator.store.names())[0]
    delete_config(session, other)
    assert other not in emulator.store.names()


def test_only_the_named_operations_are_held(emulator: Emulator, session: Session) -> None:
    emulator.hold("delete")
    assert session.call("GET", CONFIGS)["configs"]  # a list is not held
    assert emulator.injector.held == 0
    emulator.release()


def test_waiting_for_more_than_are_held_times_out(emulator: Emulator) -> None:
    emulator.hold("get")
    with pytest.raises(TimeoutError):
        emulator.wait_held(1, timeout=0.1)
    emulator.release()


@pytest.mark.parametrize("value", [["drop"], "delete", [1]])
def test_an_unknown_operation_to_hold_is_refused(emulator: Emulator, value: object) -> None:
    with pytest.raises(ValueError, match="hold"):
        emulator.injector.update({"hold": value})
    assert emulator.faults.hold == []


def test_a_release_that_keeps_holding_holds_the_next_requests(emulator: Emulator, session: Session) -> None:
    first, second = sorted(emulator.store.names())[:2]
    emulator.hold("delete")
    worker = threading.Thread(target=delete_config, args=(session, first))
    worker.start()
    emulator.wait_held(1)
    emulator.release(keep_holding=True)
    worker.join(10)
    assert first not in emulator.store.names()  # the held one went on
    worker = threading.Thread(target=delete_config, args=(session, second))
    worker.start()
    emulator.wait_held(1)  # the next one is held again
    assert second in emulator.store.names()
    emulator.release()
    worker.join(10)
    assert second not in emulator.store.names()
