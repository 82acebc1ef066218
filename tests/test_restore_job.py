"""Restore is a bulk job: each name reported once, stoppable, a lost create answer checked not
resent, and a soak under faults where every name ends with one true status."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.emulator.faults import FAULT_KINDS, MALFORMED_KINDS
from modelarts_widgets.sdk import BulkDelete, Session
from modelarts_widgets.sdk.restore import FINAL_STATES, BulkRestore
from modelarts_widgets.sdk.trash import (
    BackupFile,
    create_body,
    restore,
)
from tests.helpers_trash import _REQUIRED

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def _same(now: dict[str, Any], saved: dict[str, Any]) -> bool:
    """The config holds every field its backup's create call sends."""
    wanted = create_body(saved)
    return {k: create_body(now).get(k) for k in wanted} == wanted


# -- 4. restore is a bulk job ----------------------------------------------------------------------


def test_bulk_restore_reports_each_name_once_and_can_be_stopped(emulator: Emulator, session: Session) -> None:
    names = sorted(emulator.store.names())
    run = BulkDelete(session, names)
    run.run()
    emulator.hold("create")  # two creates stay in flight until stopped
    seen: Counter[str] = Counter()
    job = BulkRestore(
        session,
        "latest",
        concurrency=2,
        on_status=lambda n, s, r: seen.update([n]) if s in FINAL_STATES else None,
    ).start()
    emulator.wait_held(2)
    job.cancel()
    emulator.release()
    results = job.wait(20)
    assert set(results) == set(names)
    assert all(seen[n] == 1 for n in names)
    restored = {n for n, r in results.items() if r["is_success"]}
    cancelled = {n for n, r in results.items() if r.get("error_code") == "Client.Cancelled"}
    assert restored | cancelled == set(names)
    assert cancelled
    assert emulator.store.names() & set(names) == restored


def test_a_lost_create_answer_is_checked_not_resent(emulator: Emulator, session: Session) -> None:
    names = sorted(emulator.store.names())[:2]
    run = BulkDelete(session, names)
    run.run()
    emulator.faults.drop_after_names = [names[0]]  # created, then the connection drops
    emulator.faults.fail_names = {}
    results = restore(session, run.backup_path)  # type: ignore[arg-type]
    assert results == {n: {"is_success": True} for n in names}
    assert emulator.count("POST") == 2  # one each: the lost answer was checked, not resent
    assert emulator.count("GET", names[0]) == 3  # the backup read, exists?, and the check after
    assert set(names) <= emulator.store.names()


def test_a_restore_stopped_while_checking_a_failed_create_says_so(
    emulator: Emulator, session: Session
) -> None:
    name = sorted(emulator.store.names())[0]
    run = BulkDelete(session, [name])
    run.run()
    emulator.faults.error_rate = 1.0  # every create answered 500: it may or may not have happened
    emulator.faults.kinds = ["500"]
    emulator.faults.fault_methods = ["POST"]
    job = BulkRestore(session, run.backup_path, concurrency=1)  # type: ignore[arg-type]
    lookup = job._lookup
    calls = []

    def lookup_then_stop(looked_up: str) -> Any:
        calls.append(looked_up)
        found = lookup(looked_up)
        if len(calls) == 2:  # the check after the failed create: the user stops the job now
            job.cancel()
        return found

    job._lookup = lookup_then_stop  # type: ignore[method-assign]
    result = job.run()[name]
    assert emulator.count("POST") == 1  # not sent again once stopped
    assert name not in emulator.store.names()
    assert result["is_success"] is False
    assert "stopped" in result["error_msg"]
    assert "attempts" not in result["error_msg"]


SOAK_MIXES = {
    # The example: 30% of requests answered 5xx or with the connection dropped.
    "5xx-and-lost-30pct": (0.30, ["500", "503", "drop", "drop_after"]),
    # The delete soak's mix: 10% of every fault kind, garbled answers included.
    "delete-soak-mix-10pct": (0.10, [*FAULT_KINDS, *MALFORMED_KINDS]),
}


@pytest.mark.parametrize("mix", sorted(SOAK_MIXES))
def test_restore_soak_under_faults_every_name_ends_with_one_true_status(
    emulator: Emulator, session: Session, mix: str
) -> None:
    emulator.store.replace(
        [
            {
                "config_name": f"soak-{i:04d}",
                "config_desc": f"config {i}",
                "app_url": "/code/",
                "boot_file_url": "/code/train.py",
                "data_url": f"/data/{i}/",
                "train_url": "/out/",
                "parameter": [{"label": "lr", "value": str(i)}],
                "create_time": i,
                **_REQUIRED,
            }
            for i in range(300)
        ]
    )
    names = sorted(emulator.store.names())
    run = BulkDelete(session, names)
    assert all(r["is_success"] for r in run.run().values())
    saved = BackupFile.load(run.backup_path).configs  # type: ignore[arg-type]
    rate, kinds = SOAK_MIXES[mix]
    emulator.injector.update({"error_rate": rate, "kinds": kinds, "retry_after": 0.1, "seed": 13})
    started = time.monotonic()
    finals: Counter[str] = Counter()
    requests_before = len(emulator.requests)
    results = BulkRestore(
        session,
        run.backup_path,  # type: ignore[arg-type]
        on_status=lambda n, s, r: finals.update([n]) if s in FINAL_STATES else None,
    ).run()
    elapsed = time.monotonic() - started
    injected = dict(emulator.injector.injected)
    emulator.injector.update({"error_rate": 0.0})
    store = emulator.store.snapshot()
    restored = {n for n, r in results.items() if r["is_success"]}
    failed = {n: r for n, r in results.items() if not r["is_success"]}
    mismatches = [
        n
        for n in names
        if ((n in restored) != (n in store) and not (n in failed and "unknown" in failed[n]["error_msg"]))
        or (n in store and not _same(store[n], saved[n]))
    ]
    summary = {
        "mix": mix,
        "configs": len(names),
        "faults_injected": injected,
        "restored": len(restored),
        "failed": len(failed),
        "failure_codes": dict(Counter(r["error_code"] for r in failed.values())),
        "requests": len(emulator.requests) - requests_before,
        "posts": emulator.count("POST"),
        "store_mismatches": len(mismatches),
        "names_without_one_final_status": sum(1 for n in names if finals[n] != 1),
        "seconds": round(elapsed, 2),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"restore-soak-{mix}.json").write_text(json.dumps(summary, indent=2))
    assert set(results) == set(names)
    assert summary["names_without_one_final_status"] == 0, summary
    assert mismatches == [], summary
    assert len(restored) >= 0.95 * len(names), summary
